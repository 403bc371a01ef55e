"""People in frame. Self-service: exactly one person (an extra face is a finding). Two-person modes
(``human``: face-to-face signing; ``counter``: 柜面, the salesperson and the customer at a bank
counter): the salesperson and the customer in the same frame — a stretch with fewer than two people
is a finding, and so is one with a third person (a crowd). Faces of one person count once (the
customer and the photo on the ID card they hold up; see ``checks.faces.cast``)."""

from __future__ import annotations

from dualrec.checks.base import CheckContext, FunctionCheck, finding, not_run, result
from dualrec.checks.faces import TWO_PERSON_MODES, cast, counted_faces, faces_unusable
from dualrec.checks.segments import flag_runs
from dualrec.core.qc import CheckResult, Finding, Severity

ID = "people_count"

EXTRA = "画面中出现多余人脸 / an unexpected extra face in the frame"
MISSING = (
    "同框人数不足：销售人员与客户须同时在画面中（同框要求）/ fewer than two people in the frame "
    "(the salesperson and the customer must be in the same frame)"
)
CROWD = "画面中超过两人（销售人员与客户之外另有他人）/ more than two people in the frame"


def run(ctx: CheckContext) -> CheckResult:
    if (unusable := faces_unusable(ctx, ID)) is not None:
        return unusable
    who = cast(ctx)
    frames = who.frames
    if not frames:
        return not_run(ID, ctx.video_error or "没有可检测人脸的画面 / no frames to look for faces in")
    counts = [who.persons(i, counted_faces(ctx, f)) for i, f in enumerate(frames)]
    times = [f.t for f in frames]
    min_dur = ctx.threshold(ID, "min_duration")
    rules: list[tuple[list[bool], float, str]]
    if ctx.mode in TWO_PERSON_MODES:
        rules = [
            ([c < 2 for c in counts], max(min_dur, ctx.threshold(ID, "min_missing")), MISSING),
            ([c > 2 for c in counts], min_dur, CROWD),
        ]
    else:
        rules = [([c >= 2 for c in counts], min_dur, EXTRA)]
    out: list[Finding] = []
    segments = 0
    for flags, shortest, msg in rules:
        runs = flag_runs(times, flags, who.step, shortest)
        segments += len(runs)
        out += [
            finding(ctx, ID, Severity.MAJOR, f"{msg} {b - a:.1f}s", start=a, end=b, frame_time=(a + b) / 2)
            for a, b in runs
        ]
    out.sort(key=lambda f: f.start or 0.0)
    faces = [len(counted_faces(ctx, f)) for f in frames]
    metrics = {"mode": ctx.mode, "max_faces": max(faces), "max_people": max(counts), "segments": segments}
    return result(ID, out, metrics)


CHECK = FunctionCheck(ID, run)
