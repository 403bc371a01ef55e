"""Identity: the customer's face against the ID / stored photo."""

from __future__ import annotations

import statistics

from dualrec.checks import live
from dualrec.checks.base import CheckContext, FunctionCheck, finding, not_run, result
from dualrec.checks.faces import distance, face_frames
from dualrec.core.node_params import flow_face_threshold
from dualrec.core.qc import CheckResult, Severity

ID = "identity_match"


def run(ctx: CheckContext) -> CheckResult:
    if ctx.live_proof is not None and ctx.live_proof.face_match is not None:  # compared live
        return live.identity_match(ctx, ID)
    if ctx.id_photo is None:
        return not_run(ID, ctx.id_photo_error or "未提供身份证照片 / no ID photo supplied")
    if ctx.faces_error is not None:
        return not_run(ID, ctx.faces_error)
    ref = ctx.id_photo
    samples = [
        (f.t, min(distance(ref, o.embedding) for o in f.faces or () if o.embedding is not None))
        for f in face_frames(ctx)
        if any(o.embedding is not None for o in f.faces or ())
    ]
    if not samples:
        return not_run(ID, "录像中没有可比对的人脸 / no face in the recording to compare")
    limit = flow_face_threshold(ctx.flow.active_nodes if ctx.flow else (), ctx.threshold(ID, "max_distance"))
    median = statistics.median(d for _, d in samples)
    metrics = {
        "median_distance": round(median, 3),
        "min_distance": round(min(d for _, d in samples), 3),
        "samples": len(samples),
        "threshold": limit,
    }
    if median <= limit:
        return result(ID, [], metrics, confidence=round(max(0.0, 1 - median / (2 * limit)), 3))
    worst_t = max(samples, key=lambda s: s[1])[0]
    msg = (
        f"录像中的人与身份证照片不符（距离 {median:.2f} > {limit:.2f}）/ the person does not match the ID "
        f"photo (distance {median:.2f} > {limit:.2f})"
    )
    end = samples[-1][0]
    return result(
        ID,
        [
            finding(
                ctx,
                ID,
                Severity.CRITICAL,
                msg,
                start=samples[0][0],
                end=end,
                frame_time=worst_t,
                confidence=round(min(1.0, median / (2 * limit) + 0.5), 3),
            )
        ],
        metrics,
    )


CHECK = FunctionCheck(ID, run)
