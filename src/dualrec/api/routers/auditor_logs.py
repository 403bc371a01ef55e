"""Auditor exports: the operation log and the litigation log by time range, business type and operator,
as a preview page, CSV or a signed PDF (services.litigation.auditor_logs)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from dualrec.api.deps import ContainerDep, ReportLanguage, perm, report_language
from dualrec.api.schemas.common import MAX_ID, SEARCH_PATTERN, Page
from dualrec.api.schemas.litigation import LogRowOut
from dualrec.bootstrap.litigation import pdf_signer
from dualrec.core.rbac import Permission as P
from dualrec.services.common.context import Actor
from dualrec.services.litigation import auditor_logs as svc

router = APIRouter(prefix="/audit-exports", tags=["audit"])

Since = Annotated[datetime | None, Query(description="ISO 8601 with time zone")]
Until = Annotated[datetime | None, Query(description="ISO 8601 with time zone")]
Operator = Annotated[str | None, Query(max_length=100, pattern=SEARCH_PATTERN, description="操作人")]
BusinessType = Annotated[str | None, Query(max_length=64, pattern=SEARCH_PATTERN, description="业务类型")]
BranchId = Annotated[int | None, Query(ge=1, le=MAX_ID, description="该网点及其下级 / subtree")]
TITLES = {"operations": "操作日志 / operation log", "litigation": "诉讼日志 / litigation log"}


def _filter(
    since: Since = None,
    until: Until = None,
    operator: Operator = None,
    business_type: BusinessType = None,
    branch_id: BranchId = None,
) -> svc.LogFilter:
    """The query parameters every export shares (a dependency, so each route declares them once)."""
    return svc.LogFilter(
        since=since,
        until=until,
        operator=operator or None,
        business_type=business_type or None,
        branch_id=branch_id,
    )


Filter = Annotated[svc.LogFilter, Depends(_filter)]


def _routes(log: svc.LogKind) -> None:
    title = TITLES[log]

    def preview(
        actor: Annotated[Actor, perm(P.AUDIT_READ)],
        container: ContainerDep,
        flt: Filter,
        page: Annotated[int, Query(ge=1, le=100_000)] = 1,
        page_size: Annotated[int, Query(ge=1, le=500)] = 50,
    ) -> Page[LogRowOut]:
        rows, total = svc.preview(
            container.uows,
            actor=actor,
            log=log,
            flt=flt,
            page=page,
            page_size=page_size,
        )
        items = [LogRowOut(**{k: v for k, v in r.__dict__.items() if k != "hash"}) for r in rows]
        return Page[LogRowOut](items=items, total=total, page=page, page_size=page_size)

    def csv_export(
        actor: Annotated[Actor, perm(P.AUDIT_READ)],
        container: ContainerDep,
        flt: Filter,
    ) -> StreamingResponse:
        body: Iterator[str] = svc.export_csv(container.uows, actor=actor, log=log, flt=flt)  # scope checked
        svc.record_export(container.uows, actor=actor, log=log, fmt="csv", flt=flt, count=None)
        return StreamingResponse(
            body,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{log}-log.csv"'},
        )

    def pdf_export(
        request: Request,
        actor: Annotated[Actor, perm(P.AUDIT_READ)],
        container: ContainerDep,
        flt: Filter,
        lang: ReportLanguage = None,
    ) -> Response:
        data, count = svc.export_pdf(
            container.uows,
            actor=actor,
            log=log,
            flt=flt,
            generated_by=actor.name,
            signer=pdf_signer(container.settings),
            language=report_language(request, lang),
        )
        svc.record_export(container.uows, actor=actor, log=log, fmt="pdf", flt=flt, count=count)
        return Response(
            data,
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'attachment; filename="{log}-log.pdf"',
                "Cache-Control": "no-store",
            },
        )

    add: Callable[..., Any] = router.add_api_route
    add(f"/{log}", preview, methods=["GET"], response_model=Page[LogRowOut], summary=f"{title}（预览）")
    add(
        f"/{log}.csv",
        csv_export,
        methods=["GET"],
        response_class=StreamingResponse,
        summary=f"导出{title} CSV",
        name=f"{log}_csv",
    )
    add(
        f"/{log}.pdf",
        pdf_export,
        methods=["GET"],
        response_class=Response,
        responses={200: {"content": {"application/pdf": {}}}},
        summary=f"导出{title} PDF（已签名）",
        name=f"{log}_pdf",
    )


_routes("operations")
_routes("litigation")
