"""Operator views: the effective configuration (secrets masked) and background jobs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from dualrec.api.deps import ContainerDep, perm
from dualrec.api.schemas.common import JobOut
from dualrec.core.rbac import Permission as P
from dualrec.services.common.context import Actor

router = APIRouter(prefix="/system", tags=["system"])


@router.get("/settings", summary="当前配置（已脱敏）/ effective settings, secrets masked")
def get_settings(actor: Annotated[Actor, perm(P.SETTINGS_READ)], container: ContainerDep) -> dict[str, Any]:
    return container.settings.masked()


@router.get("/jobs/{job_id}", response_model=JobOut, summary="后台任务状态 / a background job")
def get_job(
    job_id: Annotated[str, Path(min_length=36, max_length=36, pattern=r"^[0-9a-f-]{36}$")],
    actor: Annotated[Actor, perm(P.JOBS_READ)],
    container: ContainerDep,
) -> JobOut:
    info = container.queue.get(job_id)
    return JobOut(
        id=info.id,
        kind=info.kind,
        status=info.status,
        attempts=info.attempts,
        max_attempts=info.max_attempts,
        progress=info.progress,
        error=info.error,
        result=dict(info.result) if info.result is not None else None,
        created_at=info.created_at,
    )
