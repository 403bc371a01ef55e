"""Evidence leaving the system: the signed litigation report (诉讼报告), the evidence package for
authorised systems, and pushes to the archive system. Every one is audited (the litigation log)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse, Response
from starlette.background import BackgroundTask

from dualrec.api.deps import ContainerDep, ReportLanguage, perm, report_language
from dualrec.api.routers.recordings import RecordingId
from dualrec.api.schemas.litigation import LitigationSettingsOut, PushOut
from dualrec.bootstrap.evidence import evidence_notary
from dualrec.bootstrap.litigation import archive_push_config, pdf_signer
from dualrec.core.rbac import Permission as P
from dualrec.services.archive import push as archive_push
from dualrec.services.common.context import Actor
from dualrec.services.litigation.report import litigation_report

router = APIRouter(tags=["litigation"])

JobId = Annotated[str, Path(min_length=36, max_length=36, pattern=r"^[0-9a-f-]{36}$")]


@router.get(
    "/litigation/settings",
    response_model=LitigationSettingsOut,
    summary="诉讼报告签名证书与推送设置 / the report-signing certificate and the archive push",
)
def get_litigation_settings(
    actor: Annotated[Actor, perm(P.EVIDENCE_EXPORT)], container: ContainerDep
) -> LitigationSettingsOut:
    cert = pdf_signer(container.settings).certificate
    return LitigationSettingsOut(
        certificate_subject=cert.subject,
        certificate_sha256=cert.sha256,
        certificate_not_after=cert.not_after,
        demo_certificate=container.settings.litigation_pkcs12_file is None,
        time_stamping=bool(container.settings.litigation_tsa_url),
        archive_push=archive_push_config(container.settings).enabled,
    )


@router.get(
    "/litigation/certificate.pem",
    summary="签名证书 (PEM) / the certificate that signs litigation reports",
    response_class=Response,
    responses={200: {"content": {"application/x-pem-file": {}}}},
)
def get_certificate(actor: Annotated[Actor, perm(P.EVIDENCE_EXPORT)], container: ContainerDep) -> Response:
    pem = pdf_signer(container.settings).certificate.pem
    return Response(
        pem,
        media_type="application/x-pem-file",
        headers={"Content-Disposition": 'attachment; filename="litigation-signer.pem"'},
    )


@router.get(
    "/recordings/{recording_id}/litigation.pdf",
    summary="诉讼报告（已签名 PDF）/ the signed litigation report",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def get_litigation_pdf(
    recording_id: RecordingId,
    actor: Annotated[Actor, perm(P.EVIDENCE_EXPORT)],
    container: ContainerDep,
    request: Request,
    unmask: Annotated[bool, Query(description="未脱敏（需 sensitive:unmask）/ unmasked")] = False,
    lang: ReportLanguage = None,
) -> Response:
    """The signed litigation report in one language: ``lang`` (zh-CN or en), else the requester's."""
    settings = container.settings
    report = litigation_report(
        container.uows,
        container.blobs,
        container.secretbox,
        actor=actor,
        recording_id=recording_id,
        unmask=unmask,
        pdf_signer=pdf_signer(settings),
        evidence_notary=lambda: evidence_notary(settings),
        language=report_language(request, lang),
    )
    return Response(
        report.pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{report.filename}"',
            "Cache-Control": "no-store",
            "X-Content-SHA256": report.sha256,
            "X-Dualrec-Report-Id": report.report_id,
        },
    )


@router.get(
    "/recordings/{recording_id}/evidence-package.zip",
    summary="存证包下载（供授权系统）/ the evidence package, for authorised systems",
    response_class=FileResponse,
    responses={200: {"content": {"application/zip": {}}}},
)
def download_package(
    recording_id: RecordingId, actor: Annotated[Actor, perm(P.EVIDENCE_EXPORT)], container: ContainerDep
) -> FileResponse:
    settings = container.settings
    package = archive_push.package_for_download(
        container.uows,
        container.blobs,
        evidence_notary(settings),
        settings.data_dir / "scratch",
        actor=actor,
        recording_id=recording_id,
    )
    return FileResponse(
        package.path,
        media_type="application/zip",
        filename=package.filename,
        headers={"Cache-Control": "no-store", "X-Content-SHA256": package.sha256},
        background=BackgroundTask(package.cleanup),
    )


@router.post(
    "/recordings/{recording_id}/archive-push",
    response_model=PushOut,
    status_code=202,
    summary="推送存证包到档案系统 / push the evidence package to the archive system",
)
def push_to_archive(
    recording_id: RecordingId, actor: Annotated[Actor, perm(P.EVIDENCE_EXPORT)], container: ContainerDep
) -> PushOut:
    job_id = archive_push.request_push(
        container.uows,
        container.queue,
        archive_push_config(container.settings),
        actor=actor,
        recording_id=recording_id,
    )
    return PushOut(**archive_push.push_status(container.uows, container.queue, actor=actor, job_id=job_id))


@router.get("/archive-pushes/{job_id}", response_model=PushOut, summary="推送状态 / state of a push")
def get_push(
    job_id: JobId, actor: Annotated[Actor, perm(P.EVIDENCE_EXPORT)], container: ContainerDep
) -> PushOut:
    return PushOut(**archive_push.push_status(container.uows, container.queue, actor=actor, job_id=job_id))
