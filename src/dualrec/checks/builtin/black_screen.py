"""Black or covered picture segments (dark or uniform frames)."""

from __future__ import annotations

from dualrec.checks.base import CheckContext, FunctionCheck, not_run, result
from dualrec.checks.segments import frame_runs, span_findings
from dualrec.core.qc import CheckResult

ID = "black_screen"


def run(ctx: CheckContext) -> CheckResult:
    if not ctx.frames:
        return not_run(ID, ctx.video_error or "没有可分析的画面 / no video frames to analyse")
    luma, contrast = ctx.threshold(ID, "luma_max"), ctx.threshold(ID, "contrast_max")
    runs = frame_runs(
        ctx.frames,
        lambda f: f.is_dark_or_covered(luma, contrast),
        ctx.frame_interval,
        ctx.threshold(ID, "min_duration"),
    )
    out, metrics = span_findings(ctx, ID, runs, "黑屏或画面被遮挡", "black or covered picture")
    return result(ID, out, metrics)


CHECK = FunctionCheck(ID, run)
