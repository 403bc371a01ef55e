from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dualrec.core.audit import AUDIT_HASH_VERSION, GENESIS_HASH, row_hash
from dualrec.core.identity import AuditEvent
from dualrec.db.models import AuditEventRow, EvidenceHeadRow

__all__ = ["AUDIT_CHAIN", "AuditFilter", "AuditRepository"]

AUDIT_CHAIN = "audit"  # its head row lives in evidence_heads beside the evidence ledger's


def _to_core(row: AuditEventRow) -> AuditEvent:
    return AuditEvent(
        id=row.id,
        at=row.at,
        actor=row.actor,
        actor_id=row.actor_id,
        action=row.action,
        target_type=row.target_type,
        target_id=row.target_id,
        outcome=row.outcome,
        ip=row.ip,
        user_agent=row.user_agent,
        details=dict(row.details or {}),
        prev_hash=row.prev_hash,
        hash=row.hash,
        branch_id=row.branch_id,
        hash_version=row.hash_version,
    )


class AuditFilter:
    """``branch_ids``: only events of these branches (a caller's scope); None: every event, those
    without a branch included."""

    def __init__(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        actor: str | None = None,
        action: str | None = None,
        branch_ids: Sequence[int] | None = None,
    ) -> None:
        self.since, self.until, self.actor, self.action = since, until, actor, action
        self.branch_ids = None if branch_ids is None else tuple(branch_ids)

    def within(self, branch_ids: Sequence[int] | None) -> AuditFilter:
        """This filter, further limited to ``branch_ids`` (None: no further limit)."""
        if branch_ids is None:
            return self
        ids = set(branch_ids) if self.branch_ids is None else set(branch_ids) & set(self.branch_ids)
        return AuditFilter(
            since=self.since, until=self.until, actor=self.actor, action=self.action, branch_ids=sorted(ids)
        )

    def apply(self, stmt: Select[AuditEventRow]) -> Select[AuditEventRow]:
        if self.branch_ids is not None:
            stmt = stmt.where(AuditEventRow.branch_id.in_(self.branch_ids))
        if self.since:
            stmt = stmt.where(AuditEventRow.at >= self.since)
        if self.until:
            stmt = stmt.where(AuditEventRow.at <= self.until)
        if self.actor:
            stmt = stmt.where(AuditEventRow.actor == self.actor)
        if self.action:
            stmt = stmt.where(AuditEventRow.action.startswith(self.action, autoescape=True))
        return stmt


class AuditRepository:
    """Append-only: there is no update or delete method on purpose."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def _lock_head(self) -> EvidenceHeadRow:
        """The audit chain's head row, locked until the caller commits: appends queue up on it."""
        stmt = select(EvidenceHeadRow).where(EvidenceHeadRow.chain == AUDIT_CHAIN).with_for_update()
        head = self._s.scalar(stmt)
        if head is not None:
            return head
        last = self._s.scalar(select(AuditEventRow.hash).order_by(AuditEventRow.id.desc()).limit(1))
        count = self._s.scalar(select(func.count()).select_from(AuditEventRow)) or 0
        try:
            with self._s.begin_nested():
                self._s.add(EvidenceHeadRow(chain=AUDIT_CHAIN, seq=count, hash=last or GENESIS_HASH))
        except IntegrityError:
            pass  # another writer created it first
        head = self._s.scalar(stmt.execution_options(populate_existing=True))
        assert head is not None
        return head

    def append(
        self,
        *,
        at: datetime,
        actor: str,
        actor_id: int | None,
        branch_id: int | None,
        action: str,
        target_type: str,
        target_id: str,
        outcome: str,
        ip: str,
        user_agent: str,
        details: dict[str, Any],
    ) -> None:
        head = self._lock_head()
        prev = head.hash
        # hashed as stored (truncated), every column (core.audit.row_hash version 2)
        fields: dict[str, Any] = {
            "at": at,
            "actor": actor[:100],
            "actor_id": actor_id,
            "branch_id": branch_id,
            "action": action,
            "target_type": target_type[:40],
            "target_id": target_id[:64],
            "outcome": outcome,
            "ip": ip[:64],
            "user_agent": user_agent[:255],
            "details": details,
        }
        digest = row_hash(AUDIT_HASH_VERSION, prev, **fields)
        self._s.add(AuditEventRow(**fields, prev_hash=prev, hash=digest, hash_version=AUDIT_HASH_VERSION))
        head.seq += 1
        head.hash = digest
        self._s.flush()

    def search(self, flt: AuditFilter, *, offset: int, limit: int) -> tuple[list[AuditEvent], int]:
        stmt = flt.apply(select(AuditEventRow))
        total = self._s.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = self._s.scalars(stmt.order_by(AuditEventRow.id.desc()).offset(offset).limit(limit))
        return [_to_core(r) for r in rows], total

    def page_after(self, flt: AuditFilter, *, after_id: int, limit: int) -> list[AuditEvent]:
        """Up to ``limit`` matching events with an id above ``after_id``, oldest first (keyset paging:
        a streamed export reads one page per short unit of work)."""
        stmt = flt.apply(select(AuditEventRow)).where(AuditEventRow.id > after_id)
        return [_to_core(r) for r in self._s.scalars(stmt.order_by(AuditEventRow.id).limit(limit))]

    def iter_all(self, flt: AuditFilter, batch: int = 1000) -> Iterator[AuditEvent]:
        last_id = 0
        while True:
            stmt = flt.apply(select(AuditEventRow)).where(AuditEventRow.id > last_id)
            rows = list(self._s.scalars(stmt.order_by(AuditEventRow.id).limit(batch)))
            if not rows:
                return
            for row in rows:
                yield _to_core(row)
            last_id = rows[-1].id

    # ---- the chain's integrity (services.common.audit_chain) -------------------------------------

    def head(self) -> tuple[int, str]:
        """The stored head: how many rows were appended and the last one's hash (not locked)."""
        row = self._s.scalar(select(EvidenceHeadRow).where(EvidenceHeadRow.chain == AUDIT_CHAIN))
        return (row.seq, row.hash) if row else (0, GENESIS_HASH)

    def has_hash(self, digest: str) -> bool:
        return (
            self._s.scalar(select(AuditEventRow.id).where(AuditEventRow.hash == digest).limit(1)) is not None
        )
