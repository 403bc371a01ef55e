"""Recordings submitted for QC: upload, status, reports (native, patent format, PDF) and evidence frames."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Header, Path, Query, Request, UploadFile
from fastapi.responses import Response

from dualrec.api.deps import ContainerDep, ReportLanguage, perm, report_language
from dualrec.api.schemas.common import MAX_ID, SEARCH_PATTERN, Page
from dualrec.api.schemas.recordings import LiveEventsOut, LiveItemOut, RecordingOut
from dualrec.core.rbac import Permission as P
from dualrec.core.recordings import Recording
from dualrec.errors import InvalidInputError, PermissionDeniedError
from dualrec.i18n import msg, render, split_legacy
from dualrec.services.common.context import Actor
from dualrec.services.recordings import service as svc
from dualrec.services.recordings.report_pdf import pdf_artifact

router = APIRouter(prefix="/recordings", tags=["recordings"])

RecordingId = Annotated[str, Path(min_length=36, max_length=36, pattern=r"^[0-9a-f-]{36}$")]


def recording_out(rec: Recording, progress: float | None = None) -> RecordingOut:
    base = f"/api/v1/recordings/{rec.id}"
    links = {"self": base}
    if rec.status == "done":
        links.update(report=f"{base}/report", patent=f"{base}/report/patent")
        if (rec.artifacts or {}).get("pdf"):
            links["pdf"] = f"{base}/report.pdf"
    return RecordingOut(
        id=rec.id,
        running_no=rec.running_no,
        filename=rec.filename,
        size=rec.size,
        sha256=rec.sha256,
        branch_id=rec.branch_id,
        created_by=rec.created_by,
        status=rec.status,
        progress=progress,
        verdict=rec.verdict,
        risk_score=rec.risk_score,
        reasons=list((rec.summary or {}).get("reasons", [])),
        error=rec.error,
        created_at=rec.created_at,
        finished_at=rec.finished_at,
        links=links,
        task_id=str((rec.inputs or {}).get("task", {}).get("task_id") or "") or None,
    )


def _progress(container: ContainerDep, rec: Recording) -> float | None:
    """The QC job's progress while it is queued or running."""
    if rec.job_id and rec.status in ("queued", "running"):
        return container.queue.get(rec.job_id).progress
    return None


@router.post(
    "", response_model=RecordingOut, status_code=202, summary="上传录像并质检 / upload a recording for QC"
)
async def upload_recording(
    actor: Annotated[Actor, perm(P.RECORDINGS_UPLOAD)],
    container: ContainerDep,
    file: Annotated[UploadFile, File(description="MP4/MOV/WebM/MKV recording")],
    task: Annotated[
        str | None, Form(description='JSON: {"running_no", "customer_name", "id_number", "mode"}')
    ] = None,
    flow: Annotated[str | None, Form(description="JSON flow (nodes, scripts, expected answers)")] = None,
    markers: Annotated[str | None, Form(description="JSON list of markers (打点)")] = None,
    branch_id: Annotated[int | None, Form(ge=1, le=MAX_ID)] = None,
    id_photo: Annotated[UploadFile | None, File(description="ID card / stored photo (JPEG/PNG)")] = None,
    task_id: Annotated[
        str | None,
        Form(
            pattern=r"^[0-9a-f-]{36}$",
            description="the task this recording is for (needs tasks:read): its customer data and flow "
            "apply, its attempt takes the recording and moves to QC; `task` may then only give the mode",
        ),
    ] = None,
    flow_code: Annotated[
        str | None,
        Form(
            min_length=1,
            max_length=64,
            pattern=SEARCH_PATTERN,
            description="without a task: the latest published version of this flow (needs flows:read)",
        ),
    ] = None,
) -> RecordingOut:
    assert actor.principal is not None
    attach: Callable[[Any, Recording], None] | None = None
    if task_id is not None:
        if flow is not None or flow_code is not None:
            raise InvalidInputError(
                msg("recordings.task_s_flow_applies_flow"),
                details={"errors": [{"loc": ["flow"], "msg": "not allowed with task_id"}]},
            )
        if not actor.principal.can(P.TASKS_READ):
            raise PermissionDeniedError(
                msg("recordings.attaching_task_requires_tasks_read"),
                details={"permission": P.TASKS_READ.value},
            )
        target = container.tasks.recording_target(actor=actor, task_id=task_id)
        if branch_id is not None and branch_id != target.branch_id:
            raise InvalidInputError(
                msg("recordings.recording_belongs_task_s_branch"),
                details={"errors": [{"loc": ["branch_id"], "msg": "differs from the task's branch"}]},
            )
        inputs = svc.inputs_for_task(target.qc_task, target.flow, task=task, markers=markers)
        branch_id = target.branch_id
        # in the recording's own transaction: the attempt takes it (409 if the task moved meanwhile)
        attach = lambda uow, rec: container.tasks.attach_recording(uow, target, rec.id)  # noqa: E731
    elif flow_code is not None:
        if flow is not None:
            raise InvalidInputError(
                msg("recordings.give_flow_flow_code_both"),
                details={"errors": [{"loc": ["flow_code"], "msg": "not allowed with flow"}]},
            )
        if not actor.principal.can(P.FLOWS_READ):
            raise PermissionDeniedError(
                msg("recordings.choosing_flow_requires_flows_read"),
                details={"permission": P.FLOWS_READ.value},
            )
        definition = svc.published_flow(container.uows, flow_code)
        inputs = svc.parse_inputs(task=task, flow=json.dumps(definition, ensure_ascii=False), markers=markers)
    else:
        inputs = svc.parse_inputs(task=task, flow=flow, markers=markers)
    photo = await id_photo.read(svc.MAX_ID_PHOTO_BYTES + 1) if id_photo is not None else None
    rec = svc.submit_recording(
        container.uows,
        container.blobs,
        container.queue,
        actor=actor,
        data=file.file,
        filename=file.filename or "recording",
        content_type=file.content_type or "application/octet-stream",
        branch_id=branch_id,
        inputs=inputs,
        id_photo=photo,
        max_bytes=container.settings.max_upload_bytes,
        attach=attach,
    )
    return recording_out(rec, 0.0)


