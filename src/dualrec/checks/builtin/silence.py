"""Silence or very low audio segments."""

from __future__ import annotations

from dualrec.checks.base import CheckContext, FunctionCheck, not_run, result
from dualrec.checks.segments import flag_runs, span_findings
from dualrec.core.qc import CheckResult

ID = "silence"


def run(ctx: CheckContext) -> CheckResult:
    if not ctx.levels:
        return not_run(ID, ctx.audio_error or "没有可分析的音频 / no audio to analyse")
    floor = ctx.threshold(ID, "level_db")
    w = ctx.level_window
    times = [i * w for i in range(len(ctx.levels))]
    runs = flag_runs(times, [lv < floor for lv in ctx.levels], w, ctx.threshold(ID, "min_duration"))
    out, metrics = span_findings(ctx, ID, runs, "静音或音量过低", "silence or very low audio")
    loud = [lv for lv in ctx.levels if lv > -90]
    metrics["mean_level_db"] = round(sum(loud) / len(loud), 1) if loud else None
    return result(ID, out, metrics)


CHECK = FunctionCheck(ID, run)
