"""File integrity: container opens, streams decode to the end, no truncation or timestamp gaps.

Only what the file itself does is a finding. Where an engine error (``ctx.engine_errors``) kept a
stream from being checked, the check ends ``error`` with that reason — never "decode failed"."""

from __future__ import annotations

from dualrec.checks.base import CheckContext, FunctionCheck, finding, result
from dualrec.core.qc import CheckResult, CheckStatus, Finding, Severity
from dualrec.i18n import msg
from dualrec.media.ports import DecodeReport

ID = "file_integrity"


def _stream(
    ctx: CheckContext, name: str, rep: DecodeReport | None, error: str | None, stated: float | None
) -> list[Finding]:
    label = {"video": "视频流 / video stream", "audio": "音频流 / audio stream"}[name]
    out: list[Finding] = []
    if error is not None:
        return [
            finding(
                ctx,
                ID,
                Severity.CRITICAL,
                msg("finding.file_integrity.decode_failed", label=label, error=error),
            )
        ]
    if rep is None:
        return out
    if rep.frames_decoded == 0:
        return [
            finding(ctx, ID, Severity.CRITICAL, msg("finding.file_integrity.nothing_decodes", label=label))
        ]
    if not rep.complete:
        detail = "; ".join(rep.errors[:3])
        out.append(
            finding(
                ctx,
                ID,
                Severity.CRITICAL,
                msg(
                    "finding.file_integrity.decoding_stops_truncated_corrupt",
                    label=label,
                    value=rep.last_pts or 0,
                    detail=detail,
                ),
                start=rep.last_pts,
                frame_time=rep.last_pts,
            )
        )
    elif (
        stated
        and rep.last_pts is not None
        and stated - rep.last_pts > ctx.threshold(ID, "truncation_tolerance")
    ):
        out.append(
            finding(
                ctx,
                ID,
                Severity.CRITICAL,
                msg(
                    "finding.file_integrity.decodes_s_stated_s_truncated",
                    label=label,
                    last_pts=rep.last_pts,
                    stated=stated,
                ),
                start=rep.last_pts,
                end=stated,
            )
        )
    for a, b in rep.gaps:
        out.append(
            finding(
                ctx,
                ID,
                Severity.MAJOR,
                msg("finding.file_integrity.timestamp_gap_interruption_s", label=label, value=b - a),
                start=a,
                end=b,
                frame_time=a,
            )
        )
    return out


def run(ctx: CheckContext) -> CheckResult:
    if ctx.probe_error is None and ctx.info is None and "probe" in ctx.engine_errors:
        return CheckResult(ID, CheckStatus.ERROR, reason=ctx.engine_errors["probe"])
    if ctx.probe_error is not None or ctx.info is None:
        cannot_open = msg("finding.file_integrity.cannot_open", error=ctx.probe_error)
        return result(ID, [finding(ctx, ID, Severity.CRITICAL, cannot_open)])
    info = ctx.info
    out: list[Finding] = []
    if info.video is None:
        out.append(finding(ctx, ID, Severity.CRITICAL, msg("finding.file_integrity.video_stream")))
    else:
        out += _stream(ctx, "video", ctx.video, ctx.video_error, info.video.duration or info.duration)
    if info.audio is None:
        out.append(finding(ctx, ID, Severity.CRITICAL, msg("finding.file_integrity.audio_stream")))
    else:
        out += _stream(ctx, "audio", ctx.audio, ctx.audio_error, info.audio.duration or info.duration)
    v_end = ctx.video.last_pts if ctx.video else None
    a_end = ctx.audio.last_pts if ctx.audio else None
    if v_end is not None and a_end is not None and ctx.video and ctx.video.complete:
        diff = abs(v_end - a_end)
        if diff > ctx.threshold(ID, "max_duration_mismatch"):
            out.append(
                finding(
                    ctx,
                    ID,
                    Severity.MAJOR,
                    msg(
                        "finding.file_integrity.audio_video_durations_differ_s",
                        v_end=v_end,
                        a_end=a_end,
                        diff=diff,
                    ),
                    start=min(v_end, a_end),
                    end=max(v_end, a_end),
                )
            )
    unchecked = [
        ctx.engine_errors[name]
        for name, rep, error in (("video", ctx.video, ctx.video_error), ("audio", ctx.audio, ctx.audio_error))
        if rep is None and error is None and name in ctx.engine_errors
    ]
    metrics = {
        "format": info.format_name,
        "size_bytes": info.size_bytes,
        "duration": info.duration,
        "video": None if info.video is None else vars(info.video),
        "audio": None if info.audio is None else vars(info.audio),
        "video_decoded_to": v_end,
        "audio_decoded_to": a_end,
    }
    if unchecked:  # not decoded to the end because an engine broke: unknown, not damaged
        why = "未能检查完整 / not checked to the end: " + "; ".join(unchecked)
        return CheckResult(ID, CheckStatus.ERROR, tuple(out), reason=why, metrics=metrics)
    return result(ID, out, metrics)


CHECK = FunctionCheck(ID, run)