@router.get("", response_model=Page[RecordingOut], summary="录像列表 / list recordings")
def list_recordings(
    actor: Annotated[Actor, perm(P.RECORDINGS_READ)],
    container: ContainerDep,
    running_no: Annotated[str | None, Query(max_length=64, pattern=SEARCH_PATTERN)] = None,
    status: Annotated[str | None, Query(pattern=r"^(queued|running|done|failed)$")] = None,
    verdict: Annotated[str | None, Query(pattern=r"^(PASS|REVIEW|FAIL)$")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 20,
) -> Page[RecordingOut]:
    items, total = svc.list_recordings(
        container.uows,
        actor=actor,
        running_no=running_no,
        status=status,
        verdict=verdict,
        page=page,
        page_size=page_size,
    )
    return Page[RecordingOut](
        items=[recording_out(r, _progress(container, r)) for r in items],
        total=total,
        page=page,
        page_size=page_size,
    )


@router.get(
    "/{recording_id}", response_model=RecordingOut, summary="录像与质检状态 / recording and QC status"
)
def get_recording(
    recording_id: RecordingId, actor: Annotated[Actor, perm(P.RECORDINGS_READ)], container: ContainerDep
) -> RecordingOut:
    rec = svc.get_recording(container.uows, actor=actor, recording_id=recording_id)
    return recording_out(rec, _progress(container, rec))


@router.get(
    "/{recording_id}/live-events",
    response_model=LiveEventsOut,
    summary="远程视频通话的实时字幕与风险提示 / a remote interview's live subtitles and alerts",
)
def get_live_events(
    recording_id: RecordingId, actor: Annotated[Actor, perm(P.QC_READ)], container: ContainerDep
) -> LiveEventsOut:
    """The call's live subtitles (both parties) and risk alerts (with whether and when the
    interviewer acknowledged them) on the recording's timeline — what QC's ``live_call`` check read.
    Same access as the QC report (``qc:read``, the recording's branch scope: else 404)."""
    live = svc.live_events(container.uows, actor=actor, recording_id=recording_id)
    if live is None:
        return LiveEventsOut(available=False)
    return LiveEventsOut(
        available=True,
        duration=float(live.get("duration") or 0.0),
        asr_available=bool(live.get("asr_available", True)),
        faces_available=bool(live.get("faces_available", True)),
        identity_reference=bool(live.get("identity_reference", False)),
        segments_dropped=int(live.get("segments_dropped") or 0),
        truncated=int(live.get("truncated") or 0),
        items=[LiveItemOut.model_validate(i) for i in live.get("items") or () if isinstance(i, dict)],
    )


@router.get(
    "/{recording_id}/media", summary="录像回放（支持 Range）/ the recording for playback (Range supported)"
)
def get_media(
    recording_id: RecordingId,
    actor: Annotated[Actor, perm(P.RECORDINGS_READ)],
    container: ContainerDep,
    range_header: Annotated[str | None, Header(alias="Range", max_length=100)] = None,
) -> Response:
    part = svc.read_media(
        container.uows, container.blobs, actor=actor, recording_id=recording_id, range_header=range_header
    )
    headers = {"Accept-Ranges": "bytes", "Cache-Control": "private, max-age=300"}
    partial = range_header is not None or part.end < part.total
    if partial:
        headers["Content-Range"] = f"bytes {part.start}-{part.end - 1}/{part.total}"
    return Response(
        part.data, status_code=206 if partial else 200, media_type=part.content_type, headers=headers
    )


def _artifact(container: ContainerDep, actor: Actor, recording_id: str, name: str) -> Response:
    data, content_type = svc.open_artifact(
        container.uows, container.blobs, actor=actor, recording_id=recording_id, name=name
    )
    headers: dict[str, Any] = {"Cache-Control": "private, max-age=300"}
    if content_type == "application/pdf":
        headers["Content-Disposition"] = f'inline; filename="qc-{recording_id}.pdf"'
    return Response(data, media_type=content_type, headers=headers)


def _with_localized(node: Any, language: str) -> Any:
    """The stored report with each finding's (and reason's) text in one language added next to it:
    ``message_localized``, ``reason_localized``, ``reasons_localized``; the stored texts stay."""
    if isinstance(node, list):
        return [_with_localized(v, language) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _with_localized(v, language) for k, v in node.items()}
    message = node.get("message")
    if isinstance(message, str) and ("severity" in node or "message_key" in node):
        key = node.get("message_key")
        params = node.get("params") if isinstance(node.get("params"), dict) else {}
        out["message_localized"] = (
            render(key, params, language) if isinstance(key, str) else split_legacy(message, language)
        )
    reason = node.get("reason")
    if isinstance(reason, str) and "status" in node:  # a check's why (not run, error)
        out["reason_localized"] = split_legacy(reason, language)
    reasons = node.get("reasons")
    if isinstance(reasons, list) and all(isinstance(r, str) for r in reasons):
        out["reasons_localized"] = [split_legacy(r, language) for r in reasons]
    return out


@router.get("/{recording_id}/report", summary="质检报告 (JSON) / native QC report")
def get_report(
    recording_id: RecordingId,
    request: Request,
    actor: Annotated[Actor, perm(P.QC_READ)],
    container: ContainerDep,
    lang: ReportLanguage = None,
) -> Response:
    """The stored native report; every finding also carries ``message_localized`` in the requested
    language (``lang``, else the requester's)."""
    data, content_type = svc.open_artifact(
        container.uows, container.blobs, actor=actor, recording_id=recording_id, name="report"
    )
    body = _with_localized(json.loads(data), report_language(request, lang))
    return Response(
        json.dumps(body, ensure_ascii=False).encode(),
        media_type=content_type,
        headers={"Cache-Control": "private, max-age=300", "Vary": "Accept-Language"},
    )


@router.get("/{recording_id}/report/patent", summary="质检报告 (专利格式) / report in the SPEC §5 format")
def get_patent_report(
    recording_id: RecordingId, actor: Annotated[Actor, perm(P.QC_READ)], container: ContainerDep
) -> Response:
    return _artifact(container, actor, recording_id, "patent")


@router.get("/{recording_id}/report.pdf", summary="质检报告 PDF / PDF report")
def get_pdf_report(
    recording_id: RecordingId,
    request: Request,
    actor: Annotated[Actor, perm(P.QC_READ)],
    container: ContainerDep,
    lang: ReportLanguage = None,
) -> Response:
    """The QC report as a PDF in one language: ``lang`` (zh-CN or en), else the requester's."""
    response = _artifact(container, actor, recording_id, pdf_artifact(report_language(request, lang)))
    response.headers["Vary"] = "Accept-Language"
    return response


@router.get("/{recording_id}/evidence/{name}", summary="证据帧 / evidence frame")
def get_evidence(
    recording_id: RecordingId,
    name: Annotated[str, Path(max_length=90, pattern=r"^[A-Za-z0-9._-]+$")],
    actor: Annotated[Actor, perm(P.QC_READ)],
    container: ContainerDep,
) -> Response:
    if name.startswith("idcard_") and not (actor.principal and actor.principal.can(P.SENSITIVE_UNMASK)):
        raise PermissionDeniedError(  # the frame shows the whole ID card: personal data (JR/T 0171)
            msg("recordings.id_card_image_requires_sensitive"),
            details={"permission": P.SENSITIVE_UNMASK.value},
        )
    return _artifact(container, actor, recording_id, f"evidence/{name}")
