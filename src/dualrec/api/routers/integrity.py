"""The integrity audit for auditors: the last result, and a run now (services.evidence.integrity)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter

from dualrec.api.deps import ContainerDep, perm
from dualrec.api.schemas.evidence import IntegrityAuditOut, IntegrityStatusOut
from dualrec.bootstrap.evidence import checkpoint_log, evidence_notary
from dualrec.core.rbac import Permission as P
from dualrec.services.common.context import Actor
from dualrec.services.evidence.integrity import IntegrityAudit, last_audit, run_audit

router = APIRouter(prefix="/integrity-audit", tags=["evidence"])


def _out(result: IntegrityAudit) -> IntegrityAuditOut:
    return IntegrityAuditOut(**asdict(result))


@router.get("", response_model=IntegrityStatusOut, summary="完整性审计结果 / the last integrity audit")
def status(actor: Annotated[Actor, perm(P.AUDIT_READ)], container: ContainerDep) -> IntegrityStatusOut:
    settings = container.settings
    last = last_audit(container.uows)
    log = checkpoint_log(settings)
    return IntegrityStatusOut(
        last=_out(last) if last else None,
        scheduled=settings.integrity_audit_enabled,
        interval_hours=settings.integrity_audit_interval_hours,
        checkpoint_log=log.location if log else "",
    )


@router.post(
    "/runs",
    response_model=IntegrityAuditOut,
    summary="立即执行完整性审计 / run the integrity audit now (recorded; an alert when it fails)",
)
def run_now(actor: Annotated[Actor, perm(P.AUDIT_READ)], container: ContainerDep) -> IntegrityAuditOut:
    return _out(run_audit(container.uows, evidence_notary(container.settings), trigger="api", actor=actor))
