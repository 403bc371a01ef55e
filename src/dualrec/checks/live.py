"""The identity node's result from what a self-service session proved live (``core.live_proof``).

The session checked the customer itself: the liveness challenge, the ID card read by OCR (camera or
photo album) against the task, and the card's portrait against the face of the liveness frames.
That is the identity node's result, reported as such (source ``live_session``, when it was taken).
The recording must agree with it: the face in the recording is compared with the face verified live
(``identity_match``); a recording of someone else is a critical finding.
"""

from __future__ import annotations

import statistics
from typing import Any

from dualrec.checks.base import CheckContext, finding, not_run, result
from dualrec.checks.faces import distance, face_frames
from dualrec.core.live_proof import LIVE_SOURCE, Captured, LiveProof
from dualrec.core.qc import CheckResult, CheckStatus, Finding, Severity
from dualrec.i18n import Message, msg, pair

__all__ = ["NO_LIVENESS", "id_card", "identity_match", "liveness"]

NO_LIVENESS = "本录像未做活体检测（活体检测在自助双录会话中进行）/ no liveness check for this recording"


def _source(c: Captured) -> dict[str, Any]:
    return {"source": LIVE_SOURCE, "captured_at": c.at, "time": c.time}


def _at(
    ctx: CheckContext, proof: LiveProof, check_id: str, sev: Severity, message: str | Message, c: Captured
) -> Finding:
    return finding(ctx, check_id, sev, message, start=c.time, node_id=proof.node_id or None)


def liveness(ctx: CheckContext, check_id: str) -> CheckResult:
    proof = ctx.live_proof
    if proof is None or proof.liveness is None:
        return not_run(check_id, NO_LIVENESS)
    live = proof.liveness
    metrics = {**_source(live.captured), "actions": list(live.actions), "passed": live.passed}
    if live.passed:
        return result(check_id, [], metrics)
    failed = (
        msg("finding.live.liveness_failed_because", reason=live.reason)
        if live.reason
        else msg("finding.live.liveness_failed")
    )
    return result(check_id, [_at(ctx, proof, check_id, Severity.CRITICAL, failed, live.captured)], metrics)


def id_card(ctx: CheckContext, check_id: str) -> CheckResult:
    proof = ctx.live_proof
    assert proof is not None
    front = proof.front
    if front is None:  # the identity node asks for liveness only (params.id_card: false)
        return not_run(check_id, "身份核实环节未要求出示证件 / the identity node asks for no ID card")
    out: list[Finding] = []

    def add(sev: Severity, message: Message) -> None:
        out.append(_at(ctx, proof, check_id, sev, message, front.captured))

    read = bool(front.id_number or front.name)
    if not read:
        add(Severity.MAJOR, msg("finding.live.card_front_not_read"))
    else:
        if front.number_valid is False:
            add(Severity.CRITICAL, msg("finding.id_card.invalid_check_digit", number=front.id_number))
        if front.number_matches is False:
            add(Severity.CRITICAL, msg("finding.id_card.number_differs"))
        if front.name_matches is False:
            add(
                Severity.MAJOR,
                msg("finding.id_card.name_differs", name=front.name or pair("未识别", "unread")),
            )
    back = proof.back
    if back is None or not back.passed:
        c = back.captured if back is not None else front.captured
        out.append(
            _at(
                ctx,
                proof,
                check_id,
                Severity.MAJOR,
                msg("finding.live.card_back_not_read"),
                c,
            )
        )
    metrics = {
        **_source(front.captured),
        "name": front.name or None,
        "id_number": front.id_number or None,
        "check_digit_valid": front.number_valid,
        "name_matches": front.name_matches,
        "number_matches": front.number_matches,
        "back_seen": back is not None and back.passed,
    }
    return result(check_id, out, metrics)


def identity_match(ctx: CheckContext, check_id: str) -> CheckResult:
    """The live face comparison (card portrait ↔ liveness face) and the recording ↔ the face
    verified live."""
    proof = ctx.live_proof
    assert proof is not None and proof.face_match is not None
    fm = proof.face_match
    metrics: dict[str, Any] = {
        **_source(fm.captured),
        "live_distance": fm.distance,
        "live_threshold": fm.threshold,
    }
    out: list[Finding] = []
    if not fm.passed:
        mismatch = (
            msg("finding.live.face_mismatch", distance=fm.distance, threshold=fm.threshold)
            if fm.distance is not None
            else msg("finding.live.face_comparison_not_done")
        )
        out.append(_at(ctx, proof, check_id, Severity.CRITICAL, mismatch, fm.captured))
    why = ctx.faces_error or (None if ctx.live_face is not None else ctx.live_face_error or "没有活体人脸")
    if why is not None:
        if out:
            return result(check_id, out, metrics)
        return CheckResult(
            check_id,
            CheckStatus.NOT_RUN,
            reason=f"未能核对录像中的人与活体核验的人一致 / the recording was not compared with the face "
            f"verified live: {why}",
            metrics=metrics,
        )
    ref = ctx.live_face
    assert ref is not None
    samples = [
        (f.t, min(distance(ref, o.embedding) for o in f.faces or () if o.embedding is not None))
        for f in face_frames(ctx)
        if any(o.embedding is not None for o in f.faces or ())
    ]
    metrics["video_samples"] = len(samples)
    if not samples:
        if out:
            return result(check_id, out, metrics)
        return CheckResult(
            check_id,
            CheckStatus.NOT_RUN,
            reason="录像中没有可与活体核验人脸比对的人脸 / no face in the recording to compare with the face "
            "verified live",
            metrics=metrics,
        )
    limit = ctx.threshold(check_id, "max_distance")
    median = statistics.median(d for _, d in samples)
    metrics.update(video_median_distance=round(median, 3), video_threshold=limit)
    if median > limit:
        worst = max(samples, key=lambda s: s[1])[0]
        out.append(
            finding(
                ctx,
                check_id,
                Severity.CRITICAL,
                msg("finding.live.person_recording_one_verified_live", median=median, limit=limit),
                start=samples[0][0],
                end=samples[-1][0],
                frame_time=worst,
            )
        )
    return result(check_id, out, metrics)
