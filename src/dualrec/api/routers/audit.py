"""The security audit log: search and CSV export, scoped to the caller's branch subtree."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from dualrec.api.deps import ContainerDep, perm
from dualrec.api.schemas.common import MAX_ID, SEARCH_PATTERN, AuditEventOut, Page
from dualrec.core.rbac import Permission as P
from dualrec.services.common import audit as svc
from dualrec.services.common.context import Actor

router = APIRouter(prefix="/audit-events", tags=["audit"])


def _filter(
    since: datetime | None, until: datetime | None, actor: str | None, action: str | None
) -> svc.AuditFilter:
    return svc.AuditFilter(since=since, until=until, actor=actor, action=action)


Since = Annotated[datetime | None, Query(description="ISO 8601 with time zone")]
Until = Annotated[datetime | None, Query(description="ISO 8601 with time zone")]
ActorQ = Annotated[str | None, Query(max_length=100, pattern=SEARCH_PATTERN)]
ActionQ = Annotated[str | None, Query(max_length=64, pattern=SEARCH_PATTERN)]
BranchQ = Annotated[int | None, Query(ge=1, le=MAX_ID, description="该网点及其下级 / subtree")]


@router.get("", response_model=Page[AuditEventOut], summary="审计日志 / audit log")
def list_events(
    actor: Annotated[Actor, perm(P.AUDIT_READ)],
    container: ContainerDep,
    since: Since = None,
    until: Until = None,
    by: Annotated[str | None, Query(alias="actor", max_length=100, pattern=SEARCH_PATTERN)] = None,
    action: ActionQ = None,
    branch_id: BranchQ = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[AuditEventOut]:
    items, total = svc.search(
        container.uows,
        actor=actor,
        flt=_filter(since, until, by, action),
        branch_id=branch_id,
        page=page,
        page_size=page_size,
    )
    return Page[AuditEventOut](
        items=[
            AuditEventOut(
                id=e.id,
                at=e.at,
                actor=e.actor,
                action=e.action,
                target_type=e.target_type,
                target_id=e.target_id,
                outcome=e.outcome,
                ip=e.ip,
                user_agent=e.user_agent,
                details=e.details,
                branch_id=e.branch_id,
            )
            for e in items
        ],
        total=total,
        page=page,
        page_size=page_size,
    )


@router.get("/export.csv", summary="导出审计日志 CSV / export as CSV", response_class=StreamingResponse)
def export_events(
    actor: Annotated[Actor, perm(P.AUDIT_READ)],
    container: ContainerDep,
    since: Since = None,
    until: Until = None,
    by: Annotated[str | None, Query(alias="actor", max_length=100, pattern=SEARCH_PATTERN)] = None,
    action: ActionQ = None,
    branch_id: BranchQ = None,
) -> StreamingResponse:
    return StreamingResponse(
        svc.export_csv(
            container.uows, actor=actor, flt=_filter(since, until, by, action), branch_id=branch_id
        ),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit-events.csv"'},
    )
