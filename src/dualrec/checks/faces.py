"""Helpers for the face checks: which frames were face-checked, faces that count, distances, and
who is on camera when (``cast``: every embedded face of the recording grouped into people).

How the people are found: the visual pass embeds the faces at an interval and whenever they change
(another number of faces, another look; a change is confirmed by a second embedding). All the
embeddings of the recording, whichever face they belong to, are clustered in time order (a sample
joins the nearest group whose mean is within the identity threshold, else starts one; groups whose
means come within the threshold are merged). A group of fewer than ``min_samples`` samples is not a
person (one odd descriptor of a turned or blurred face). Between embeddings a frame keeps the people
of the last embedded frame while the number of faces stays the same (a change of faces is embedded).

The customer is the person that matches the ID photo (when there is one and someone matches it),
else the person on camera longest (the earliest on a tie). In the two-person modes (``human``,
``counter``: the salesperson and the customer in the same frame) the person on camera longest after
the customer is the salesperson; everyone else is a stranger.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dualrec.checks.base import CheckContext, FaceObservation, FrameAnalysis, PortraitCandidate, not_run
from dualrec.core.qc import CheckResult, CheckStatus

__all__ = [
    "TWO_PERSON_MODES",
    "Cast",
    "Person",
    "cast",
    "counted_faces",
    "customer_portrait",
    "distance",
    "face_frames",
    "face_step",
    "faces_unusable",
]

# modes whose recordings show the salesperson and the customer in the same frame
TWO_PERSON_MODES = frozenset({"human", "counter"})


def face_frames(ctx: CheckContext) -> list[FrameAnalysis]:
    """Frames where face detection ran, minus black/covered ones (black_screen reports those)."""
    luma, contrast = ctx.threshold("black_screen", "luma_max"), ctx.threshold("black_screen", "contrast_max")
    return [f for f in ctx.frames if f.faces is not None and not f.is_dark_or_covered(luma, contrast)]


def counted_faces(ctx: CheckContext, frame: FrameAnalysis) -> tuple[FaceObservation, ...]:
    min_ratio = ctx.threshold("people_count", "min_face_ratio")
    return tuple(f for f in frame.faces or () if f.area_ratio >= min_ratio)


def face_step(frames: Sequence[FrameAnalysis], default: float) -> float:
    diffs = sorted(b.t - a.t for a, b in itertools.pairwise(frames))
    return diffs[len(diffs) // 2] if diffs else default


def distance(a: Sequence[float], b: Sequence[float]) -> float:
    return math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b, strict=True)))


def faces_unusable(ctx: CheckContext, check_id: str) -> CheckResult | None:
    """Why a face check cannot judge: the face engine raised (an engine error: status error, with
    the engine named, so the verdict is REVIEW and nothing is held against the recording), or it
    had no engine or no frames (not run). None when it can."""
    if ctx.faces_error is None:
        return None
    if "faces" in ctx.engine_errors:
        return CheckResult(check_id, CheckStatus.ERROR, reason=ctx.faces_error)
    return not_run(check_id, ctx.faces_error)


@dataclass(frozen=True)
class Person:
    label: int
    times: tuple[float, ...]  # when one of its faces was embedded
    centroid: tuple[float, ...]
    seen: int  # face samples (frames) it is on camera in

    @property
    def first(self) -> float:
        return self.times[0]


@dataclass(frozen=True)
class Cast:
    """Who is on camera when; see the module's docstring."""

    frames: tuple[FrameAnalysis, ...]  # the face frames, in time order
    # per frame, per face of ``FrameAnalysis.faces``: the person's label, or None (not known)
    labels: tuple[tuple[int | None, ...], ...]
    people: dict[int, Person]  # the people (groups of at least min_samples samples)
    customer: int | None
    salesperson: int | None  # two-person modes only
    step: float
    samples: int  # embeddings compared
    unconfirmed: int  # groups too small to be a person

    @property
    def expected(self) -> frozenset[int]:
        return frozenset(p for p in (self.customer, self.salesperson) if p is not None)

    @property
    def strangers(self) -> list[Person]:
        return sorted(
            (p for p in self.people.values() if p.label not in self.expected), key=lambda p: p.first
        )

    def present(self, i: int) -> frozenset[int]:
        return frozenset(x for x in self.labels[i] if x is not None)

    def runs(self, label: int, *, without_customer: bool = False) -> list[tuple[float, float]]:
        """The time ranges ``label`` is on camera (only those where the customer is not, when asked)."""
        times = [f.t for f in self.frames]
        flags = [
            label in self.present(i) and not (without_customer and self.customer in self.present(i))
            for i in range(len(self.frames))
        ]
        return _runs(times, flags, self.step)

    def persons(self, i: int, faces: Sequence[FaceObservation]) -> int:
        """How many different people ``faces`` (some of frame ``i``'s faces) are: faces of one
        person count once (the customer and the photo on the ID card they hold up)."""
        frame_faces = self.frames[i].faces or ()
        labels = self.labels[i]
        known: set[int] = set()
        unknown = 0
        for face in faces:
            k = next((j for j, f in enumerate(frame_faces) if f is face), None)
            label = labels[k] if k is not None and k < len(labels) else None
            if label is None:
                unknown += 1
            else:
                known.add(label)
        return len(known) + unknown

    def distance_to(self, label: int, ref: Sequence[float]) -> float:
        return distance(self.people[label].centroid, ref)


