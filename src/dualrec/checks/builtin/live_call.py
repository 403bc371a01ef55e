"""Remote interviews: what the server's live analysis raised during the call, and what the
interviewer did about it. Not run for recordings that are not calls analysed live.

- A **risk alert on speech** (a sensitive word, the customer's answer contradicting the running
  node's expected answer) that the interviewer did **not** acknowledge is a major finding (REVIEW):
  the desk showed it and nobody handled it. An acknowledged one is listed as info (who, when).
- A **live face alert** (no face, several faces, covered, dark) is compared with the recording's
  own checks on the composite, which already look for faces (``people_count``: fewer than two or
  more than two people; ``face_presence``; ``black_screen``/``technical_quality`` for a covered or
  dark picture). When one of them has a finding around the alert's time the alert is listed as info
  naming that finding — the recording's finding already counts, it is not counted twice. When none
  has, the live check saw something the recording's checks did not (a short absence under their
  minimum length, or the composite's detector missed the small customer picture): a minor finding
  asks a person to look (REVIEW; a ``passed`` must be true). ``not_customer`` (a face other than
  the one verified before the hand-over) has no counterpart on the recording: always major.
- The live worker's own limits are stated as info: no speech recogniser (no subtitles, no speech
  alerts), no face engine, speech it dropped under load.

Runs after the other checks (``after_others``): it reads their findings from ``ctx.prior_results``.
"""

from __future__ import annotations

from collections.abc import Iterable

from dualrec.checks.base import CheckContext, finding, not_run, result
from dualrec.core.live_record import FACE_CODES, LiveItem
from dualrec.core.qc import CheckResult, Finding, Severity
from dualrec.i18n import msg, pair

__all__ = ["CHECK", "ID", "LiveCallCheck"]

ID = "live_call"
QUOTE = 80  # characters of the subtitle quoted in a finding

# the recording's checks that look for the same condition on the composite
CORROBORATING: dict[str, tuple[str, ...]] = {
    "no_face": ("people_count", "face_presence"),
    "multiple_faces": ("people_count",),
    "covered": ("black_screen", "technical_quality", "people_count"),
    "dark": ("black_screen", "technical_quality", "people_count"),
}
FACE_WHAT: dict[str, tuple[str, str]] = {
    "no_face": ("客户不在画面中", "the customer was not in the picture"),
    "multiple_faces": ("客户画面中出现多人", "several people in the customer's picture"),
    "not_customer": (
        "画面中的人与交接前核验通过的客户不一致",
        "the person was not the customer verified before",
    ),
    "covered": ("客户摄像头被遮挡", "the customer's camera was covered"),
    "dark": ("客户画面过暗", "the customer's picture was too dark"),
}
CHECK_NAMES: dict[str, tuple[str, str]] = {
    "people_count": ("同框人数", "people in frame"),
    "face_presence": ("人脸在场", "face presence"),
    "black_screen": ("黑屏", "black picture"),
    "technical_quality": ("技术质量", "technical quality"),
}


def _speech_what(item: LiveItem) -> str:
    who_zh, who_en = ("客户", "customer") if item.speaker == "customer" else ("坐席", "agent")
    if item.code == "sensitive_word":
        words = "、".join(item.words) or "?"
        return pair(
            f"{who_zh}说出敏感词：{words}", f"the {who_en} said a sensitive word: {', '.join(item.words)}"
        )
    if item.code == "contradiction":
        return pair(
            f"客户回答与节点「{item.node_id}」的预期答案不符",
            f"the customer's answer contradicted the expected answer of node {item.node_id}",
        )
    return pair(item.code, item.code)


def _window(ctx: CheckContext, item: LiveItem) -> tuple[float, float]:
    """Where the condition a live face alert reports lay: it had lasted ``before`` seconds when it
    was raised (the analyser's debounce plus a frame interval), and may have lasted on after."""
    return item.start - ctx.threshold(ID, "face_before"), item.start + ctx.threshold(ID, "face_after")


def _overlapping(findings: Iterable[Finding], a: float, b: float) -> Finding | None:
    for f in findings:
        if f.start is None or f.severity is Severity.INFO:
            continue
        end = f.end if f.end is not None else f.start
        if f.start <= b and end >= a:
            return f
    return None


