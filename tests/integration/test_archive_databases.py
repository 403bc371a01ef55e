"""The archive on SQLite, PostgreSQL and MariaDB: migration 0007 down and up, catalogue entries with
dates and JSON, combined search with the capped count, notices unique per day, and a full deletion."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from dualrec.bootstrap.container import Container, build_container
from dualrec.core.approvals import Decision
from dualrec.core.identity import Principal
from dualrec.core.rbac import BUILTIN_ROLES
from dualrec.db.engine import make_engine
from dualrec.db.migrate import downgrade, upgrade
from dualrec.services.archive.catalogue import ArchiveFilters
from dualrec.services.common.context import Actor, RequestMeta
from dualrec.services.identity.seed import seed_demo
from tests.archive_fixtures import add_recording
from tests.conftest import ADMIN_PASSWORD, make_settings
from tests.services import isolated_database_url


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with isolated_database_url(request.param, str(tmp_path)) as url:
        yield url


def _actor(user_id: int, role: str, path: str = "/1/") -> Actor:
    p = Principal("user", user_id, f"u{user_id}", role, 1, path, BUILTIN_ROLES[role].permissions)
    return Actor(p, RequestMeta())


def test_archive_round_trip_on_backend(db_url: str, tmp_path: Path) -> None:
    upgrade(db_url)
    downgrade(db_url, "0006")
    engine = make_engine(db_url)
    tables = set(sa.inspect(engine).get_table_names())
    assert "archive_entries" not in tables and "deletion_requests" not in tables
    assert "customer_name_hash" not in {c["name"] for c in sa.inspect(engine).get_columns("tasks")}
    engine.dispose()
    c: Container = build_container(make_settings(tmp_path / "data", database_url=db_url), migrate=True)
    try:
        seed_demo(c.uows, admin_username="admin", admin_password=ADMIN_PASSWORD)
        base = datetime.now(UTC).replace(microsecond=0) - timedelta(days=360)  # D1 below: expires in ~5 days
        ids = [
            add_recording(
                c,
                branch_code=("BJ-CY", "SH")[i % 2],
                created_at=base + timedelta(days=i),
                verdict=("PASS", "FAIL")[i % 2],
                inputs_task={
                    "running_no": f"DB-{i}",
                    "customer_name": "钱七" if i < 3 else "孙八",
                    "business_type": "wealth",
                },
            )
            for i in range(6)
        ]
        admin = _actor(1, "admin")
        found = c.archive.search(
            actor=admin, filters=ArchiveFilters(customer_name="钱七", qc_verdict="PASS"), page=1, page_size=10
        )
        assert [e.recording_id for e in found.items] == [ids[2], ids[0]] and found.exact
        assert found.items[0].customer_name == "钱七" and not found.masked
        window = ArchiveFilters(recorded_from=base + timedelta(days=1), recorded_to=base + timedelta(days=4))
        page2 = c.archive.search(actor=admin, filters=window, page=2, page_size=2)
        assert page2.total == 3 and [e.recording_id for e in page2.items] == [ids[1]]
        bj = _actor(2, "branch_supervisor", "/1/2/")
        scoped = c.archive.search(actor=bj, filters=ArchiveFilters(), page=1, page_size=10)
        assert {e.recording_id for e in scoped.items} == {ids[0], ids[2], ids[4]} and scoped.masked
        assert scoped.items[0].customer_name in ("孙*", "钱*")
        entry = c.archive.update(
            actor=admin,
            recording_id=ids[0],
            changes={"contract_end": date(2026, 2, 28), "carrier_numbers": ["光盘-1"]},
        )
        assert entry.expires_on == date(2031, 2, 28) and entry.carrier_numbers == ("光盘-1",)
        # expiry notices: one per branch and day, whatever the backend
        c.archive.retention.put_policy(
            actor=admin, business_type="wealth", code="D1", basis="recorded_at", name=""
        )
        first = c.archive.retention.notify_expiring(days=30)
        again = c.archive.retention.notify_expiring(days=30)
        assert first.notices_added == 2 and again.notices_added == 0
        # the full chain deletes the files and leaves the tombstone
        d = c.archive.deletions
        req = d.request(actor=_actor(10, "branch_supervisor"), recording_id=ids[1], reason="到期")
        for user_id, role in ((11, "branch_supervisor"), (12, "compliance"), (13, "admin")):
            d.decide(actor=_actor(user_id, role), request_id=req.id, decision=Decision.APPROVE, comment="ok")
        gone = c.archive.get(actor=admin, recording_id=ids[1])[0]
        assert gone.status == "deleted" and gone.tombstone_seq is not None
        with c.uows() as uow:
            rec = uow.recordings.get(ids[1])
        assert rec is not None and rec.status == "deleted" and not c.blobs.exists(rec.blob_key)
    finally:
        c.close()


def test_two_syncs_racing_for_a_new_entry_both_succeed(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The archive.sync job and the QC follow-up both create the entry of a new recording: the one
    that inserts second must refresh the entry, not fail on the primary key (seen on PostgreSQL)."""
    from dualrec.db.repositories.archive import ArchiveRepository

    c = build_container(make_settings(tmp_path / "data", database_url=db_url), migrate=True)
    try:
        seed_demo(c.uows, admin_username="admin", admin_password=ADMIN_PASSWORD)
        rid = add_recording(c, verdict="REVIEW")  # catalogued by the first sync
        with c.uows() as uow:
            uow.recordings.update(rid, verdict="PASS")
            uow.commit()
        real_get = ArchiveRepository.get
        # the second sync looked before the first one's insert was committed: it saw no entry
        monkeypatch.setattr(ArchiveRepository, "get", lambda self, *a, **k: None)
        assert c.archive.sync_recording(rid) is True
        monkeypatch.setattr(ArchiveRepository, "get", real_get)
        with c.uows() as uow:
            entry = uow.archive.get(rid)
        assert entry is not None and entry.qc_verdict == "PASS"
    finally:
        c.close()
