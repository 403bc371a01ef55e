"""Question banks (题库) with draw rules, their questions, script templates, and Excel import/export."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.datastructures import UploadFile
from starlette.types import Message

from dualrec.api.deps import ContainerDep, perm
from dualrec.api.schemas import IdPath
from dualrec.api.schemas_questions import (
    AnswerIn,
    AnswerOut,
    Approval,
    BankCreate,
    BankDetailOut,
    BankOut,
    BankPatch,
    DrawRuleIn,
    ImportResultOut,
    QuestionCreate,
    QuestionOut,
    QuestionPatch,
    QuestionSavedOut,
    ReviewHitOut,
    ShortfallOut,
    TemplateCreate,
    TemplateOut,
    TemplatePatch,
    TemplateSavedOut,
)
from dualrec.core.flow import AnswerOption
from dualrec.core.question_banks import ScriptTemplate
from dualrec.core.questions import DrawRule, Question
from dualrec.core.rbac import Permission as P
from dualrec.errors import InvalidInputError
from dualrec.services.common.context import Actor
from dualrec.services.question_banks import service as svc
from dualrec.services.question_banks import workbooks as question_import
from dualrec.services.question_banks.workbook_codec import (
    MAX_BYTES,
    XLSX_MEDIA_TYPE,
    rejected,
    template_workbook,
)

router = APIRouter(tags=["questions"])
BankCode = Annotated[str, Path(min_length=1, max_length=64)]
QuestionCode = Annotated[str, Path(min_length=1, max_length=64)]
Reader = Annotated[Actor, perm(P.FLOWS_READ)]
Writer = Annotated[Actor, perm(P.FLOWS_WRITE)]


def _bank_out(d: svc.BankDetail) -> dict[str, Any]:
    b = d.bank
    return {
        "code": b.code,
        "name": b.name,
        "rules": [DrawRuleIn(**dataclasses.asdict(r)) for r in b.rules],
        "question_count": b.question_count,
        "enabled_count": b.enabled_count,
        "updated_at": b.updated_at,
        "updated_by": b.updated_by,
        "shortfalls": [ShortfallOut(**dataclasses.asdict(s)) for s in d.shortfalls],
    }


def _question_out(q: Question) -> QuestionOut:
    return QuestionOut(
        bank=q.bank,
        code=q.code,
        text=q.text,
        answers=[AnswerOut(text=a.text, synonyms=list(a.synonyms)) for a in q.answers],
        difficulty=q.difficulty,
        enabled=q.enabled,
    )


def _saved_out(s: svc.SavedQuestion) -> QuestionSavedOut:
    return QuestionSavedOut(
        **_question_out(s.question).model_dump(),
        hits=[ReviewHitOut(**dataclasses.asdict(h)) for h in s.hits],
        held_for_review=s.held_for_review,
    )


def _template_out(t: ScriptTemplate) -> TemplateOut:
    return TemplateOut(**dataclasses.asdict(t))


def _rules(rules: list[DrawRuleIn]) -> list[DrawRule]:
    return [DrawRule(**r.model_dump()) for r in rules]


def _answers(answers: list[AnswerIn]) -> tuple[AnswerOption, ...]:
    return tuple(AnswerOption(a.text, tuple(a.synonyms)) for a in answers)


def _xlsx(data: bytes, name: str) -> Response:
    return Response(
        data, media_type=XLSX_MEDIA_TYPE, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


# ------------------------------------------------------------------- Excel (before /{code} routes)


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
    data = question_import.export_workbook(container.uows, bank=bank)
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
                raise InvalidInputError(
                    "缺少文件字段 file / the form has no file field", details={"field": "file"}
                )
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
        lambda: question_import.import_workbook(
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


# ----------------------------------------------------------------------------------------- banks


@router.get("/question-banks", response_model=list[BankOut], summary="题库列表 / list question banks")
def list_banks(actor: Reader, container: ContainerDep) -> list[BankOut]:
    return [BankOut(**_bank_out(d)) for d in svc.list_banks(container.uows)]


@router.post("/question-banks", response_model=BankOut, status_code=201, summary="新建题库 / create a bank")
def create_bank(body: BankCreate, actor: Writer, container: ContainerDep) -> BankOut:
    d = svc.create_bank(container.uows, actor=actor, code=body.code, name=body.name, rules=_rules(body.rules))
    return BankOut(**_bank_out(d))


@router.get(
    "/question-banks/{code}", response_model=BankDetailOut, summary="题库及题目 / a bank and its questions"
)
def get_bank(code: BankCode, actor: Reader, container: ContainerDep) -> BankDetailOut:
    d = svc.get_bank(container.uows, code)
    return BankDetailOut(**_bank_out(d), questions=[_question_out(q) for q in d.questions])


@router.patch("/question-banks/{code}", response_model=BankOut, summary="修改题库或抽题规则 / edit a bank")
def update_bank(code: BankCode, body: BankPatch, actor: Writer, container: ContainerDep) -> BankOut:
    rules = None if body.rules is None else _rules(body.rules)
    d = svc.update_bank(container.uows, actor=actor, code=code, name=body.name, rules=rules)
    return BankOut(**_bank_out(d))


@router.delete("/question-banks/{code}", status_code=204, summary="删除题库及其题目 / delete a bank")
def delete_bank(code: BankCode, actor: Writer, container: ContainerDep) -> None:
    svc.delete_bank(container.uows, actor=actor, code=code)


# ------------------------------------------------------------------------------------- questions


@router.get(
    "/question-banks/{code}/questions", response_model=list[QuestionOut], summary="题目列表 / list questions"
)
def list_questions(code: BankCode, actor: Reader, container: ContainerDep) -> list[QuestionOut]:
    return [_question_out(q) for q in svc.list_questions(container.uows, code)]


@router.post(
    "/question-banks/{code}/questions",
    response_model=QuestionSavedOut,
    status_code=201,
    summary="新增题目（敏感词审核）/ add a question (with the sensitive-word review)",
)
def create_question(
    code: BankCode, body: QuestionCreate, actor: Writer, container: ContainerDep
) -> QuestionSavedOut:
    q = Question(body.code, code, body.text, _answers(body.answers), body.difficulty, body.enabled)
    saved = svc.save_question(
        container.uows,
        actor=actor,
        question=q,
        create=True,
        override=body.override,
        override_reason=body.override_reason,
    )
    return _saved_out(saved)


@router.get(
    "/question-banks/{code}/questions/{question_code}",
    response_model=QuestionOut,
    summary="题目 / a question",
)
def get_question(
    code: BankCode, question_code: QuestionCode, actor: Reader, container: ContainerDep
) -> QuestionOut:
    return _question_out(svc.get_question(container.uows, code, question_code))


@router.patch(
    "/question-banks/{code}/questions/{question_code}",
    response_model=QuestionSavedOut,
    summary="修改题目（敏感词审核）/ edit a question (with the sensitive-word review)",
)
def update_question(
    code: BankCode, question_code: QuestionCode, body: QuestionPatch, actor: Writer, container: ContainerDep
) -> QuestionSavedOut:
    current = svc.get_question(container.uows, code, question_code)
    q = dataclasses.replace(
        current,
        text=current.text if body.text is None else body.text,
        answers=current.answers if body.answers is None else _answers(body.answers),
        difficulty=current.difficulty if body.difficulty is None else body.difficulty,
        enabled=current.enabled if body.enabled is None else body.enabled,
    )
    saved = svc.save_question(
        container.uows,
        actor=actor,
        question=q,
        create=False,
        override=body.override,
        override_reason=body.override_reason,
    )
    return _saved_out(saved)


@router.post(
    "/question-banks/{code}/questions/{question_code}/approve",
    response_model=QuestionSavedOut,
    summary="审核通过含敏感词的题目 / approve a question held for sensitive words",
)
def approve_question(
    code: BankCode,
    question_code: QuestionCode,
    body: Approval,
    actor: Annotated[Actor, perm(P.FLOWS_OVERRIDE_REVIEW)],
    container: ContainerDep,
) -> QuestionSavedOut:
    saved = svc.approve_question(
        container.uows, actor=actor, bank=code, code=question_code, reason=body.reason
    )
    return _saved_out(saved)


@router.delete(
    "/question-banks/{code}/questions/{question_code}",
    status_code=204,
    summary="删除题目 / delete a question",
)
def delete_question(
    code: BankCode, question_code: QuestionCode, actor: Writer, container: ContainerDep
) -> None:
    svc.delete_question(container.uows, actor=actor, bank=code, code=question_code)


# ------------------------------------------------------------------------------------- templates


@router.get("/script-templates", response_model=list[TemplateOut], summary="话术模板 / script templates")
def list_templates(
    actor: Reader,
    container: ContainerDep,
    business_type: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
) -> list[TemplateOut]:
    return [_template_out(t) for t in svc.list_templates(container.uows, business_type)]


@router.post(
    "/script-templates",
    response_model=TemplateSavedOut,
    status_code=201,
    summary="新增话术模板 / add a template",
)
def create_template(body: TemplateCreate, actor: Writer, container: ContainerDep) -> TemplateSavedOut:
    t = ScriptTemplate(0, body.business_type, body.node_type, body.title, body.text)
    saved = svc.save_template(container.uows, actor=actor, template=t)
    return TemplateSavedOut(
        **_template_out(saved.template).model_dump(),
        hits=[ReviewHitOut(**dataclasses.asdict(h)) for h in saved.hits],
    )


@router.get("/script-templates/{template_id}", response_model=TemplateOut, summary="话术模板 / a template")
def get_template(template_id: IdPath, actor: Reader, container: ContainerDep) -> TemplateOut:
    return _template_out(svc.get_template(container.uows, template_id))


@router.patch(
    "/script-templates/{template_id}",
    response_model=TemplateSavedOut,
    summary="修改话术模板 / edit a template",
)
def update_template(
    template_id: IdPath, body: TemplatePatch, actor: Writer, container: ContainerDep
) -> TemplateSavedOut:
    current = svc.get_template(container.uows, template_id)
    t = dataclasses.replace(current, **body.model_dump(exclude_none=True))
    saved = svc.save_template(container.uows, actor=actor, template=t)
    return TemplateSavedOut(
        **_template_out(saved.template).model_dump(),
        hits=[ReviewHitOut(**dataclasses.asdict(h)) for h in saved.hits],
    )


@router.delete("/script-templates/{template_id}", status_code=204, summary="删除话术模板 / delete a template")
def delete_template(template_id: IdPath, actor: Writer, container: ContainerDep) -> None:
    svc.delete_template(container.uows, actor=actor, template_id=template_id)
