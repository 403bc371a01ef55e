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

__all__ = ["NO_LIVENESS", "id_card", "identity_match", "liveness"]

NO_LIVENESS = "本录像未做活体检测（活体检测在自助双录会话中进行）/ no liveness check for this recording"


def _source(c: Captured) -> dict[str, Any]:
    return {"source": LIVE_SOURCE, "captured_at": c.at, "time": c.time}


def _at(ctx: CheckContext, proof: LiveProof, check_id: str, sev: Severity, msg: str, c: Captured) -> Finding:
    return finding(ctx, check_id, sev, msg, start=c.time, node_id=proof.node_id or None)


def liveness(ctx: CheckContext, check_id: str) -> CheckResult:
    proof = ctx.live_proof
    if proof is None or proof.liveness is None:
        return not_run(check_id, NO_LIVENESS)
    live = proof.liveness
    metrics = {**_source(live.captured), "actions": list(live.actions), "passed": live.passed}
    if live.passed:
        return result(check_id, [], metrics)
    why = f"：{live.reason}" if live.reason else ""
    msg = f"会话中活体检测未通过{why} / the live session's liveness check did not pass"
    return result(check_id, [_at(ctx, proof, check_id, Severity.CRITICAL, msg, live.captured)], metrics)


def id_card(ctx: CheckContext, check_id: str) -> CheckResult:
    proof = ctx.live_proof
    assert proof is not None
    front = proof.front
    if front is None:  # the identity node asks for liveness only (params.id_card: false)
        return not_run(check_id, "身份核实环节未要求出示证件 / the identity node asks for no ID card")
    out: list[Finding] = []

    def add(sev: Severity, msg: str) -> None:
        out.append(_at(ctx, proof, check_id, sev, msg, front.captured))

    read = bool(front.id_number or front.name)
    if not read:
        add(Severity.MAJOR, "会话中未识别出身份证人像面 / the live session could not read the card's front")
    else:
        if front.number_valid is False:
            add(Severity.CRITICAL, f"身份证号码校验位错误（{front.id_number}）/ invalid GB 11643 check digit")
        if front.number_matches is False:
            add(Severity.CRITICAL, "证件号码与任务信息不符 / the ID number differs from the task's")
        if front.name_matches is False:
            add(
                Severity.MAJOR,
                f"证件姓名（{front.name or '未识别'}）与任务信息不符 / the name differs from the task's",
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
                "会话中未识别到身份证国徽面 / the card's back was not read",
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
        msg = (
            f"会话中人证比对不一致（距离 {fm.distance:.2f} > {fm.threshold:.2f}）/ the live face did not "
            "match the ID photo"
            if fm.distance is not None
            else "会话中未完成人证比对（证件上未检测到人像或未完成活体检测）/ the live face comparison "
            "was not done"
        )
        out.append(_at(ctx, proof, check_id, Severity.CRITICAL, msg, fm.captured))
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
                f"录像中的人与活体核验通过的人不一致（距离 {median:.2f} > {limit:.2f}）/ the person in the "
                "recording is not the one verified live",
                start=samples[0][0],
                end=samples[-1][0],
                frame_time=worst,
            )
        )
    return result(check_id, out, metrics)
