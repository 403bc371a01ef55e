"""People in frame: an extra face (self-service) or a missing second person (human interview)."""

from __future__ import annotations

from dualrec.checks.base import CheckContext, FunctionCheck, finding, not_run, result
from dualrec.checks.faces import counted_faces, face_frames, face_step
from dualrec.checks.segments import flag_runs
from dualrec.core.qc import CheckResult, Severity

ID = "people_count"


def run(ctx: CheckContext) -> CheckResult:
    if ctx.faces_error is not None:
        return not_run(ID, ctx.faces_error)
    frames = face_frames(ctx)
    if not frames:
        return not_run(ID, ctx.video_error or "没有可检测人脸的画面 / no frames to look for faces in")
    step = face_step(frames, ctx.frame_interval)
    counts = [len(counted_faces(ctx, f)) for f in frames]
    times = [f.t for f in frames]
    min_dur = ctx.threshold(ID, "min_duration")
    if ctx.mode == "human":
        # same-frame rule: agent and customer both visible; an empty frame is face_presence's finding
        runs = flag_runs(times, [c == 1 for c in counts], step, max(min_dur, 3.0))
        msg = "双录画面中缺少第二人（同框要求）/ second person missing from the frame (same-frame rule)"
    else:
        runs = flag_runs(times, [c >= 2 for c in counts], step, min_dur)
        msg = "画面中出现多余人脸 / an unexpected extra face in the frame"
    out = [
        finding(ctx, ID, Severity.MAJOR, f"{msg} {b - a:.1f}s", start=a, end=b, frame_time=(a + b) / 2)
        for a, b in runs
    ]
    return result(ID, out, {"mode": ctx.mode, "max_faces": max(counts), "segments": len(runs)})


CHECK = FunctionCheck(ID, run)
