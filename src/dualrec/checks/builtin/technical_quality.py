"""Minimum technical quality: resolution, frame rate and audio sample rate against policy."""

from __future__ import annotations

from dualrec.checks.base import CheckContext, FunctionCheck, finding, not_run, result
from dualrec.core.qc import CheckResult, Finding, Severity
from dualrec.i18n import msg

ID = "technical_quality"


def run(ctx: CheckContext) -> CheckResult:
    info = ctx.info
    if info is None or (info.video is None and info.audio is None):
        return not_run(ID, "无可读取的流信息 / no readable stream information")
    out: list[Finding] = []
    if info.video is not None:
        short = min(info.video.width, info.video.height)
        if short < ctx.threshold(ID, "min_short_side"):
            out.append(
                finding(
                    ctx,
                    ID,
                    Severity.MAJOR,
                    msg(
                        "finding.technical_quality.resolution_too_low",
                        width=info.video.width,
                        height=info.video.height,
                    ),
                )
            )
        if info.video.fps and info.video.fps < ctx.threshold(ID, "min_fps"):
            out.append(
                finding(
                    ctx,
                    ID,
                    Severity.MAJOR,
                    msg("finding.technical_quality.frame_rate_too_low", fps=info.video.fps),
                )
            )
    if info.audio is not None and info.audio.sample_rate < ctx.threshold(ID, "min_sample_rate"):
        out.append(
            finding(
                ctx,
                ID,
                Severity.MAJOR,
                msg(
                    "finding.technical_quality.audio_sample_rate_too_low", sample_rate=info.audio.sample_rate
                ),
            )
        )
    metrics: dict[str, object] = {}
    if info.video is not None:
        metrics |= {
            "width": info.video.width,
            "height": info.video.height,
            "fps": info.video.fps,
            "video_bit_rate": info.video.bit_rate,
            "video_codec": info.video.codec,
        }
    if info.audio is not None:
        metrics |= {
            "sample_rate": info.audio.sample_rate,
            "audio_bit_rate": info.audio.bit_rate,
            "audio_codec": info.audio.codec,
        }
    return result(ID, out, metrics)


CHECK = FunctionCheck(ID, run)
