"""Tamper evidence that does not trust the database (issue 14, items 3 and 4).

Someone with write access to the database alone rewrites history: a ``status.changed`` event is
changed (REVIEW → PASS), the chain and heads are recomputed and the checkpoint rows deleted. The next
export must refuse to sign over it, ``dualrec evidence audit`` must report it, and a package signed
over the forged history (by a server pointed at another log) must fail ``verify`` against the outside
checkpoint log. Audit rows: an edited ``ip`` and deleted newest rows (head left, or head rewritten
too) are found; rows hashed before migration 0010 stay verifiable on all three databases.
"""

from __future__ import annotations

import json
import stat
import uuid
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from dualrec.api.app import create_app
from dualrec.bootstrap.container import Container, build_container
from dualrec.bootstrap.evidence import evidence_notary
from dualrec.bootstrap.integrity import IntegrityAuditor
from dualrec.cli.evidence import app as evidence_app
from dualrec.core.audit import GENESIS_HASH, chain_hash
from dualrec.core.evidence import (
    EvidenceEvent,
    canonical_json,
    checkpoint_payload_v1,
    event_hash,
    format_at,
    frontier_extend,
    frontier_root,
)
from dualrec.core.identity import AuditEvent
from dualrec.db.engine import make_engine, make_session_factory
from dualrec.db.migrate import upgrade
from dualrec.db.models import AuditEventRow, EvidenceCheckpointRow, EvidenceEventRow, EvidenceHeadRow
from dualrec.db.repositories.audit import AuditFilter
from dualrec.db.uow import UnitOfWorkFactory
from dualrec.services.common import audit
from dualrec.services.common.audit_chain import check_audit_chain
from dualrec.services.common.context import SYSTEM
from dualrec.services.evidence import ledger
from dualrec.services.evidence.alerts import CheckpointLogError
from dualrec.services.evidence.integrity import last_audit, run_audit
from dualrec.services.evidence.signing_key import generate_key_file
from dualrec.services.identity.seed import seed_demo
from dualrec.storage.filesystem import FilesystemAppendLog
from dualrec.storage.ports import LogEntryExistsError
from tests.conftest import ADMIN_PASSWORD, login, make_settings
from tests.services import isolated_database_url

RID = "rec-integrity-1"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[dict[str, Any]]:
    settings = make_settings(tmp_path / "data")
    container = build_container(settings, migrate=True)
    seed_demo(container.uows, admin_username="admin", admin_password=ADMIN_PASSWORD)
    with container.uows() as uow:
        key = container.blobs.put(b"the recording", content_type="video/mp4").key
        ledger.record_blob(uow, container.blobs, subject_type="recording", subject_id=RID,
                           kind="blob.stored", name="recording.mp4", key=key)  # fmt: skip
        ledger.record_event(uow, subject_type="recording", subject_id=RID, kind="status.changed",
                            payload={"status": "done", "verdict": "REVIEW", "risk_score": 40})  # fmt: skip
        ledger.record_event(uow, subject_type="recording", subject_id="rec-other", kind="status.changed",
                            payload={"status": "done", "verdict": "FAIL", "risk_score": 90})  # fmt: skip
        audit.record(
            uow, actor=SYSTEM, action="recording.qc_finished", target_type="recording", target_id=RID
        )
        uow.commit()
    env = {"DUALREC_ENV": "test", "DUALREC_DATA_DIR": str(settings.data_dir), "DUALREC_LOG_JSON": "false"}
    yield {"container": container, "env": env, "log": settings.data_dir / "checkpoint-log"}
    container.close()


