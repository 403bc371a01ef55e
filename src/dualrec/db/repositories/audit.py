from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dualrec.core.audit import GENESIS_HASH, chain_hash
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
    )


class AuditFilter:
    def __init__(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        actor: str | None = None,
        action: str | None = None,
    ) -> None:
        self.since, self.until, self.actor, self.action = since, until, actor, action

    def apply(self, stmt: Select[AuditEventRow]) -> Select[AuditEventRow]:
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
        try:
            with self._s.begin_nested():
                self._s.add(EvidenceHeadRow(chain=AUDIT_CHAIN, seq=0, hash=last or GENESIS_HASH))
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
        target = f"{target_type}:{target_id}"
        digest = chain_hash(prev, at, actor, action, target, outcome, details)
        self._s.add(
            AuditEventRow(
                at=at,
                actor=actor[:100],
                actor_id=actor_id,
                action=action,
                target_type=target_type[:40],
                target_id=target_id[:64],
                outcome=outcome,
                ip=ip[:64],
                user_agent=user_agent[:255],
                details=details,
                prev_hash=prev,
                hash=digest,
            )
        )
        head.seq += 1
        head.hash = digest
        self._s.flush()

    def search(self, flt: AuditFilter, *, offset: int, limit: int) -> tuple[list[AuditEvent], int]:
        stmt = flt.apply(select(AuditEventRow))
        total = self._s.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = self._s.scalars(stmt.order_by(AuditEventRow.id.desc()).offset(offset).limit(limit))
        return [_to_core(r) for r in rows], total

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
