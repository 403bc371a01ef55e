"""Time-run helpers shared by the checks: turn per-sample flags into (start, end) segments."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from dualrec.checks.base import CheckContext, FrameAnalysis, finding
from dualrec.core.qc import Finding, Measure, Severity

__all__ = ["flag_runs", "frame_runs", "merge_close", "span_findings"]


def flag_runs(
    times: Sequence[float], flags: Sequence[bool], step: float, min_duration: float
) -> list[tuple[float, float]]:
    """Runs of consecutive True flags lasting at least ``min_duration``; a run ends one ``step``
    after its last flagged sample. A jump in ``times`` larger than 2×step breaks a run."""
    runs: list[tuple[float, float]] = []
    start: float | None = None
    prev: float | None = None
    for t, flag in zip(times, flags, strict=True):
        if start is not None and prev is not None and (not flag or t - prev > 2 * step):
            runs.append((start, prev + step))
            start = None
        if flag and start is None:
            start = t
        prev = t
    if start is not None and prev is not None:
        runs.append((start, prev + step))
    return [(a, b) for a, b in runs if b - a >= min_duration - 1e-6]


def frame_runs(
    frames: Sequence[FrameAnalysis], pred: Callable[[FrameAnalysis], bool], step: float, min_duration: float
) -> list[tuple[float, float]]:
    return flag_runs([f.t for f in frames], [pred(f) for f in frames], step, min_duration)


def merge_close(runs: Sequence[tuple[float, float]], gap: float) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for a, b in sorted(runs):
        if out and a - out[-1][1] <= gap:
            out[-1] = (out[-1][0], max(b, out[-1][1]))
        else:
            out.append((a, b))
    return out


def span_findings(
    ctx: CheckContext, check_id: str, runs: Sequence[tuple[float, float]], what_zh: str, what_en: str
) -> tuple[list[Finding], dict[str, object]]:
    """One major finding per defective span ("<zh> 3.0s / <en>", evidence frame at its middle),
    and the metrics every span check reports: how many spans and how many seconds in all."""
    findings = [
        finding(
            ctx,
            check_id,
            Severity.MAJOR,
            f"{what_zh} {b - a:.1f}s / {what_en}",
            start=a,
            end=b,
            frame_time=(a + b) / 2,
            measure=Measure(
                "min_duration", round(b - a, 2), ctx.threshold(check_id, "min_duration"), "above"
            ),
        )
        for a, b in runs
    ]
    return findings, {"segments": len(runs), "seconds": round(sum(b - a for a, b in runs), 2)}
