"""Call quality of remote interviews (SPEC §8): each participant's browser reports what it received
every 2 s; the answer scores it (audio MOS estimate, video grade, what is under the §8 minimum)
and carries the other party's last score, which is what the agent's desk shows with its alarm.

- ``POST /rtc/tasks/{id}/quality``: the agent (``interview:conduct``, branch scope → 404).
- ``POST /rtc/entry/{token}/quality``: the customer (the attempt's link token → 401 otherwise).
- ``GET /rtc/tasks/{id}/quality``: the last score of each party (the desk, a supervisor).
Bodies over 4 KB → 413, unknown fields or numbers out of range → 422, more than one report a
second → 429, no call running → 409. See services/rtc/quality.py."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from dualrec.api.deps import ContainerDep, perm
from dualrec.api.schemas.rtc_quality import (
    MAX_REPORT_BYTES,
    QualityLatestOut,
    QualityReportIn,
    QualityReportOut,
    QualityScoreOut,
    ServerViewOut,
)
from dualrec.bootstrap.container import Container
from dualrec.core.call_quality import MIN_GRADE, MIN_MOS
from dualrec.core.rbac import Permission as P
from dualrec.errors import NotFoundError, QuotaExceededError
from dualrec.i18n import msg
from dualrec.services.common.context import Actor
from dualrec.services.rtc.quality import QualityReport, QualityService, Scored

router = APIRouter(prefix="/rtc", tags=["rtc"])
public = APIRouter(prefix="/rtc", tags=["rtc"])

TaskId = Annotated[str, Path(min_length=1, max_length=36)]
Token = Annotated[str, Path(min_length=10, max_length=400)]


def _small_body(request: Request) -> None:
    declared = request.headers.get("content-length")
    if declared is None or not declared.isdigit() or int(declared) > MAX_REPORT_BYTES:
        raise QuotaExceededError(
            msg("rtc_quality.quality_report_most_bytes", MAX_REPORT_BYTES=MAX_REPORT_BYTES)
        )


SmallBody = Depends(_small_body)


def _service(container: Container) -> QualityService:
    if container.rtc is None:
        raise NotFoundError(msg("rtc_quality.remote_interviews_enabled_dualrec_rtc"))
    return QualityService(container.uows, container.tasks)


def _out(s: Scored) -> QualityScoreOut:
    return QualityScoreOut(**asdict(s))


def _answer(scored: tuple[Scored, Scored | None]) -> QualityReportOut:
    own, peer = scored
    return QualityReportOut(
        own=_out(own), peer=_out(peer) if peer else None, min_mos=MIN_MOS, min_grade=MIN_GRADE
    )


@router.post(
    "/tasks/{task_id}/quality",
    response_model=QualityReportOut,
    dependencies=[SmallBody],
    summary="坐席上报通话质量 / the agent's browser reports the call quality",
)
def agent_report(
    task_id: TaskId,
    body: QualityReportIn,
    actor: Annotated[Actor, perm(P.INTERVIEW_CONDUCT)],
    container: ContainerDep,
) -> QualityReportOut:
    report = QualityReport(**body.model_dump())
    return _answer(_service(container).report_agent(actor=actor, task_id=task_id, report=report))


@router.get(
    "/tasks/{task_id}/quality",
    response_model=QualityLatestOut,
    summary="通话双方的最新质量 / the last quality score of each party of the call",
)
def latest(
    task_id: TaskId, actor: Annotated[Actor, perm(P.INTERVIEW_CONDUCT)], container: ContainerDep
) -> QualityLatestOut:
    service = _service(container)
    parties = service.latest(actor=actor, task_id=task_id)
    server = [ServerViewOut(**v) for v in service.server_view(actor=actor, task_id=task_id)]
    return QualityLatestOut(
        parties=[_out(s) for s in parties], min_mos=MIN_MOS, min_grade=MIN_GRADE, server=server
    )


@public.post(
    "/entry/{token}/quality",
    response_model=QualityReportOut,
    dependencies=[SmallBody],
    summary="客户上报通话质量（凭链接令牌）/ the customer's browser reports the call quality (link token)",
)
def customer_report(token: Token, body: QualityReportIn, container: ContainerDep) -> QualityReportOut:
    report = QualityReport(**body.model_dump())
    return _answer(_service(container).report_customer(token, report))
