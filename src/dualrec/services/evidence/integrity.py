"""The integrity audit: the whole evidence ledger and audit log against their heads, the signed
checkpoints and the outside checkpoint log (``dualrec evidence audit``, the scheduled run, the
auditors' API). docs/evidence.md lists what is checked.

A run is recorded as an ``integrity.audited`` audit event (outcome success or failure, the findings
in its details: the last one is "the last audit result"); a failed run also leaves the day's
head-office notice. A clean run signs a checkpoint marked ``audited`` (when anything moved since the
last one), which anchors the audit log's head and starts the checkpoint chain packages carry.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from dualrec.core.audit import AuditAction
from dualrec.core.evidence import (
    GENESIS_HASH,
    EvidenceEvent,
    canonical_json,
    checkpoint_chain_problems,
    event_problems,
    frontier_extend,
    frontier_root,
)
from dualrec.core.identity import AuditEvent
from dualrec.db.repositories.audit import AuditFilter
from dualrec.db.uow import UnitOfWorkFactory
from dualrec.errors import ConflictError, DualrecError
from dualrec.i18n import msg
from dualrec.services.common import audit
from dualrec.services.common.audit_chain import check_audit_chain
from dualrec.services.common.context import SYSTEM, Actor
from dualrec.services.evidence.alerts import MAX_PROBLEMS, add_alert_notice, capped
from dualrec.services.evidence.ledger import (
    Checkpoint,
    Notary,
    checkpoint_from_row,
    log_name,
    log_number,
    make_checkpoint,
    publish_pending,
)
from dualrec.services.evidence.signing_key import public_key_id, verify_signature
from dualrec.storage.ports import AppendOnlyLog

__all__ = ["AuditBusyError", "IntegrityAudit", "last_audit", "run_audit"]

PAGE = 5000
_RUNNING = threading.Lock()  # one run at a time in a process (the API's "run now" and the schedule)


class AuditBusyError(ConflictError):
    code = "audit_running"


@dataclass
class IntegrityAudit:
    ok: bool
    at: datetime
    trigger: str  # schedule | cli | api
    by: str
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0
    notes: list[str] = field(default_factory=list)  # not problems: pending checkpoints written, ...
    events: int = 0
    checkpoints: int = 0
    log_entries: int | None = None  # None: no outside log configured
    log_location: str = ""
    audit_rows: int = 0
    seconds: float = 0.0
    checkpoint: int | None = None  # the audited checkpoint signed after a clean run

    def details(self) -> dict[str, Any]:
        out = asdict(self)
        out["at"] = self.at.isoformat()
        out["problems"] = capped(self.problems)
        out["seconds"] = round(self.seconds, 3)
        return out

    @classmethod
    def from_event(cls, ev: AuditEvent) -> IntegrityAudit:
        d = dict(ev.details)
        return cls(
            ok=bool(d.get("ok")),
            at=datetime.fromisoformat(str(d.get("at"))) if d.get("at") else ev.at,
            trigger=str(d.get("trigger", "")),
            by=str(d.get("by", ev.actor)),
            problems=[str(p) for p in d.get("problems", [])],
            problem_count=int(d.get("problem_count", 0)),
            notes=[str(n) for n in d.get("notes", [])],
            events=int(d.get("events", 0)),
            checkpoints=int(d.get("checkpoints", 0)),
            log_entries=d.get("log_entries"),
            log_location=str(d.get("log_location", "")),
            audit_rows=int(d.get("audit_rows", 0)),
            seconds=float(d.get("seconds", 0.0)),
            checkpoint=d.get("checkpoint"),
        )


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []
        self.count = 0

    def add(self, problem: str) -> None:
        self.count += 1
        if len(self.items) < MAX_PROBLEMS * 4:
            self.items.append(problem)


def _check_ledger(uows: UnitOfWorkFactory, checkpoints: list[Checkpoint], problems: _Problems) -> int:
    """Every event (hash, global and subject links) and every checkpoint's head and Merkle root
    recomputed from the events; the head row compared with the newest event. Returns the count."""
    with uows.read() as uow:
        head_seq, head_hash = uow.evidence.head()
    by_seq = sorted(checkpoints, key=lambda c: (int(c.payload["seq"]), c.number))
    pending = 0  # index into by_seq
    frontier: list[tuple[int, str]] = []
    subject_last: dict[tuple[str, str], str] = {}
    prev: EvidenceEvent | None = None
    count, last_seq = 0, 0

    def reach(seq: int, last_hash: str) -> None:
        nonlocal pending
        while pending < len(by_seq) and int(by_seq[pending].payload["seq"]) == seq:
            cp = by_seq[pending]
            if frontier_root(frontier) != cp.payload["merkle_root"]:
                problems.add(
                    f"checkpoint {cp.number}: the events 1..{seq} no longer give its signed Merkle root"
                )
            if seq and last_hash != cp.payload["head_hash"]:
                problems.add(f"checkpoint {cp.number}: event seq {seq} is not the head it signed")
            pending += 1

    reach(0, GENESIS_HASH)
    while True:
        with uows.read() as uow:
            page = list(uow.evidence.events(last_seq, last_seq + PAGE, batch=PAGE))
        for ev in page:
            count += 1
            for p in event_problems(ev, prev, subject_chain=False, where=f"event seq {ev.seq} ({ev.kind})"):
                problems.add(p)
            subject = (ev.subject_type, ev.subject_id)
            if ev.subject_prev_hash != subject_last.get(subject, GENESIS_HASH):
                problems.add(f"event seq {ev.seq} ({ev.kind}): subject chain broken")
            subject_last[subject] = ev.hash
            frontier = frontier_extend(frontier, [ev.hash])
            reach(ev.seq, ev.hash)
            prev = ev
        if not page:
            break
        last_seq = page[-1].seq
    if count < head_seq:
        problems.add(f"ledger head says {head_seq} events, {count} found: the newest events were deleted")
    elif head_seq and (prev is None or prev.seq < head_seq):
        problems.add(f"ledger head seq {head_seq} has no event")
    else:
        with uows.read() as uow:
            at_head = uow.evidence.event_hash_at(head_seq) if head_seq else GENESIS_HASH
        if at_head != head_hash:
            problems.add(
                f"ledger head hash is not the hash of event seq {head_seq} (head or events rewritten)"
            )
    for cp in by_seq[pending:]:
        problems.add(f"checkpoint {cp.number} fixes seq {cp.payload['seq']}, the ledger has {count} events")
    return count


def _check_checkpoints(checkpoints: list[Checkpoint], problems: _Problems, *, full: bool) -> None:
    """Links of the whole chain; signatures from the last audited checkpoint on (earlier ones were
    checked by the run that signed it and are fixed by the links), or of all with ``full``."""
    for p in checkpoint_chain_problems([(c.number, c.payload) for c in checkpoints]):
        problems.add(p)
    audited = [c.number for c in checkpoints if c.payload.get("audited") is True]
    since = 0 if full or not audited else audited[-1]
    for cp in checkpoints:
        if cp.number < since:
            continue
        alg = str(cp.payload.get("algorithm", ""))
        try:
            key_ok = public_key_id(alg, cp.public_key) == cp.payload.get("key_id")
        except ValueError:
            key_ok = False
        if not key_ok or not verify_signature(alg, cp.public_key, canonical_json(cp.payload), cp.signature):
            problems.add(f"checkpoint {cp.number}: SIGNATURE INVALID (altered in the database)")


def _check_log(
    uows: UnitOfWorkFactory,
    log: AppendOnlyLog,
    checkpoints: list[Checkpoint],
    problems: _Problems,
    notes: list[str],
) -> int:
    """Every checkpoint in the database is the log's, byte for byte, and the other way round; those
    after the log's newest entry are pending (their write failed) and are written now."""
    logged = sorted(n for n in (log_number(name) for name in log.names()) if n is not None)
    in_db = {c.number: c for c in checkpoints}
    newest = logged[-1] if logged else 0
    pending = [n for n in sorted(in_db) if n > newest]
    if pending:
        try:
            with uows.read() as uow:
                for p in publish_pending(uow, log, up_to=pending[-1]):
                    problems.add(p)
            notes.append(
                f"checkpoints {pending[0]}..{pending[-1]} were pending and are now in the outside log"
            )
            logged += pending
        except Exception as exc:
            span = f"{pending[0]}..{pending[-1]}"
            problems.add(f"checkpoints {span} are pending: the outside log could not be written ({exc})")
    log_set = set(logged)
    for n in sorted(log_set - set(in_db)):
        problems.add(f"checkpoint {n} missing from the database but present in the outside log")
    for n in sorted(set(in_db) - log_set):
        if n not in pending:
            problems.add(f"checkpoint {n} missing from the outside log (deleted there?)")
    log_chain: list[tuple[int, dict[str, Any]]] = []
    for n in sorted(log_set):
        raw = log.read(log_name(n))
        if raw is None:
            continue
        cp = in_db.get(n)
        if cp is not None and raw != cp.document():
            problems.add(f"checkpoint {n} rewritten: the database's copy differs from the outside log's")
        try:
            doc = json.loads(raw)
            log_chain.append((n, dict(doc["payload"])))
        except (ValueError, KeyError, TypeError):
            problems.add(f"checkpoint {n}: the outside log's entry is not a checkpoint")
    for p in checkpoint_chain_problems(log_chain):
        problems.add(f"outside log: {p}")
    for name in log.rewritten():
        problems.add(f"{name}: written more than once in the outside log (an older version was replaced)")
    return len(log_set)