def _cli(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(evidence_app, list(args), env=env)
    return result.exit_code, result.output


def _forge_verdict(container: Container) -> None:
    """The attack of issue 14 item 3, with database write access only."""
    with container.uows() as uow:
        s = uow.session
        rows = list(s.scalars(select(EvidenceEventRow).order_by(EvidenceEventRow.seq)))
        target = next(r for r in rows if r.subject_id == RID and r.kind == "status.changed")
        target.payload = {**target.payload, "verdict": "PASS"}
        prev, last_of = GENESIS_HASH, dict[tuple[str, str], str]()
        for r in rows:  # recompute every hash and link from the start
            subject_prev = last_of.get((r.subject_type, r.subject_id), GENESIS_HASH)
            ev = EvidenceEvent(r.seq, r.subject_type, r.subject_id, r.kind, dict(r.payload), format_at(r.at),
                               prev, subject_prev, "")  # fmt: skip
            r.prev_hash, r.subject_prev_hash, r.hash = (
                ev.prev_hash,
                ev.subject_prev_hash,
                event_hash(prev, ev.body()),
            )
            prev = last_of[(r.subject_type, r.subject_id)] = r.hash
        head = s.get(EvidenceHeadRow, "global")
        assert head is not None
        head.hash = prev
        s.execute(delete(EvidenceCheckpointRow))
        uow.commit()


def _verdict(pkg: Path) -> str:
    with zipfile.ZipFile(pkg) as zf:
        events = json.loads(zf.read("ledger/events.json"))
    return str(next(e for e in events if e["kind"] == "status.changed")["payload"]["verdict"])


def _actions(container: Container, action: str) -> list[AuditEvent]:
    with container.uows() as uow:
        found, _ = uow.audit.search(AuditFilter(action=action), offset=0, limit=100)
    return found[::-1]  # oldest first


def _notices(container: Container) -> list[Any]:
    with container.uows() as uow:
        return [n for n in uow.archive.notices(branch_ids=None, limit=50) if n.kind == "integrity.alert"]


def test_rewritten_history_is_refused_audited_and_caught_against_the_outside_log(
    world: dict[str, Any], tmp_path: Path
) -> None:
    container, env, log = world["container"], world["env"], world["log"]
    genuine = tmp_path / "genuine.zip"
    assert _cli(env, "export", RID, "--out", str(genuine))[0] == 0
    code, out = _cli(env, "verify", str(genuine), "--checkpoint-log", str(log))
    assert code == 0 and "OK   [checkpoint log] checkpoint 1 is the outside log's" in out, out
    assert sorted(p.name for p in log.iterdir()) == ["checkpoint-000000000001.json"]
    institution = tmp_path / "institution.pub"
    with zipfile.ZipFile(genuine) as zf:
        institution.write_bytes(zf.read("keys/public_key.pem"))

    _forge_verdict(container)

    # the server no longer signs over the forged history: the log has a checkpoint the database lost
    code, out = _cli(env, "export", RID, "--out", str(tmp_path / "forged.zip"))
    assert code == 1, out
    assert "checkpoint 1 missing from the database but present in the outside log" in out, out
    assert not (tmp_path / "forged.zip").exists()
    alerts = _actions(container, "integrity.alert")
    assert (
        alerts
        and alerts[-1].outcome == "failure"
        and "checkpoint 1 missing" in json.dumps(alerts[-1].details)
    )
    assert len(_notices(container)) == 1  # the day's notice for head office

    # the audit names it, exits non-zero and records the failed run
    code, out = _cli(env, "audit")
    assert code == 1, out
    assert "FAIL checkpoint 1 missing from the database but present in the outside log" in out, out
    runs = _actions(container, "integrity.audited")
    assert runs[-1].outcome == "failure" and runs[-1].details["ok"] is False

    # a forger who can also point the server at another (empty) log gets a package signed over the
    # forged history: it passes on its own, even against the institution key ...
    forged = tmp_path / "forged.zip"
    code, out = _cli({**env, "DUALREC_CHECKPOINT_LOG_DIR": str(tmp_path / "empty-log")},
                     "export", RID, "--out", str(forged))  # fmt: skip
    assert code == 0, out
    assert _verdict(forged) == "PASS" and _verdict(genuine) == "REVIEW"
    assert _cli(env, "verify", str(forged), "--public-key", str(institution))[0] == 0
    # ... but not against the outside log, which still holds the genuine checkpoint 1
    code, out = _cli(
        env, "verify", str(forged), "--public-key", str(institution), "--checkpoint-log", str(log)
    )
    assert code == 1, out
    assert "FAIL [checkpoint log] checkpoint 1 rewritten: the package's differs from the outside log's" in out
    assert (
        _cli(env, "verify", str(genuine), "--checkpoint-log", str(log))[0] == 0
    )  # the genuine one still proves


def test_a_clean_system_audits_clean_and_signs_an_audited_checkpoint(
    world: dict[str, Any], tmp_path: Path
) -> None:
    container, env = world["container"], world["env"]
    code, out = _cli(env, "audit")
    assert code == 0, out
    assert "CLEAN" in out and "3 ledger events" in out and "audited checkpoint 1 signed" in out, out
    last = last_audit(container.uows)
    assert last is not None and last.ok and last.trigger == "cli" and last.checkpoint == 1
    assert last.log_entries == 0 and not _notices(container)  # (counted before the audited checkpoint)
    assert [p.name for p in world["log"].iterdir()] == [ledger.log_name(1)]
    # the package carries the chain from the audited checkpoint; verify checks it against the log
    with container.uows() as uow:
        ledger.record_event(uow, subject_type="recording", subject_id=RID, kind="status.changed",
                            payload={"status": "done", "verdict": "REVIEW", "reviewed": True})  # fmt: skip
        uow.commit()
    assert _cli(env, "checkpoint")[0] == 0
    pkg = tmp_path / "p.zip"
    assert _cli(env, "export", RID, "--out", str(pkg))[0] == 0
    code, out = _cli(env, "verify", str(pkg), "--server-log")
    assert code == 0, out
    assert "2 checkpoints 1..2 from the first: signatures and links intact" in out, out
    assert "OK   [checkpoint log] 2 checkpoints 1..2, links intact" in out, out


def test_an_edited_audit_row_and_deleted_newest_rows_are_detected(world: dict[str, Any]) -> None:
    container, env = world["container"], world["env"]
    assert _cli(env, "audit")[0] == 0  # anchors the audit head in an audited checkpoint
    with container.uows() as uow:
        for i in range(3):
            audit.record(uow, actor=SYSTEM, action="test.after", target_type="t", target_id=str(i))
        uow.commit()
        victim_id, action, ip = uow.session.execute(  # its ip was not covered by the hash before
            select(AuditEventRow.id, AuditEventRow.action, AuditEventRow.ip)
            .order_by(AuditEventRow.id)
            .limit(1)
        ).one()
    assert check_audit_chain(container.uows).ok

    with container.uows() as uow:
        uow.session.execute(update(AuditEventRow).where(AuditEventRow.id == victim_id).values(ip="10.6.6.6"))
        uow.commit()
    report = check_audit_chain(container.uows)
    assert not report.ok and report.first_bad_id == victim_id
    assert (
        f"audit row {victim_id} ({action}): content does not match its hash (altered row)" in report.problems
    )
    code, out = _cli(env, "audit")
    assert code == 1 and "content does not match its hash (altered row)" in out, out
    with container.uows() as uow:
        uow.session.execute(update(AuditEventRow).where(AuditEventRow.id == victim_id).values(ip=ip))
        uow.commit()

    # the newest rows deleted (down to one the audited checkpoint anchored), the head left as it was
    with container.uows() as uow:
        anchored = uow.evidence.latest_checkpoint()
        assert anchored is not None and anchored.audited and anchored.audit_seq
        anchored_rows = anchored.audit_seq
        ids = list(uow.session.scalars(select(AuditEventRow.id).order_by(AuditEventRow.id)))
        uow.session.execute(delete(AuditEventRow).where(AuditEventRow.id >= ids[anchored_rows - 1]))
        uow.commit()
        head_seq, _ = uow.audit.head()
    report = check_audit_chain(container.uows)
    assert any("the newest rows were deleted" in p for p in report.problems), report.problems
    # ... and with the head rewritten to match: the rows the audited checkpoint anchored are missing
    with container.uows() as uow:
        count = uow.session.scalar(select(sa.func.count()).select_from(AuditEventRow))
        last_hash = uow.session.scalar(select(AuditEventRow.hash).order_by(AuditEventRow.id.desc()).limit(1))
        head = uow.session.get(EvidenceHeadRow, "audit")
        assert head is not None and count is not None and count < head_seq
        head.seq, head.hash = count, last_hash
        uow.commit()
    assert check_audit_chain(container.uows).ok  # the table alone is consistent again
    code, out = _cli(env, "audit")
    assert code == 1, out
    expected = f"checkpoint 1 signed {anchored_rows} audit rows, only {anchored_rows - 1} remain"
    assert expected in out, out


def test_a_failed_log_write_leaves_a_pending_checkpoint_that_is_reported_then_written(
    world: dict[str, Any], tmp_path: Path
) -> None:
    container = world["container"]
    notary = evidence_notary(container.settings)
    assert notary.log is not None

    class Unwritable(FilesystemAppendLog):
        def append(self, name: str, data: bytes) -> None:
            raise OSError("No space left on device")

    broken = ledger.Notary(notary.signer, Unwritable(world["log"]))
    with pytest.raises(CheckpointLogError, match="checkpoint 1 is pending"):
        ledger.make_checkpoint(container.uows, broken)
    with container.uows() as uow:
        assert uow.evidence.latest_checkpoint() is not None  # signed, not in the log: pending, not silent
    assert any("pending" in json.dumps(a.details) for a in _actions(container, "integrity.alert"))
    failed = run_audit(container.uows, broken, trigger="test")
    assert not failed.ok and any("checkpoints 1..1 are pending" in p for p in failed.problems), (
        failed.problems
    )
    healed = run_audit(container.uows, notary, trigger="test")
    assert healed.ok, healed.problems
    assert healed.notes == ["checkpoints 1..1 were pending and are now in the outside log"]
    assert notary.log.read(ledger.log_name(1)) is not None


def test_the_filesystem_log_never_overwrites(tmp_path: Path) -> None:
    log = FilesystemAppendLog(tmp_path / "log")
    log.append("checkpoint-000000000001.json", b"first")
    with pytest.raises(LogEntryExistsError):
        log.append("checkpoint-000000000001.json", b"second")
    path = tmp_path / "log" / "checkpoint-000000000001.json"
    assert path.read_bytes() == b"first" and stat.S_IMODE(path.stat().st_mode) == 0o444
    assert log.names() == ["checkpoint-000000000001.json"]
    assert [p.name for p in (tmp_path / "log").iterdir()] == log.names()  # no temporary file left


def test_s3_log_on_seaweedfs_refuses_overwrite_and_sets_object_lock(s3_server: Any) -> None:
    from dualrec.storage.s3 import S3AppendLog

    creds = {"endpoint_url": s3_server.endpoint_url, "access_key": s3_server.access_key,
             "secret_key": s3_server.secret_key}  # fmt: skip
    prefix = f"t-{uuid.uuid4().hex[:8]}/checkpoint-log/"
    log = S3AppendLog(s3_server.bucket, prefix=prefix, **creds)
    name = ledger.log_name(1)
    log.append(name, b"first")
    with pytest.raises(LogEntryExistsError):
        log.append(name, b"second")
    assert log.read(name) == b"first" and log.names() == [name] and log.rewritten() == []
    client = s3_server.client()
    with pytest.raises(client.exceptions.ClientError, match="PreconditionFailed"):  # the server refuses too
        client.put_object(Bucket=s3_server.bucket, Key=prefix + name, Body=b"x", IfNoneMatch="*")

    bucket = f"locked-{uuid.uuid4().hex[:8]}"
    client.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    locked = S3AppendLog(bucket, prefix=prefix, object_lock_days=1, **creds)
    locked.append(name, b"first")
    retention = client.get_object_retention(Bucket=bucket, Key=prefix + name)["Retention"]
    assert retention["Mode"] == "COMPLIANCE"
    assert retention["RetainUntilDate"] > datetime.now(UTC) + timedelta(hours=23)
    version = client.head_object(Bucket=bucket, Key=prefix + name)["VersionId"]
    with pytest.raises(client.exceptions.ClientError, match="AccessDenied"):
        client.delete_object(Bucket=bucket, Key=prefix + name, VersionId=version)
    client.put_object(Bucket=bucket, Key=prefix + name, Body=b"forged")  # someone with S3 credentials
    assert locked.rewritten() == [name]


def test_the_scheduled_audit_runs_when_due_and_the_api_runs_and_reports_it(world: dict[str, Any]) -> None:
    container = world["container"]
    auditor = IntegrityAuditor(
        container.uows,
        lambda: evidence_notary(container.settings),
        interval=timedelta(hours=24),
        check_seconds=60,
    )
    first = auditor.run_once()
    assert first is not None and first.ok and first.trigger == "schedule"
    assert auditor.run_once() is None  # ran less than 24 h ago (by any process: read from the audit log)
    with TestClient(create_app(container.settings, container=container)) as client:
        login(client, "admin", ADMIN_PASSWORD)
        body = client.get("/api/v1/integrity-audit").json()
        assert body["last"]["ok"] is True and body["last"]["trigger"] == "schedule" and body["scheduled"]
        assert body["checkpoint_log"] == str(world["log"].resolve())
        _forge_verdict(container)
        r = client.post("/api/v1/integrity-audit/runs")
        assert r.status_code == 200 and r.json()["ok"] is False, r.text
        assert any("checkpoint 1 missing from the database" in p for p in r.json()["problems"])
        last = client.get("/api/v1/integrity-audit").json()["last"]
        assert last["trigger"] == "api" and last["by"] == "admin" and last["problem_count"] >= 1
        notices = client.get("/api/v1/archive/notices").json()
        assert any(n["kind"] == "integrity.alert" for n in notices), notices


@pytest.mark.parametrize("kind", ["sqlite", "postgresql", "mysql"])
def test_rows_written_before_migration_0010_stay_verifiable(kind: str, tmp_path: Path) -> None:
    signer = generate_key_file(tmp_path / "k.pem", "ed25519")
    with isolated_database_url(kind, str(tmp_path)) as url:
        upgrade(url, "0009")
        engine = make_engine(url)
        try:
            _old_rows(engine, signer)
            upgrade(url)
            uows = UnitOfWorkFactory(make_session_factory(engine))
            notary = ledger.Notary(signer, FilesystemAppendLog(tmp_path / "log"))
            with uows() as uow:
                audit.record(uow, actor=SYSTEM, action="test.new", target_type="t", target_id="1")
                ledger.record_event(
                    uow, subject_type="task", subject_id="T", kind="status.changed", payload={}
                )
                uow.commit()
            cp = ledger.make_checkpoint(uows, notary)
            assert cp is not None and cp.number == 2  # after the format-1 checkpoint, linked to it
            with uows() as uow:
                versions = list(
                    uow.session.scalars(select(AuditEventRow.hash_version).order_by(AuditEventRow.id))
                )
            assert versions == [1, 1, 2]
            result = run_audit(uows, notary, trigger="test")
            assert result.ok, result.problems
            assert (
                result.audit_rows == 3 and result.checkpoints == 2 and result.checkpoint is None
            )  # no change
            with uows() as uow:  # a version-2 row downgraded to version 1 (whose hash leaves ip out)
                newest = uow.session.scalar(
                    select(AuditEventRow.id).where(AuditEventRow.action == "test.new")
                )
                uow.session.execute(
                    update(AuditEventRow)
                    .where(AuditEventRow.id == newest)
                    .values(hash_version=1, ip="6.6.6.6")
                )
                uow.commit()
            assert check_audit_chain(uows).first_bad_id == newest
        finally:
            engine.dispose()


def _old_rows(engine: sa.Engine, signer: Any) -> None:
    """Two audit rows, one event and a format-1 checkpoint as the code before 0010 wrote them."""
    rows = sa.table(
        "audit_events",
        sa.column("at", sa.DateTime()),
        sa.column("details", sa.JSON()),
        *(sa.column(c) for c in ("actor", "actor_id", "action", "target_type", "target_id", "outcome", "ip",
                                 "user_agent", "prev_hash", "hash")),
    )  # fmt: skip
    prev = GENESIS_HASH
    with engine.begin() as conn:
        for i in range(2):
            at = datetime(2026, 11, 30, 8, 0, i, 123456, tzinfo=UTC)
            digest = chain_hash(prev, at, "admin", "auth.login", "user:1", "success", {"i": i})
            conn.execute(rows.insert().values(
                at=at.replace(tzinfo=None), actor="admin", actor_id=1, action="auth.login",
                target_type="user", target_id="1", outcome="success", ip="10.0.0.1", user_agent="ua",
                details={"i": i},
                prev_hash=prev, hash=digest,
            ))  # fmt: skip
            prev = digest
        conn.execute(
            sa.text("UPDATE evidence_heads SET seq = 2, hash = :h WHERE chain = 'audit'"), {"h": prev}
        )
        at = datetime(2026, 11, 30, 9, 0, 0, 0, tzinfo=UTC)
        body = EvidenceEvent(
            1, "task", "T", "blob.stored", {"size": 1}, format_at(at), GENESIS_HASH, GENESIS_HASH, ""
        )
        h = event_hash(GENESIS_HASH, body.body())
        conn.execute(
            sa.text("INSERT INTO evidence_events (seq, subject_type, subject_id, kind, payload, at, "
                    "prev_hash, subject_prev_hash, hash) "
                    "VALUES (1, 'task', 'T', 'blob.stored', :p, :at, :g, :g, :h)"),
            {"p": json.dumps({"size": 1}), "at": at.replace(tzinfo=None), "g": GENESIS_HASH, "h": h},
        )  # fmt: skip
        conn.execute(sa.text("UPDATE evidence_heads SET seq = 1, hash = :h WHERE chain = 'global'"), {"h": h})
        frontier = frontier_extend([], [h])
        payload = checkpoint_payload_v1(seq=1, head_hash=h, root=frontier_root(frontier), at=at,
                                        key_id=signer.key_id, algorithm="ed25519")  # fmt: skip
        conn.execute(
            sa.text("INSERT INTO evidence_checkpoints (seq, at, head_hash, merkle_root, frontier, key_id, "
                    "algorithm, public_key, signature) "
                    "VALUES (1, :at, :h, :r, :f, :k, 'ed25519', :pub, :sig)"),
            {"at": at.replace(tzinfo=None), "h": h, "r": payload["merkle_root"],
             "f": json.dumps([[s, x] for s, x in frontier]), "k": signer.key_id, "pub": signer.public_key,
             "sig": signer.sign(canonical_json(payload))},
        )  # fmt: skip
