"""Identity: the customer's face against the ID / stored photo, and every stretch of the recording
where someone else is on camera instead of the customer (``checks.faces.cast``): a stretch whose
face does not match the photo is a finding of its own."""

from __future__ import annotations

import statistics

from dualrec.checks import live
from dualrec.checks.base import CheckContext, FunctionCheck, finding, not_run, result
from dualrec.checks.faces import Cast, cast, distance, faces_unusable
from dualrec.core.node_params import flow_face_threshold
from dualrec.core.qc import CheckResult, CheckStatus, Finding, Severity
from dualrec.i18n import msg, pair

ID = "identity_match"


def run(ctx: CheckContext) -> CheckResult:
    if ctx.live_proof is not None and ctx.live_proof.face_match is not None:  # compared live
        return live.identity_match(ctx, ID)
    if ctx.id_photo is None:
        if "id_photo" in ctx.engine_errors:
            return CheckResult(ID, CheckStatus.ERROR, reason=ctx.id_photo_error)
        return not_run(ID, ctx.id_photo_error or "未提供身份证照片 / no ID photo supplied")
    if (unusable := faces_unusable(ctx, ID)) is not None:
        return unusable
    ref = ctx.id_photo
    who = cast(ctx)
    if who.customer is None:
        return not_run(ID, "录像中没有可比对的人脸 / no face in the recording to compare")
    limit = flow_face_threshold(ctx.flow.active_nodes if ctx.flow else (), ctx.threshold(ID, "max_distance"))
    own = _distances(who, who.customer, ref)
    median = statistics.median(d for _, d in own)
    metrics = {
        "median_distance": round(median, 3),
        "min_distance": round(min(d for _, d in own), 3),
        "samples": len(own),
        "threshold": limit,
    }
    out: list[Finding] = []
    if median > limit:
        runs = who.runs(who.customer)
        a, b = runs[0][0], runs[-1][1]
        worst = max(own, key=lambda s: s[1])[0]  # the embedded frame furthest from the photo
        out.append(
            _mismatch(
                ctx,
                "录像中的人与身份证照片不符",
                "the person does not match the ID photo",
                median,
                limit,
                a,
                b,
                [worst],
            )
        )
    for other in who.strangers:
        d = statistics.median(x for _, x in _distances(who, other.label, ref))
        if d <= limit:
            continue
        for a, b in who.runs(other.label, without_customer=True):
            out.append(
                _mismatch(
                    ctx,
                    "画面中的人与身份证照片不符（非客户）",
                    "the person on camera does not match the ID photo (not the customer)",
                    d,
                    limit,
                    a,
                    b,
                    [t for t in other.times if a <= t < b] or [a],
                )
            )
    out.sort(key=lambda f: f.start or 0.0)
    if out:
        return result(ID, out, metrics)
    return result(ID, [], metrics, confidence=round(max(0.0, 1 - median / (2 * limit)), 3))


def _distances(who: Cast, label: int, ref: tuple[float, ...]) -> list[tuple[float, float]]:
    """(time, distance to ``ref``) of the embedded faces of person ``label``."""
    out = []
    for i, f in enumerate(who.frames):
        for k, o in enumerate(f.faces or ()):
            if o.embedding is not None and k < len(who.labels[i]) and who.labels[i][k] == label:
                out.append((f.t, distance(ref, o.embedding)))
    return out


def _mismatch(
    ctx: CheckContext, zh: str, en: str, d: float, limit: float, a: float, b: float, seen: list[float]
) -> Finding:
    return finding(
        ctx,
        ID,
        Severity.CRITICAL,
        msg("finding.identity_match.mismatch", what=pair(zh, en), seconds=b - a, d=d, limit=limit),
        start=a,
        end=b,
        frame_time=seen[0],
        confidence=round(min(1.0, d / (2 * limit) + 0.5), 3),
    )


CHECK = FunctionCheck(ID, run)
