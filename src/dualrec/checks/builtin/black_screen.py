"""Black or covered picture segments (dark or uniform frames)."""

from __future__ import annotations

from dualrec.checks.base import CheckContext, FunctionCheck, finding, not_run, result
from dualrec.checks.segments import frame_runs
from dualrec.core.qc import CheckResult, Severity

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
    out = [
        finding(
            ctx,
            ID,
            Severity.MAJOR,
            f"黑屏或画面被遮挡 {b - a:.1f}s / black or covered picture",
            start=a,
            end=b,
            frame_time=(a + b) / 2,
        )
        for a, b in runs
    ]
    return result(ID, out, {"segments": len(runs), "seconds": round(sum(b - a for a, b in runs), 2)})


CHECK = FunctionCheck(ID, run)
