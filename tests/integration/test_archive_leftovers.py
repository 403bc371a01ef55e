"""A deletion whose files could not all be removed (storage down) is finished later by
``dualrec archive retry-deletions``: what is still there stays listed, each retry is audited."""

from __future__ import annotations

import json
from pathlib import Path

from dualrec.bootstrap.container import build_container
from dualrec.core.approvals import Decision
from dualrec.core.audit import AuditAction
from dualrec.core.identity import Principal
from dualrec.core.rbac import BUILTIN_ROLES
from dualrec.db.repositories.audit import AuditFilter
from dualrec.services.common.context import Actor, RequestMeta
from dualrec.services.identity.seed import seed_demo
from dualrec.storage.ports import BlobStore
from tests.archive_fixtures import add_recording
from tests.cli_support import run_cli
from tests.conftest import ADMIN_PASSWORD, make_settings


def _actor(user_id: int, role: str) -> Actor:
    p = Principal("user", user_id, f"u{user_id}", role, 1, "/1/", BUILTIN_ROLES[role].permissions)
    return Actor(p, RequestMeta())


class Unreachable:
    """The store with deletions failing for the keys in ``down`` (an outage of part of the storage)."""

    def __init__(self, inner: BlobStore, down: set[str]) -> None:
        self.inner, self.down = inner, down

    def delete(self, key: str) -> bool:
        if key in self.down:
            raise OSError("storage node unreachable")
        return self.inner.delete(key)

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


def test_files_left_by_a_deletion_are_deleted_by_the_retry_command(tmp_path: Path) -> None:
    data = tmp_path / "data"
    c = build_container(make_settings(data), migrate=True)
    try:
        seed_demo(c.uows, admin_username="admin", admin_password=ADMIN_PASSWORD)
        rid = add_recording(c, branch_code="BJ-CY", verdict="PASS")
        with c.uows() as uow:
            rec = uow.recordings.get(rid)
        assert rec is not None and c.blobs.exists(rec.blob_key)
        d = c.archive.deletions
        d.blobs = Unreachable(c.blobs, {rec.blob_key})  # type: ignore[assignment]
        req = d.request(actor=_actor(10, "branch_supervisor"), recording_id=rid, reason="到期")
        for user_id, role in ((11, "branch_supervisor"), (12, "compliance"), (13, "admin")):
            d.decide(actor=_actor(user_id, role), request_id=req.id, decision=Decision.APPROVE, comment="ok")
        done = d.get(actor=_actor(1, "admin"), request_id=req.id)
        assert done.request.result["undeleted_keys"] == [rec.blob_key] and c.blobs.exists(rec.blob_key)
        # still down: the key stays listed, nothing is lost, the run is audited as a failure
        again = d.retry_undeleted()
        assert [(r.request_id, r.deleted, r.left) for r in again] == [(req.id, 0, (rec.blob_key,))]
    finally:
        c.close()
    # storage back: the command deletes it and says so
    run = run_cli(["archive", "retry-deletions", "--json"], data)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout.strip()) == {
        "request_id": req.id,
        "recording_id": rid,
        "deleted": 1,
        "left": [],
    }
    c = build_container(make_settings(data))
    try:
        assert not c.blobs.exists(rec.blob_key)
        assert (
            c.archive.deletions.get(actor=_actor(1, "admin"), request_id=req.id).request.result[
                "undeleted_keys"
            ]
            == []
        )
        assert c.archive.deletions.retry_undeleted() == []  # nothing left to do
        with c.uows() as uow:
            events, total = uow.audit.search(
                AuditFilter(action=AuditAction.ARCHIVE_LEFTOVERS_DELETED), offset=0, limit=10
            )
        assert total == 2 and sorted(e.outcome for e in events) == ["failure", "success"]
    finally:
        c.close()
