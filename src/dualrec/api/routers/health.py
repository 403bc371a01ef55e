"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from dualrec import __version__
from dualrec.api.deps import ContainerDep

router = APIRouter(tags=["health"])


@router.get("/health", summary="存活检查 / liveness")
def health() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


@router.get("/ready", summary="就绪检查 / readiness")
def ready(container: ContainerDep) -> JSONResponse:
    checks = {"database": container.database_ready()}
    ok = all(checks.values())
    return JSONResponse(
        {"status": "ready" if ok else "not_ready", "checks": checks}, status_code=200 if ok else 503
    )
