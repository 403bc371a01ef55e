"""Best portrait frame of the customer (frontal, sharp, eyes open, enough pixels: the face's own
resolution, not its share of the frame), saved as the customer's photo."""

from __future__ import annotations

from dualrec.checks.base import CheckContext, FunctionCheck, finding, not_run, result
from dualrec.checks.faces import customer_portrait, faces_unusable
from dualrec.core.qc import CheckResult, Severity
from dualrec.i18n import msg

ID = "portrait"


def run(ctx: CheckContext) -> CheckResult:
    if (unusable := faces_unusable(ctx, ID)) is not None:
        return unusable
    if not ctx.frames:
        return not_run(ID, ctx.video_error or "没有可分析的画面 / no video frames to analyse")
    p = customer_portrait(ctx)
    if p is None:
        return result(ID, [finding(ctx, ID, Severity.MINOR, msg("finding.portrait.usable_portrait_frame"))])
    metrics = {"t": round(p.t, 2), "score": round(p.score, 3)}
    if p.score < ctx.threshold(ID, "min_score"):
        return result(
            ID,
            [
                finding(
                    ctx,
                    ID,
                    Severity.MINOR,
                    msg("finding.portrait.best_portrait_low_quality", score=p.score),
                    start=p.t,
                    frame_time=p.t,
                )
            ],
            metrics,
        )
    return result(ID, [], metrics)


CHECK = FunctionCheck(ID, run)
