"""Verbatim transcript (逐字稿) with timestamps."""

from __future__ import annotations

from dualrec.checks.base import CheckContext, FunctionCheck, finding, not_run, result
from dualrec.core.qc import CheckResult, Severity

ID = "transcript"


def run(ctx: CheckContext) -> CheckResult:
    if ctx.transcript is None:
        return not_run(ID, ctx.asr_error or ctx.audio_error or "没有音频可转写 / no audio to transcribe")
    segs = ctx.transcript
    chars = sum(len(s.text) for s in segs)
    conf = sum(s.confidence * (s.end - s.start) for s in segs) / max(1e-6, sum(s.end - s.start for s in segs))
    metrics = {
        "segments": len(segs),
        "characters": chars,
        "mean_confidence": round(conf, 3) if segs else None,
        "speech_seconds": round(sum(b - a for a, b in ctx.speech), 2),
    }
    out = []
    if segs and conf < ctx.threshold(ID, "min_confidence"):
        out.append(
            finding(
                ctx,
                ID,
                Severity.MINOR,
                f"转写置信度偏低（{conf:.2f}）/ low transcription confidence; verify by listening",
            )
        )
    return result(ID, out, metrics, confidence=round(conf, 3) if segs else 1.0)


CHECK = FunctionCheck(ID, run)
