"""Same person throughout: cluster the sampled embeddings; a swap mid-recording is a finding."""

from __future__ import annotations

from dualrec.checks.base import CheckContext, FunctionCheck, finding, not_run, result
from dualrec.checks.faces import distance, face_frames
from dualrec.core.qc import CheckResult, Finding, Severity

ID = "identity_consistency"


def run(ctx: CheckContext) -> CheckResult:
    if ctx.faces_error is not None:
        return not_run(ID, ctx.faces_error)
    frames = [f for f in face_frames(ctx) if f.faces and f.faces[0].embedding is not None]
    if len(frames) < 2:
        return not_run(ID, "可比对的人脸样本不足 / fewer than two face samples to compare")
    limit = ctx.threshold(ID, "max_distance")
    need = int(ctx.threshold(ID, "min_samples"))
    first = frames[0].faces[0].embedding if frames[0].faces else None
    assert first is not None
    centroid, members = list(first), 1
    mismatches: list[tuple[float, float]] = []  # (t, distance) of the current run
    out: list[Finding] = []
    worst = 0.0
    for f in frames[1:]:
        d = min(distance(centroid, o.embedding) for o in f.faces or () if o.embedding is not None)
        worst = max(worst, d)
        if d <= limit:
            if len(mismatches) >= need:
                out.append(_swap(ctx, mismatches, f.t, limit))
            mismatches = []
            own = f.faces[0].embedding if f.faces else None
            if own is not None and distance(centroid, own) <= limit:
                members += 1
                centroid = [c + (x - c) / members for c, x in zip(centroid, own, strict=True)]
        else:
            mismatches.append((f.t, d))
    if len(mismatches) >= need:
        out.append(_swap(ctx, mismatches, None, limit))
    return result(ID, out, {"samples": len(frames), "max_distance": round(worst, 3), "threshold": limit})


def _swap(ctx: CheckContext, run: list[tuple[float, float]], back: float | None, limit: float) -> Finding:
    start = run[0][0]
    end = back if back is not None else ctx.duration or run[-1][0]
    d = max(x for _, x in run)
    return finding(
        ctx,
        ID,
        Severity.CRITICAL,
        f"录像中途换人（距离 {d:.2f} > {limit:.2f}）/ a different person appears mid-recording",
        start=start,
        end=end,
        frame_time=start,
    )


CHECK = FunctionCheck(ID, run)
