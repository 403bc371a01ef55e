"""Liveness: what the self-service session's challenge proved (never decided from the video)."""

from __future__ import annotations

from dualrec.checks import live
from dualrec.checks.base import CheckContext, FunctionCheck
from dualrec.core.qc import CheckResult

ID = "liveness"


def run(ctx: CheckContext) -> CheckResult:
    return live.liveness(ctx, ID)


CHECK = FunctionCheck(ID, run)
