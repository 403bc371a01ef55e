"""Resumable package uploads from local QC agents (docs/agent.md): open, send chunks, status, reports."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from dualrec.api.deps import ContainerDep, perm
from dualrec.api.schemas.common import SEARCH_PATTERN, Page
from dualrec.api.schemas.recordings import AgentUploadOut, UploadOpen
from dualrec.core.agent_package import AgentUpload
from dualrec.core.rbac import Permission as P
from dualrec.services.common.context import Actor
from dualrec.services.recordings import agent_uploads as svc

router = APIRouter(prefix="/agent-uploads", tags=["agent-uploads"])

UploadId = Annotated[str, Path(min_length=36, max_length=36, pattern=r"^[0-9a-f-]{36}$")]
_OCTETS = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


def upload_out(u: AgentUpload) -> AgentUploadOut:
    base = f"/api/v1/agent-uploads/{u.id}"
    links = {"self": base, "content": f"{base}/content"}
    if u.recording_id:
        links["recording"] = f"/api/v1/recordings/{u.recording_id}"
    if u.status == "complete":
        links.update(report=f"{base}/report", patent=f"{base}/report/patent")
    qc = u.manifest.get("qc") or {}
    return AgentUploadOut(
        id=u.id,
        package_id=u.package_id,
        running_no=u.running_no,
        business_type=u.business_type,
        size=u.size,
        received=u.received,
        status=u.status,
        agent_verdict=qc.get("verdict"),
        agent_risk_score=qc.get("risk_score"),
        task_id=u.task_id,
        recording_id=u.recording_id,
        error=u.error,
        created_at=u.created_at,
        completed_at=u.completed_at,
        links=links,
    )


@router.post(
    "", response_model=AgentUploadOut, summary="开始或续传上传包 / open (or resume) a package upload"
)
async def open_upload(
    body: UploadOpen, actor: Annotated[Actor, perm(P.RECORDINGS_UPLOAD)], container: ContainerDep
) -> AgentUploadOut:
    upload = await run_in_threadpool(
        lambda: svc.open_upload(
            container.uows,
            container.blobs,
            container.queue,
            actor=actor,
            manifest=body.manifest,
            max_bytes=container.settings.max_upload_bytes,
            task_id=body.task_id,
        )
    )
    return upload_out(upload)


@router.put(
    "/{upload_id}/content",
    response_model=AgentUploadOut,
    summary="发送数据块 / send the next chunk (at Upload-Offset)",
    openapi_extra=_OCTETS,
)
async def put_chunk(
    upload_id: UploadId,
    request: Request,
    actor: Annotated[Actor, perm(P.RECORDINGS_UPLOAD)],
    container: ContainerDep,
    upload_offset: Annotated[int, Header(alias="Upload-Offset", ge=0, le=2**62)],
) -> AgentUploadOut:
    data = await request.body()
    upload = await run_in_threadpool(
        lambda: svc.append_chunk(
            container.uows,
            container.blobs,
            container.queue,
            actor=actor,
            upload_id=upload_id,
            offset=upload_offset,
            data=data,
            max_bytes=container.settings.max_upload_bytes,
        )
    )
    return upload_out(upload)


@router.get("", response_model=Page[AgentUploadOut], summary="设备上传列表 / list package uploads")
def list_uploads(
    actor: Annotated[Actor, perm(P.RECORDINGS_READ)],
    container: ContainerDep,
    running_no: Annotated[str | None, Query(max_length=64, pattern=SEARCH_PATTERN)] = None,
    status: Annotated[str | None, Query(pattern=r"^(receiving|finalizing|complete)$")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 20,
) -> Page[AgentUploadOut]:
    items, total = svc.list_uploads(
        container.uows, actor=actor, running_no=running_no, status=status, page=page, page_size=page_size
    )
    return Page[AgentUploadOut](
        items=[upload_out(u) for u in items], total=total, page=page, page_size=page_size
    )


@router.get("/{upload_id}", response_model=AgentUploadOut, summary="上传状态 / upload status")
def get_upload(
    upload_id: UploadId, actor: Annotated[Actor, perm(P.RECORDINGS_READ)], container: ContainerDep
) -> AgentUploadOut:
    return upload_out(svc.get_upload(container.uows, actor=actor, upload_id=upload_id))


@router.get("/{upload_id}/report", summary="设备端质检报告 / the agent's native QC report")
def get_agent_report(
    upload_id: UploadId, actor: Annotated[Actor, perm(P.QC_READ)], container: ContainerDep
) -> Response:
    data = svc.open_artifact(container.uows, container.blobs, actor=actor, upload_id=upload_id, name="report")
    return Response(data, media_type="application/json")


@router.get(
    "/{upload_id}/report/patent", summary="设备端质检报告 (专利格式) / the agent's SPEC §5 check_data"
)
def get_agent_patent_report(
    upload_id: UploadId, actor: Annotated[Actor, perm(P.QC_READ)], container: ContainerDep
) -> Response:
    data = svc.open_artifact(
        container.uows, container.blobs, actor=actor, upload_id=upload_id, name="check_data"
    )
    return Response(data, media_type="application/json")
