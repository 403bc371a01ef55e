"""Recording and reading the security audit log.

Every event belongs to a branch (the acting user's, or the one the caller names: the target's), and
reads are scoped like every other resource: a user sees the events of their branch's subtree; events
without a branch (system jobs, anonymous requests) only a caller whose scope is every branch (head
office). Reads use read-only units of work; the CSV export reads in keyset pages, one short unit of
work per page, so that a client that stops reading holds no transaction (and, on SQLite, no lock).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from dualrec.core.identity import AuditEvent
from dualrec.db.repositories.audit import AuditFilter
from dualrec.db.uow import UnitOfWork, UnitOfWorkFactory
from dualrec.services.common.audit_chain import check_audit_chain
from dualrec.services.common.context import Actor
from dualrec.services.common.csv_cells import safe_cell
from dualrec.services.common.scope import scope_branch_ids

__all__ = [
    "EXPORT_PAGE",
    "AuditFilter",
    "export_csv",
    "record",
    "record_now",
    "scoped_filter",
    "search",
    "verify_chain",
]

EXPORT_PAGE = 1000  # rows read per unit of work while streaming an export


def record(
    uow: UnitOfWork,
    *,
    actor: Actor,
    action: str,
    target_type: str = "",
    target_id: str | int = "",
    outcome: str = "success",
    details: dict[str, Any] | None = None,
    branch_id: int | None = None,
) -> None:
    """Append an audit row inside the caller's unit of work (committed with the change it describes).
    ``branch_id``: the branch the event belongs to, by default the acting principal's."""
    if branch_id is None and actor.principal is not None:
        branch_id = actor.principal.branch_id
    uow.audit.append(
        at=datetime.now(UTC),
        actor=actor.name,
        actor_id=actor.id,
        branch_id=branch_id,
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


def scoped_filter(uow: UnitOfWork, actor: Actor, flt: AuditFilter, branch_id: int | None) -> AuditFilter:
    """``flt`` limited to the caller's branch scope, or to ``branch_id``'s subtree inside it (a branch
    outside it is a 404)."""
    return flt.within(scope_branch_ids(uow, actor, branch_id))


def search(
    uows: UnitOfWorkFactory,
    *,
    actor: Actor,
    flt: AuditFilter,
    page: int,
    page_size: int,
    branch_id: int | None = None,
) -> tuple[list[AuditEvent], int]:
    with uows.read() as uow:
        scoped = scoped_filter(uow, actor, flt, branch_id)
        return uow.audit.search(scoped, offset=(page - 1) * page_size, limit=page_size)


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


def export_csv(
    uows: UnitOfWorkFactory, *, actor: Actor, flt: AuditFilter, branch_id: int | None = None
) -> Iterator[str]:
    """The filtered log as CSV (UTF-8 with BOM so that Excel shows Chinese correctly), oldest first.
    The scope is checked now (an out-of-scope ``branch_id`` is a 404 before anything is sent); the
    rows are read later, page by page, each page in its own short read-only unit of work."""
    with uows.read() as uow:
        scoped = scoped_filter(uow, actor, flt, branch_id)
    return _csv_pages(uows, scoped)


def _csv_pages(uows: UnitOfWorkFactory, flt: AuditFilter) -> Iterator[str]:
    buf = io.StringIO()
    writer = csv.writer(buf)
    buf.write("\ufeff")
    writer.writerow(CSV_COLUMNS)
    last_id = 0
    while True:
        with uows.read() as uow:  # closed before the page is yielded: no transaction across a yield
            events = uow.audit.page_after(flt, after_id=last_id, limit=EXPORT_PAGE)
        for ev in events:
            writer.writerow(
                [
                    ev.id,
                    ev.at.isoformat(),
                    *(
                        safe_cell(text)
                        for text in (
                            ev.actor,
                            ev.action,
                            ev.target_type,
                            ev.target_id,
                            ev.outcome,
                            ev.ip,
                            ev.user_agent,
                        )
                    ),
                    ev.hash,
                ]
            )
        if events:
            last_id = events[-1].id
        if len(events) < EXPORT_PAGE or buf.tell() > 64_000:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
        if len(events) < EXPORT_PAGE:
            return


def verify_chain(uows: UnitOfWorkFactory) -> tuple[bool, int | None, int]:
    """Recompute the hash chain and compare the stored head (``audit_chain.check_audit_chain`` has
    every problem). Returns (ok, id of the first bad row or None, rows checked)."""
    report = check_audit_chain(uows)
    return report.ok, report.first_bad_id, report.rows
