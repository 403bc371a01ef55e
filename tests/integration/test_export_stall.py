"""A client that starts a big CSV export and stops reading must not freeze the server on SQLite.

The export used to hold its unit of work (on SQLite a ``BEGIN IMMEDIATE`` transaction, i.e. the
write lock) across every ``yield`` of the streamed body, so a stalled reader made every other request
wait for the lock and answer 500 "database is locked" after the 30 s busy timeout. The test runs a
real uvicorn server, fills the audit log with several MB, stalls a raw-socket reader mid-export and
checks that login, ``/auth/me`` and a write answer quickly meanwhile.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from dualrec.bootstrap.container import Container
from dualrec.db.models import AuditEventRow
from dualrec.services.common import audit
from dualrec.services.common.context import SYSTEM
from dualrec.services.identity.users_cli import create_user_as_system
from dualrec.settings import Settings
from tests.agent_support import _uvicorn
from tests.conftest import ADMIN_PASSWORD, CSRF, PASSWORD, login

ROWS = 30_000  # about 500 bytes of CSV each: ~15 MB, far more than both sockets' buffers


@pytest.fixture
def server(settings: Settings, container: Container) -> Iterator[str]:
    create_user_as_system(
        container.uows,
        username="auditor1",
        role="auditor",
        branch_code="HQ",
        display_name="审计员",
        password=PASSWORD,
    )
    now = datetime.now(UTC)
    rows = [
        {
            "at": now,
            "actor": f"filler-{i:06d}-" + "a" * 80,
            "actor_id": None,
            "action": "test.filler",
            "target_type": "thing",
            "target_id": str(i),
            "outcome": "success",
            "ip": "127.0.0.1",
            "user_agent": "u" * 255,
            "details": {},
            "prev_hash": "0" * 64,
            "hash": "f" * 64,
        }
        for i in range(ROWS)
    ]
    with container.uows() as uow:  # bulk filler rows (the export does not verify the chain)
        uow.session.execute(insert(AuditEventRow), rows)
        uow.commit()
    with _uvicorn(settings, container) as url:
        yield url


@contextmanager
def _login(base: str, username: str, password: str, timeout: float = 8.0) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, headers=CSRF, timeout=httpx.Timeout(timeout)) as client:
        r = client.post("/api/v1/auth/login", json={"username": username, "password": password})
        assert r.status_code == 200, r.text
        yield client


def test_a_stalled_csv_reader_does_not_block_other_requests(server: str) -> None:
    port = int(server.rsplit(":", 1)[1])
    with _login(server, "auditor1", PASSWORD) as exporter:
        cookie = "; ".join(f"{k}={v}" for k, v in exporter.cookies.items())
    with socket.create_connection(("127.0.0.1", port)) as stalled:
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window: the server stalls
        stalled.sendall(
            (
                "GET /api/v1/audit-events/export.csv HTTP/1.1\r\n"
                f"Host: 127.0.0.1:{port}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
            ).encode()
        )
        head = stalled.recv(1024)
        assert head.startswith(b"HTTP/1.1 200"), head
        time.sleep(1.5)  # the server fills the socket buffers and waits for us, mid-export

        started = time.monotonic()
        with _login(server, "admin", ADMIN_PASSWORD) as other:  # a write: a session row, an audit row
            me = other.get("/api/v1/auth/me")
            assert me.status_code == 200, me.text
            hq = me.json()["branch"]["id"]
            created = other.post(
                "/api/v1/branches", json={"name": "停滞测试", "code": "STALL", "parent_id": hq}
            )
            assert created.status_code == 201, created.text
            listed = other.get("/api/v1/audit-events", params={"page_size": 1})
            assert listed.status_code == 200, listed.text
        # the defect made these wait for SQLite's 30 s busy timeout and answer 500; a loaded CI
        # machine can be slow, so the bound only separates "did not wait for the lock" from that
        assert time.monotonic() - started < 20.0


def test_the_stalled_export_is_complete_when_read(server: str) -> None:
    """Paging must not lose or repeat rows: read the whole export and check its ids."""
    with (
        # completeness, not speed: a busy CI machine (browser tests beside it) once took > 8 s per read
        _login(server, "auditor1", PASSWORD, timeout=120.0) as client,
        client.stream("GET", "/api/v1/audit-events/export.csv") as r,
    ):
        assert r.status_code == 200
        body = b"".join(r.iter_bytes())
    lines = body.decode("utf-8-sig").splitlines()
    ids = [int(line.split(",", 1)[0]) for line in lines[1:]]
    assert len(ids) == len(set(ids)) >= ROWS
    assert ids == sorted(ids)


def test_reads_do_not_wait_for_a_writer(app_client: TestClient, container: Container) -> None:
    """Read-only requests begin DEFERRED on SQLite: while another transaction holds the write lock,
    ``/auth/me`` and the audit log still answer at once (they used to queue for the lock: 500 after 30 s)."""
    login(app_client, "admin", ADMIN_PASSWORD)
    with container.uows() as writer:  # BEGIN IMMEDIATE: holds SQLite's write lock until it ends
        audit.record(writer, actor=SYSTEM, action="test.writer_holds_the_lock")
        started = time.monotonic()
        me = app_client.get("/api/v1/auth/me")
        listed = app_client.get("/api/v1/audit-events", params={"page_size": 5})
        elapsed = time.monotonic() - started
        writer.commit()
    assert me.status_code == 200, me.text
    assert listed.status_code == 200, listed.text
    assert elapsed < 3.0
    assert "test.writer_holds_the_lock" not in {e["action"] for e in listed.json()["items"]}  # a snapshot


def test_a_read_only_unit_of_work_cannot_commit(container: Container) -> None:
    with container.uows.read() as uow, pytest.raises(RuntimeError):
        uow.commit()
