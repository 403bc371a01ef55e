"""Checking the audit log's hash chain: every row, the stored head, and anchors signed elsewhere.

* every row's hash is recomputed with its ``hash_version`` (core.audit.row_hash) and must link to the
  row before it (a deleted or inserted row breaks the link); versions never go back (2 → 1);
* the stored head (``evidence_heads``, chain ``audit``: rows appended and the last hash) must be the
  row at that position: deleting the newest rows without fixing the head is seen;
* ``anchors`` (position → expected hash, from the signed evidence checkpoints): rows a checkpoint
  fixed must still be there, unchanged — also when the head and every hash after them were rewritten.

Rows are read in pages, each in its own short read-only unit of work (no long lock on SQLite); rows
appended while the check runs are beyond the head it read first, and are checked like the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dualrec.core.audit import GENESIS_HASH, row_hash
from dualrec.core.identity import AuditEvent
from dualrec.db.repositories.audit import AuditFilter
from dualrec.db.uow import UnitOfWorkFactory

__all__ = ["AuditChainReport", "check_audit_chain"]

PAGE = 2000


@dataclass
class AuditChainReport:
    rows: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS_HASH
    problems: list[str] = field(default_factory=list)
    first_bad_id: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def _add(self, problem: str, row_id: int | None = None) -> None:
        self.problems.append(problem)
        if row_id is not None and self.first_bad_id is None:
            self.first_bad_id = row_id


def _recomputed(ev: AuditEvent) -> str | None:
    try:
        return row_hash(
            ev.hash_version,
            ev.prev_hash,
            at=ev.at,
            actor=ev.actor,
            actor_id=ev.actor_id,
            branch_id=ev.branch_id,
            action=ev.action,
            target_type=ev.target_type,
            target_id=ev.target_id,
            outcome=ev.outcome,
            ip=ev.ip,
            user_agent=ev.user_agent,
            details=ev.details,
        )
    except ValueError:
        return None


def check_audit_chain(
    uows: UnitOfWorkFactory, anchors: dict[int, tuple[str, str]] | None = None
) -> AuditChainReport:
    """``anchors``: row position (1-based, in id order) → (expected hash, who anchored it)."""
    anchors = anchors or {}
    report = AuditChainReport()
    with uows.read() as uow:
        report.head_seq, report.head_hash = uow.audit.head()
    prev_hash, prev_id, newest_version, last_id = GENESIS_HASH, 0, 0, 0
    hash_at_head: str | None = GENESIS_HASH if report.head_seq == 0 else None
    while True:
        with uows.read() as uow:
            page = uow.audit.page_after(AuditFilter(), after_id=last_id, limit=PAGE)
        for ev in page:
            report.rows += 1
            where = f"audit row {ev.id} ({ev.action})"
            if ev.prev_hash != prev_hash:
                after = f"row {prev_id}" if prev_id else "the start of the log"
                report._add(f"{where}: does not follow {after} (rows deleted or inserted)", ev.id)
            recomputed = _recomputed(ev)
            if recomputed is None:
                report._add(f"{where}: unknown hash version {ev.hash_version}", ev.id)
            elif recomputed != ev.hash:
                report._add(f"{where}: content does not match its hash (altered row)", ev.id)
            if ev.hash_version < newest_version:
                report._add(f"{where}: hash version {ev.hash_version} after version {newest_version}", ev.id)
            newest_version = max(newest_version, ev.hash_version)
            anchored = anchors.get(report.rows)
            if anchored is not None and anchored[0] != ev.hash:
                report._add(
                    f"{where}: row #{report.rows} is not the row {anchored[1]} signed (rewritten log)", ev.id
                )
            if report.rows == report.head_seq:
                hash_at_head = ev.hash
            prev_hash, prev_id = ev.hash, ev.id
        if len(page) < PAGE:
            break
        last_id = page[-1].id
    if report.rows < report.head_seq:
        report._add(
            f"audit log head says {report.head_seq} rows, {report.rows} found: the newest rows were deleted"
        )
    elif hash_at_head != report.head_hash:
        report._add(f"audit log head hash is not the hash of row #{report.head_seq} (head or rows rewritten)")
    for position, (_, by) in sorted(anchors.items()):
        if position > report.rows:
            report._add(f"{by} signed {position} audit rows, only {report.rows} remain: rows were deleted")
            break
    return report