def _runs(times: Sequence[float], flags: Sequence[bool], step: float) -> list[tuple[float, float]]:
    """Runs of flagged samples, each ending one step after its last sample; a gap of more than
    two steps (frames left out: dark, covered) ends a run."""
    out: list[tuple[float, float]] = []
    start: float | None = None
    prev: float | None = None
    for t, flag in zip(times, flags, strict=True):
        if start is not None and prev is not None and (not flag or t - prev > 2 * step):
            out.append((start, prev + step))
            start = None
        if flag and start is None:
            start = t
        prev = t
    if start is not None and prev is not None:
        out.append((start, prev + step))
    return out


def _cluster(vectors: np.ndarray, limit: float) -> list[int]:
    """Group labels (0..) of ``vectors`` (in time order): each joins the nearest group mean within
    ``limit`` or starts a group; then the two groups with the nearest means are merged while those
    are within ``limit``."""
    sums: list[np.ndarray] = []
    counts: list[int] = []
    labels: list[int] = []
    for v in vectors:
        if sums:
            d = np.linalg.norm(np.asarray(sums) / np.asarray(counts, dtype=np.float64)[:, None] - v, axis=1)
            j = int(d.argmin())
            if d[j] <= limit:
                sums[j] = sums[j] + v
                counts[j] += 1
                labels.append(j)
                continue
        sums.append(np.asarray(v, dtype=np.float64))
        counts.append(1)
        labels.append(len(sums) - 1)
    alive = list(range(len(sums)))
    while len(alive) > 1:
        means = np.asarray([sums[g] / counts[g] for g in alive])
        d = np.linalg.norm(means[:, None, :] - means[None, :, :], axis=2)
        np.fill_diagonal(d, np.inf)
        a, b = np.unravel_index(int(d.argmin()), d.shape)
        if d[a, b] > limit:
            break
        keep, gone = alive[min(a, b)], alive[max(a, b)]
        sums[keep], counts[keep] = sums[keep] + sums[gone], counts[keep] + counts[gone]
        labels = [keep if x == gone else x for x in labels]
        alive.remove(gone)
    renumber = {g: n for n, g in enumerate(alive)}
    return [renumber[x] for x in labels]


def cast(ctx: CheckContext) -> Cast:
    """Who is on camera when, in this recording (see the module's docstring)."""
    frames = face_frames(ctx)
    limit = ctx.threshold("identity_consistency", "max_distance")
    need = int(ctx.threshold("identity_consistency", "min_samples"))
    where = [
        (i, k) for i, f in enumerate(frames) for k, o in enumerate(f.faces or ()) if o.embedding is not None
    ]
    vectors = np.asarray([frames[i].faces[k].embedding for i, k in where], dtype=np.float64)  # type: ignore[index]
    groups = _cluster(vectors, limit) if where else []
    sizes = {g: groups.count(g) for g in set(groups)}
    label_of = {ik: g for ik, g in zip(where, groups, strict=True) if sizes[g] >= need}
    labels: list[tuple[int | None, ...]] = []
    last: tuple[int | None, ...] = ()
    for i, f in enumerate(frames):
        faces = f.faces or ()
        if any(o.embedding is not None for o in faces):
            last = tuple(label_of.get((i, k)) for k in range(len(faces)))
            labels.append(last)
        elif faces and len(faces) == len(last):
            labels.append(last)
        else:
            labels.append((None,) * len(faces))
    people: dict[int, Person] = {}
    for g in sorted(set(label_of.values())):
        rows = [n for n, ik in enumerate(where) if label_of.get(ik) == g]
        people[g] = Person(
            g,
            tuple(sorted({frames[where[n][0]].t for n in rows})),
            tuple(float(x) for x in vectors[rows].mean(axis=0)),
            sum(1 for row in labels if g in row),
        )
    by_presence = sorted(people.values(), key=lambda p: (-p.seen, p.first))
    customer: int | None = by_presence[0].label if by_presence else None
    if ctx.id_photo is not None and people:
        nearest = min(people.values(), key=lambda p: distance(p.centroid, ctx.id_photo or ()))
        if distance(nearest.centroid, ctx.id_photo) <= ctx.threshold("identity_match", "max_distance"):
            customer = nearest.label
    salesperson = None
    if ctx.mode in TWO_PERSON_MODES:
        salesperson = next((p.label for p in by_presence if p.label != customer), None)
    return Cast(
        tuple(frames),
        tuple(labels),
        people,
        customer,
        salesperson,
        face_step(frames, ctx.frame_interval),
        len(where),
        sum(1 for s in sizes.values() if s < need),
    )


def customer_portrait(ctx: CheckContext) -> PortraitCandidate | None:
    """The best portrait of the customer (``cast``): of the candidates the visual pass kept for
    each of the largest faces, those that show the customer, best first; without anyone known (no
    embeddings) the largest face's. In a counter recording the largest face may be the salesperson's:
    the customer's own face is the one that is judged and saved."""
    if not ctx.portraits:
        return ctx.portrait
    c = cast(ctx)
    if c.customer is None:
        return ctx.portrait
    at = {f.t: i for i, f in enumerate(c.frames)}
    theirs = [
        p
        for p in ctx.portraits
        if (i := at.get(p.t)) is not None and p.face < len(c.labels[i]) and c.labels[i][p.face] == c.customer
    ]
    return max(theirs, key=lambda p: p.score) if theirs else ctx.portrait
