"""Migrations and the identity/audit stack on SQLite, PostgreSQL and MariaDB (real servers)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from dualrec.api.app import create_app
from dualrec.bootstrap.container import Container, build_container
from dualrec.db.engine import make_engine
from dualrec.db.migrate import downgrade, upgrade
from dualrec.services.common.audit import verify_chain
from dualrec.services.identity.seed import seed_demo
from tests.conftest import ADMIN_PASSWORD, CSRF, make_settings
from tests.services import isolated_database_url

BACKENDS = ["sqlite", "postgresql", "mysql"]
EXPECTED_TABLES = {
    "alembic_version",
    "api_keys",
    "api_nonces",
    "audit_events",
    "branches",
    "jobs",
    "roles",
    "sessions",
    "users",
}


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with isolated_database_url(request.param, str(tmp_path)) as url:
        yield url


@pytest.fixture
def backend_container(db_url: str, tmp_path: Path) -> Iterator[Container]:
    c = build_container(make_settings(tmp_path / "data", database_url=db_url), migrate=True)
    seed_demo(c.uows, admin_username="admin", admin_password=ADMIN_PASSWORD)
    yield c
    c.close()


def test_migrations_up_down_up(db_url: str) -> None:
    upgrade(db_url)
    engine = make_engine(db_url)
    assert set(sa.inspect(engine).get_table_names()) >= EXPECTED_TABLES
    downgrade(db_url, "base")
    assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(db_url)
    assert set(sa.inspect(engine).get_table_names()) >= EXPECTED_TABLES
    engine.dispose()


def test_sqlite_uses_wal_and_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/x.sqlite3")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_identity_stack_round_trip(backend_container: Container) -> None:
    c = backend_container
    with c.uows() as uow:
        hq = uow.branches.by_code("HQ")
        bj = uow.branches.by_code("BJ")
        cy = uow.branches.by_code("BJ-CY")
        assert hq and bj and cy and cy.path == f"/{hq.id}/{bj.id}/{cy.id}/"
        assert [b.code for b in uow.branches.subtree(bj.path)] == ["BJ", "BJ-CY"]
        when = datetime(2026, 11, 23, 8, 30, 15, 123456, tzinfo=UTC)
        uid = uow.users.add(
            username="wang", display_name="王小明·测试", password_hash="x", role="auditor", branch_id=cy.id
        )
        uow.users.update(uid, locked_until=when)
        uow.commit()
    with c.uows() as uow:
        user = uow.users.get(uid)
        assert user and user.display_name == "王小明·测试" and user.branch_name == "北京朝阳支行"
        assert user.locked_until == when  # aware UTC with microseconds on every backend
        found, total = uow.users.search(scope_path=bj.path, q="小明", branch_path=None, offset=0, limit=10)
        assert total == 1 and found[0].username == "wang"
        _, outside = uow.users.search(scope_path="/999999/", q=None, branch_path=None, offset=0, limit=10)
        assert outside == 0


def test_api_login_and_audit_chain_on_backend(backend_container: Container, tmp_path: Path) -> None:
    app = create_app(backend_container.settings, container=backend_container)
    with TestClient(app) as client:
        assert (
            client.post(
                "/api/v1/auth/login", json={"username": "admin", "password": "bad"}, headers=CSRF
            ).status_code
            == 401
        )
        r = client.post(
            "/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}, headers=CSRF
        )
        assert r.status_code == 200
        client.headers.update(CSRF)
        r = client.post("/api/v1/branches", json={"name": "深圳分行", "code": "SZ", "parent_id": 1})
        assert r.status_code == 201, r.text
        assert (
            client.post("/api/v1/branches", json={"name": "重复", "code": "SZ", "parent_id": 1}).status_code
            == 409
        )
        assert client.get("/api/v1/ready").json()["checks"]["database"] is True
    ok, bad, checked = verify_chain(backend_container.uows)
    assert ok and bad is None and checked >= 4
