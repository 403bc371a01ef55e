"""Customer on camera: face presence over time, per node and overall; long absences."""

from __future__ import annotations

from dualrec.checks.base import CheckContext, FunctionCheck, finding, not_run, result
from dualrec.checks.faces import counted_faces, face_frames, face_step, faces_unusable
from dualrec.checks.segments import flag_runs
from dualrec.core.qc import CheckResult, Severity
from dualrec.i18n import msg

ID = "face_presence"


def run(ctx: CheckContext) -> CheckResult:
    if (unusable := faces_unusable(ctx, ID)) is not None:
        return unusable
    frames = face_frames(ctx)
    if not frames:
        return not_run(ID, ctx.video_error or "没有可检测人脸的画面 / no frames to look for faces in")
    step = face_step(frames, ctx.frame_interval)
    present = [bool(counted_faces(ctx, f)) for f in frames]
    runs = flag_runs([f.t for f in frames], [not p for p in present], step, ctx.threshold(ID, "min_absence"))
    out = [
        finding(
            ctx,
            ID,
            Severity.MAJOR,
            msg("finding.face_presence.customer_camera", value=b - a),
            start=a,
            end=b,
            frame_time=(a + b) / 2,
        )
        for a, b in runs
    ]
    ratio = sum(present) / len(present)
    if ratio < ctx.threshold(ID, "min_ratio") and not out:
        out.append(
            finding(
                ctx,
                ID,
                Severity.MAJOR,
                msg("finding.face_presence.face_camera_only_time", ratio=ratio),
            )
        )
    per_node: dict[str, float] = {}
    for span in ctx.nodes:
        flags = [p for f, p in zip(frames, present, strict=True) if span.start <= f.t < span.end]
        if flags:
            per_node[span.node_id] = round(sum(flags) / len(flags), 3)
    return result(ID, out, {"ratio": round(ratio, 3), "per_node": per_node, "absences": len(runs)})


CHECK = FunctionCheck(ID, run)
