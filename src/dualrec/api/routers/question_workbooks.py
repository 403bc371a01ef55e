"""Question banks in Excel: export, the import template, and the import (validated as a whole: nothing
is imported while any row is wrong). Its routes come before the banks' ``/{code}`` routes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.datastructures import UploadFile
from starlette.types import Message

from dualrec.api.deps import ContainerDep, perm
from dualrec.api.schemas.question_banks import ImportResultOut
from dualrec.core.rbac import Permission as P
from dualrec.errors import InvalidInputError
from dualrec.i18n import msg
from dualrec.services.common.context import Actor
from dualrec.services.question_banks import workbooks
from dualrec.services.question_banks.workbook_codec import (
    MAX_BYTES,
    XLSX_MEDIA_TYPE,
    rejected,
    template_workbook,
)

router = APIRouter(tags=["questions"])
Reader = Annotated[Actor, perm(P.FLOWS_READ)]
Writer = Annotated[Actor, perm(P.FLOWS_WRITE)]


def _xlsx(data: bytes, name: str) -> Response:
    return Response(
        data, media_type=XLSX_MEDIA_TYPE, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.get(
    "/question-banks/export",
    summary="导出题库 Excel / export question banks as Excel",
    response_class=Response,
    responses={200: {"content": {XLSX_MEDIA_TYPE: {}}}},
)
def export_banks(
    actor: Reader,
    container: ContainerDep,
    bank: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
) -> Response:
    data = workbooks.export_workbook(container.uows, bank=bank)
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    return _xlsx(data, f"question-banks-{bank or 'all'}-{stamp}.xlsx")


@router.get(
    "/question-banks/template.xlsx",
    summary="下载导入模板 / download the import template",
    response_class=Response,
    responses={200: {"content": {XLSX_MEDIA_TYPE: {}}}},
)
def import_template(actor: Reader) -> Response:
    return _xlsx(template_workbook(), "question-bank-template.xlsx")


async def _upload(request: Request) -> tuple[bytes, str]:
    """The workbook: the ``file`` part of a multipart form, or the raw request body; at most
    ``MAX_BYTES`` (read while it arrives, so a huge upload is refused early)."""
    too_large = rejected(
        "too_large", f"文件超过 {MAX_BYTES // 2**20} MB 上限 / the file exceeds {MAX_BYTES // 2**20} MB"
    )
    slack = 64 * 1024  # multipart framing
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BYTES + slack:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BYTES + slack:
            raise too_large
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        data, name = bytes(body), ""
    else:
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        form = await Request(request.scope, replay).form(max_files=1, max_fields=5)
        try:
            part = form.get("file")
            if not isinstance(part, UploadFile):
                raise InvalidInputError(msg("question_workbooks.form_file_field"), details={"field": "file"})
            data, name = await part.read(), part.filename or ""
        finally:
            await form.close()
    if len(data) > MAX_BYTES:
        raise too_large
    if not data:
        raise rejected("empty", "文件是空的 / the file is empty")
    return data, name


@router.post(
    "/question-banks/import",
    response_model=ImportResultOut,
    summary="导入题库 Excel / import question banks from Excel",
    description="multipart 表单字段 file（或请求体即 .xlsx）。有任何错误时不导入任何内容，"
    "422 的 row_errors 列出每处错误（工作表、行、列、原因）。/ "
    "Multipart field `file` (or the .xlsx as the body). Nothing is imported if any row is wrong; "
    "the 422 problem lists every error in `row_errors` (sheet, row, column, problem).",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                },
                XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def import_banks(
    request: Request,
    actor: Writer,
    container: ContainerDep,
    dry_run: Annotated[bool, Query(description="只校验不写入 / validate only")] = False,
    override: Annotated[
        bool, Query(description="含敏感词的题目仍启用 / keep flagged questions enabled")
    ] = False,
    override_reason: Annotated[str | None, Query(max_length=1000)] = None,
) -> ImportResultOut:
    data, name = await _upload(request)
    result = await run_in_threadpool(
        lambda: workbooks.import_workbook(
            container.uows,
            actor=actor,
            data=data,
            filename=name,
            dry_run=dry_run,
            override=override,
            override_reason=override_reason,
        )
    )
    return ImportResultOut(
        **result.counts(),
        dry_run=result.dry_run,
        sha256=result.sha256,
        review=result.review,
        held_for_review=result.held_for_review,
    )
