"""Frozen picture segments: consecutive samples with (almost) no change, outside black segments."""

from __future__ import annotations

from dualrec.checks.base import CheckContext, FunctionCheck, not_run, result
from dualrec.checks.segments import flag_runs, span_findings
from dualrec.core.qc import CheckResult

ID = "frozen_picture"


def run(ctx: CheckContext) -> CheckResult:
    if len(ctx.frames) < 2:
        return not_run(ID, ctx.video_error or "没有足够的画面 / not enough video frames to analyse")
    still = ctx.threshold(ID, "motion_max")
    luma, contrast = ctx.threshold("black_screen", "luma_max"), ctx.threshold("black_screen", "contrast_max")
    step = ctx.frame_interval
    frames = ctx.frames
    flags = [
        f.motion is not None and f.motion < still and not f.is_dark_or_covered(luma, contrast) for f in frames
    ]
    # a still picture re-encoded at a keyframe changes a little for one sample: close such gaps
    for i in range(1, len(flags) - 1):
        m = frames[i].motion
        if not flags[i] and flags[i - 1] and flags[i + 1] and m is not None and m < 10 * still:
            flags[i] = True
    runs = flag_runs([f.t for f in frames], flags, step, ctx.threshold(ID, "min_duration") - step)
    # a run starts at the first sample equal to the one before it: the freeze began one step earlier
    runs = [(max(0.0, a - step), b) for a, b in runs]
    out, metrics = span_findings(ctx, ID, runs, "画面冻结", "frozen picture")
    return result(ID, out, metrics)


CHECK = FunctionCheck(ID, run)
