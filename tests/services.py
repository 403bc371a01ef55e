"""Live test services (PostgreSQL, MariaDB, Redis): per-test isolated databases, CI-aware skipping.

Under CI=true a missing service is a failure, never a skip.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

__all__ = ["IN_CI", "isolated_database_url", "redis_db_url", "require_service"]

IN_CI = os.environ.get("CI", "").lower() == "true"

SERVICES = {
    "postgresql": ("127.0.0.1", 5432),
    "mysql": ("127.0.0.1", 3306),
    "redis": ("127.0.0.1", 6379),
}


def redis_db_url(slot: int) -> str:
    """A Redis database for Celery tests, one set per parallel test worker (pytest-xdist's
    PYTEST_XDIST_WORKER gw0, gw1, …): ``slot`` 0–3 of worker k is database 2 + 4k + slot, so two
    workers' Celery queues never meet (Redis has 16 databases: up to 3 workers)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    k = int(worker) if worker.isdigit() else 0
    if not 0 <= slot < 4 or k > 2:
        raise ValueError(f"no Redis database for slot {slot} of worker {k} (run at most 3 workers)")
    return f"redis://127.0.0.1:6379/{2 + 4 * k + slot}"


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def require_service(name: str) -> None:
    host, port = SERVICES[name]
    if _reachable(host, port):
        return
    message = f"{name} is not reachable at {host}:{port}"
    if IN_CI:
        pytest.fail(message + " (CI=true: service tests must run)")
    pytest.skip(message)


@contextmanager
def isolated_database_url(kind: str, tmp_dir: str) -> Iterator[str]:
    """A fresh, empty database of ``kind`` (sqlite | postgresql | mysql), dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_dir}/test.sqlite3"
        return
    require_service(kind)
    import sqlalchemy as sa

    name = "t_" + uuid.uuid4().hex[:12]
    if kind == "postgresql":
        admin = sa.create_engine(
            "postgresql+psycopg://postgres@127.0.0.1:5432/test", isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            yield f"postgresql://postgres@127.0.0.1:5432/{name}"
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    elif kind == "mysql":
        admin = sa.create_engine("mysql+pymysql://root@127.0.0.1:3306/test", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(
                sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
            )
        try:
            yield f"mysql://root@127.0.0.1:3306/{name}"
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
            admin.dispose()
    else:
        raise ValueError(kind)