def run_audit(
    uows: UnitOfWorkFactory,
    notary: Notary,
    *,
    trigger: str,
    actor: Actor = SYSTEM,
    full: bool = False,
    sign: bool = True,
) -> IntegrityAudit:
    """One audit run, recorded (see the module doc). ``full``: every checkpoint signature."""
    if not _RUNNING.acquire(blocking=False):
        raise AuditBusyError(msg("evidence.integrity_audit_already_running"))
    try:
        return _run(uows, notary, trigger=trigger, actor=actor, full=full, sign=sign)
    finally:
        _RUNNING.release()


def _run(
    uows: UnitOfWorkFactory, notary: Notary, *, trigger: str, actor: Actor, full: bool, sign: bool
) -> IntegrityAudit:
    started = time.monotonic()
    result = IntegrityAudit(ok=False, at=datetime.now(UTC), trigger=trigger, by=actor.name)
    problems = _Problems()
    with uows.read() as uow:
        checkpoints: list[Checkpoint] = []
        after = 0
        while batch := uow.evidence.checkpoints(after):
            checkpoints.extend(checkpoint_from_row(r) for r in batch)
            after = batch[-1].number
    result.checkpoints = len(checkpoints)
    result.events = _check_ledger(uows, checkpoints, problems)
    _check_checkpoints(checkpoints, problems, full=full)
    if notary.log is not None:
        result.log_location = notary.log.location
        try:
            result.log_entries = _check_log(uows, notary.log, checkpoints, problems, result.notes)
        except Exception as exc:
            problems.add(f"the outside log {notary.log.location} cannot be read: {exc}")
    anchors = {
        int(c.payload["audit_seq"]): (str(c.payload["audit_head_hash"]), f"checkpoint {c.number}")
        for c in checkpoints
        if isinstance(c.payload.get("audit_seq"), int) and c.payload["audit_seq"] > 0
    }
    chain = check_audit_chain(uows, anchors)
    result.audit_rows = chain.rows
    for p in chain.problems:
        problems.add(p)
    if problems.count == 0 and sign:
        try:
            cp = make_checkpoint(uows, notary, audited=True)
            result.checkpoint = cp.number if cp else None
        except DualrecError as exc:
            problems.add(f"the audited checkpoint could not be signed: {exc.message}")
    result.ok = problems.count == 0
    result.problems, result.problem_count = problems.items, problems.count
    result.seconds = time.monotonic() - started
    with uows() as uow:
        audit.record(
            uow,
            actor=actor,
            action=AuditAction.INTEGRITY_AUDITED,
            target_type="evidence",
            target_id=trigger,
            outcome="success" if result.ok else "failure",
            details=result.details(),
        )
        if not result.ok:
            add_alert_notice(uow, source=f"audit ({trigger})", problems=result.problems)
        uow.commit()
    return result


def last_audit(uows: UnitOfWorkFactory) -> IntegrityAudit | None:
    """The newest recorded run (an ``integrity.audited`` audit event), None before the first."""
    with uows.read() as uow:
        found, _ = uow.audit.search(AuditFilter(action=AuditAction.INTEGRITY_AUDITED), offset=0, limit=1)
    return IntegrityAudit.from_event(found[0]) if found else None
