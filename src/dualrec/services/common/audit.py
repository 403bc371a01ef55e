"""Recording and reading the security audit log."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from dualrec.core.audit import GENESIS_HASH, chain_hash
from dualrec.core.identity import AuditEvent
from dualrec.db.repositories.audit import AuditFilter
from dualrec.db.uow import UnitOfWork, UnitOfWorkFactory
from dualrec.services.common.context import Actor

__all__ = ["AuditFilter", "export_csv", "record", "record_now", "search", "verify_chain"]


def record(
    uow: UnitOfWork,
    *,
    actor: Actor,
    action: str,
    target_type: str = "",
    target_id: str | int = "",
    outcome: str = "success",
    details: dict[str, Any] | None = None,
) -> None:
    """Append an audit row inside the caller's unit of work (committed with the change it describes)."""
    uow.audit.append(
        at=datetime.now(UTC),
        actor=actor.name,
        actor_id=actor.id,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        outcome=outcome,
        ip=actor.meta.ip,
        user_agent=actor.meta.user_agent,
        details=details or {},
    )


def record_now(uows: UnitOfWorkFactory, **kwargs: Any) -> None:
    """Append and commit at once (for events with no other change, e.g. a denied request)."""
    with uows() as uow:
        record(uow, **kwargs)
        uow.commit()


def search(
    uows: UnitOfWorkFactory, *, flt: AuditFilter, page: int, page_size: int
) -> tuple[list[AuditEvent], int]:
    with uows() as uow:
        return uow.audit.search(flt, offset=(page - 1) * page_size, limit=page_size)


CSV_COLUMNS = (
    "id",
    "at",
    "actor",
    "action",
    "target_type",
    "target_id",
    "outcome",
    "ip",
    "user_agent",
    "hash",
)


def export_csv(uows: UnitOfWorkFactory, *, flt: AuditFilter) -> Iterator[str]:
    """Stream the filtered log as CSV (UTF-8 with BOM so that Excel shows Chinese correctly)."""
    yield "\ufeff"
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_COLUMNS)
    with uows() as uow:
        for ev in uow.audit.iter_all(flt):
            writer.writerow(
                [
                    ev.id,
                    ev.at.isoformat(),
                    ev.actor,
                    ev.action,
                    ev.target_type,
                    ev.target_id,
                    ev.outcome,
                    ev.ip,
                    ev.user_agent,
                    ev.hash,
                ]
            )
            if buf.tell() > 64_000:
                yield buf.getvalue()
                buf.seek(0)
                buf.truncate()
    yield buf.getvalue()


def verify_chain(uows: UnitOfWorkFactory) -> tuple[bool, int | None, int]:
    """Recompute the hash chain. Returns (ok, id of the first bad row or None, rows checked)."""
    prev = GENESIS_HASH
    checked = 0
    with uows() as uow:
        for ev in uow.audit.iter_all(AuditFilter()):
            expected = chain_hash(
                prev, ev.at, ev.actor, ev.action, f"{ev.target_type}:{ev.target_id}", ev.outcome, ev.details
            )
            if ev.prev_hash != prev or ev.hash != expected:
                return False, ev.id, checked
            prev = ev.hash
            checked += 1
    return True, None, checked