def _face(ctx: CheckContext, item: LiveItem) -> Finding:
    what = pair(*FACE_WHAT.get(item.code, (item.code, item.code)))
    if item.code == "not_customer":
        return finding(
            ctx, ID, Severity.MAJOR, msg("finding.live_call.not_customer", t=item.start), start=item.start
        )
    prior = {r.check_id: r for r in ctx.prior_results}
    a, b = _window(ctx, item)
    for check_id in CORROBORATING.get(item.code, ()):
        r = prior.get(check_id)
        hit = _overlapping(r.findings, a, b) if r is not None else None
        if hit is not None:
            start = hit.start or 0.0
            return finding(
                ctx,
                ID,
                Severity.INFO,
                msg(
                    "finding.live_call.face_confirmed",
                    what=what,
                    check=pair(*CHECK_NAMES.get(check_id, (check_id, check_id))),
                    start=start,
                    end=hit.end if hit.end is not None else start,
                ),
                start=item.start,
                frame_time=item.start,
            )
    return finding(
        ctx,
        ID,
        Severity.MINOR,
        msg("finding.live_call.face_unconfirmed", what=what, t=item.start),
        start=item.start,
        frame_time=item.start,
    )


def run(ctx: CheckContext) -> CheckResult:
    live = ctx.live_call
    if live is None:
        return not_run(ID, "不是实时分析过的远程视频通话 / not a remote-interview call analysed live")
    out: list[Finding] = []
    unacked = acked = confirmed = unconfirmed = 0
    for item in live.alerts:
        text = item.text[:QUOTE].replace(" / ", "/")  # a "zh / en" split must not cut the quote
        quote = text or None
        if item.code in FACE_CODES:
            f = _face(ctx, item)
            confirmed += f.severity is Severity.INFO
            unconfirmed += f.severity is not Severity.INFO
            out.append(f)
            continue
        what = _speech_what(item)
        common = {
            "start": item.start,
            "end": item.end,
            "quote": quote,
            "quote_start": item.start if quote else None,
            "quote_end": item.end if quote else None,
            "node_id": item.node_id or None,
        }
        if item.acked:
            acked += 1
            message = msg(
                "finding.live_call.alert_acknowledged",
                what=what,
                by=item.acked_by or "?",
                at=item.acked_t or 0.0,
                quote=text,
            )
            out.append(finding(ctx, ID, Severity.INFO, message, **common))  # type: ignore[arg-type]
        else:
            unacked += 1
            message = msg("finding.live_call.alert_unacknowledged", what=what, quote=text)
            out.append(finding(ctx, ID, Severity.MAJOR, message, **common))  # type: ignore[arg-type]
    if not live.asr_available:
        out.append(finding(ctx, ID, Severity.INFO, msg("finding.live_call.asr_unavailable")))
    if not live.faces_available:
        out.append(finding(ctx, ID, Severity.INFO, msg("finding.live_call.faces_unavailable")))
    if not live.video_decoded:
        out.append(finding(ctx, ID, Severity.INFO, msg("finding.live_call.video_undecodable")))
    if live.segments_dropped:
        out.append(
            finding(
                ctx, ID, Severity.INFO, msg("finding.live_call.segments_dropped", n=live.segments_dropped)
            )
        )
    out.sort(key=lambda f: (f.start if f.start is not None else 1e18, f.message))
    metrics = {
        "subtitles": len(live.subtitles),
        "alerts": len(live.alerts),
        "unacknowledged": unacked,
        "acknowledged": acked,
        "face_alerts_confirmed": confirmed,
        "face_alerts_unconfirmed": unconfirmed,
        "identity_reference": live.identity_reference,
        "segments_dropped": live.segments_dropped,
    }
    return result(ID, out, metrics)


class LiveCallCheck:
    """After the other checks: a live face alert is weighed against their findings."""

    id = ID
    after_others = True

    @staticmethod
    def enabled(ctx: CheckContext) -> bool:
        """Left out of the report of a recording that is no call analysed live."""
        return ctx.live_call is not None

    def run(self, ctx: CheckContext) -> CheckResult:
        return run(ctx)


CHECK = LiveCallCheck()
