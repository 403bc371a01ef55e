"""Webhook deliveries (outbox rows): add, read, lease due rows to one dispatcher, record tries."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from dualrec.core.webhooks import DeliveryStatus, WebhookDelivery
from dualrec.db.models import BranchRow, TaskRow, WebhookDeliveryRow

__all__ = ["WebhookRepository"]

MAX_LOG_ENTRIES = 200  # a delivery re-sent many times keeps its latest tries


def _to_core(row: WebhookDeliveryRow, branch_path: str = "") -> WebhookDelivery:
    return WebhookDelivery(
        id=row.id,
        task_id=row.task_id,
        source_key=row.source_key,
        url=row.url,
        event=row.event,
        payload=dict(row.payload),
        status=row.status,
        attempts=row.attempts,
        max_attempts=row.max_attempts,
        next_attempt_at=row.next_attempt_at,
        lease_until=row.lease_until,
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        log=tuple(row.log or ()),
        created_at=row.created_at,
        delivered_at=row.delivered_at,
        branch_path=branch_path,
    )


class WebhookRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def _scoped(self) -> Any:
        return (
            select(WebhookDeliveryRow, BranchRow.path)
            .join(TaskRow, WebhookDeliveryRow.task_id == TaskRow.id)
            .join(BranchRow, TaskRow.branch_id == BranchRow.id)
        )

    def add(
        self,
        *,
        delivery_id: str,
        task_id: str,
        source_key: str,
        url: str,
        event: str,
        payload: dict[str, Any],
        max_attempts: int,
        now: datetime,
    ) -> WebhookDelivery:
        row = WebhookDeliveryRow(
            id=delivery_id,
            task_id=task_id,
            source_key=source_key,
            url=url,
            event=event,
            payload=payload,
            status=DeliveryStatus.PENDING.value,
            attempts=0,
            max_attempts=max_attempts,
            next_attempt_at=now,
            lease_until=None,
            last_status_code=None,
            last_error="",
            log=[],
            created_at=now,
            delivered_at=None,
        )
        self._s.add(row)
        self._s.flush()
        return _to_core(row)

    def get(self, delivery_id: str, *, scope_path: str | None = None) -> WebhookDelivery | None:
        """With ``scope_path``: only a delivery whose task lies in that branch subtree."""
        if scope_path is None:
            row = self._s.get(WebhookDeliveryRow, delivery_id)
            return _to_core(row) if row else None
        found = self._s.execute(
            self._scoped().where(
                WebhookDeliveryRow.id == delivery_id,
                BranchRow.path.startswith(scope_path, autoescape=True),
            )
        ).first()
        return _to_core(found[0], found[1]) if found else None

    def claim_due(self, now: datetime, lease_seconds: float, limit: int) -> list[WebhookDelivery]:
        """Lease up to ``limit`` due rows to the caller until ``now + lease_seconds``; commit, then send.

        Each row is taken by a guarded UPDATE whose row count tells whether this caller won it:
        of two dispatchers that saw the same candidate, the second one's UPDATE (re-checked after
        the first committed on PostgreSQL/MariaDB, serialised on SQLite) matches nothing."""
        unleased = or_(WebhookDeliveryRow.lease_until.is_(None), WebhookDeliveryRow.lease_until < now)
        due = (
            WebhookDeliveryRow.status == DeliveryStatus.PENDING.value,
            WebhookDeliveryRow.next_attempt_at <= now,
            unleased,
        )
        candidates = self._s.scalars(
            select(WebhookDeliveryRow.id)
            .where(*due)
            .order_by(WebhookDeliveryRow.next_attempt_at, WebhookDeliveryRow.id)
            .limit(limit)
        ).all()
        until = now + timedelta(seconds=lease_seconds)
        claimed: list[WebhookDelivery] = []
        for delivery_id in candidates:
            result = self._s.execute(
                update(WebhookDeliveryRow)
                .where(WebhookDeliveryRow.id == delivery_id, *due)
                .values(lease_until=until)
                .execution_options(synchronize_session=False)
            )
            if getattr(result, "rowcount", 0) == 1:
                row = self._s.get(WebhookDeliveryRow, delivery_id, populate_existing=True)
                if row is not None:
                    claimed.append(_to_core(row))
        return claimed

    def record_attempt(
        self,
        delivery_id: str,
        *,
        entry: dict[str, Any],
        status: str,
        max_attempts: int,
        next_attempt_at: datetime | None,
        status_code: int | None,
        error: str,
        delivered_at: datetime | None,
    ) -> WebhookDelivery:
        """Append one try to the log and set the outcome; releases the lease."""
        row = self._s.get_one(WebhookDeliveryRow, delivery_id, populate_existing=True)
        row.attempts = row.attempts + 1
        row.max_attempts = max_attempts
        row.log = [*(row.log or []), {**entry, "attempt": row.attempts}][-MAX_LOG_ENTRIES:]
        row.status = status
        row.next_attempt_at = next_attempt_at
        row.lease_until = None
        row.last_status_code = status_code
        row.last_error = error
        if delivered_at is not None:
            row.delivered_at = delivered_at
        self._s.flush()
        return _to_core(row)

    def reschedule(self, delivery_id: str, *, now: datetime, max_attempts: int) -> WebhookDelivery:
        """Back to pending, due at ``now``, with a new attempt budget; the log is kept. The lease is
        left alone: a try still in flight is not doubled by another dispatcher."""
        row = self._s.get_one(WebhookDeliveryRow, delivery_id, populate_existing=True)
        row.status = DeliveryStatus.PENDING.value
        row.next_attempt_at = now
        row.max_attempts = max_attempts
        row.delivered_at = None
        self._s.flush()
        return _to_core(row)

    def list(
        self,
        *,
        scope_path: str,
        task_id: str | None = None,
        status: str | None = None,
        offset: int = 0,
        limit: int = 20,
    ) -> tuple[list[WebhookDelivery], int]:
        stmt = self._scoped().where(BranchRow.path.startswith(scope_path, autoescape=True))
        if task_id:
            stmt = stmt.where(WebhookDeliveryRow.task_id == task_id)
        if status:
            stmt = stmt.where(WebhookDeliveryRow.status == status)
        total = self._s.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = self._s.execute(
            stmt.order_by(WebhookDeliveryRow.created_at.desc(), WebhookDeliveryRow.id)
            .offset(offset)
            .limit(limit)
        ).all()
        return [_to_core(r[0], r[1]) for r in rows], total
