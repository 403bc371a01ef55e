"""Visual analyser: everything QC needs from the picture, gathered in ONE streamed decode pass.

Per sampled frame (cheap numpy on a ~64×36 grid): mean luma, luma contrast, motion since the last
sample. On a subsample: face detection (boxes, landmarks → frontalness, eyes open); embeddings at
an interval and whenever the faces change. Kept in bounded memory: a thumbnail every few seconds
(evidence), the best portrait crop, a handful of full frames for ID-card OCR.

Frames arrive up to 1280 px wide so that small faces keep their pixels (two people side by side at
a counter, an audience: 60–120 px in 720p). Full-frame detections are *wide searches*: the engine
is asked for faces down to ``small_face`` of the frame's shorter side (60 px in 720p) and enlarges
its copy for them; between them only the region of the faces already found is searched, at the
scale their own size needs.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from dualrec.checks.base import FaceObservation, FrameAnalysis, PortraitCandidate
from dualrec.media.ports import Face, FaceAnalyzer, FaceLandmarker, Image, VideoFrame

__all__ = ["VisualAnalyser", "VisualOptions", "plan_times"]

logger = logging.getLogger(__name__)
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


@dataclass(frozen=True)
class VisualOptions:
    sample_fps: float = 2.0  # frames analysed per second (luma, contrast, motion)
    # frames are delivered at most this wide: 720p at full resolution (a 60 px face stays 60 px)
    max_width: int = 1280
    face_fps: float = 1.0  # face detections per second
    # the narrowest face a full-frame (wide) search finds, as a share of the frame's shorter side:
    # 60 px in 720p (the engine searches an enlarged copy for them: ~100 ms per search with dlib)
    small_face: float = 60 / 720
    min_face_px: int = 20  # ... but never narrower than this (a tiny frame is not enlarged for nothing)
    # the region search finds the faces it follows down to this share of their width (a face that
    # moves back a little stays found; never below small_face): searched at the scale that needs
    region_shrink: float = 0.85
    # seconds between 128-D embeddings, plus one whenever the faces change (a descriptor costs
    # ~125–140 ms on the 2-core VM: 20 per 10-minute recording, ~2.7 s of its analysis)
    embed_interval: float = 30.0
    # ... but at least this many over a recording of known duration: the identity checks take a
    # median / a cluster over the samples, and a change adds two samples of the new face
    min_embeddings: int = 8
    max_faces: int = 24  # faces kept per sample, largest first (a crowd is counted up to this)
    max_embedded: int = 3  # ... of which embedded (the largest; ~100 ms each)
    # Between full-frame detections the detector searches only the region of the last faces (each
    # face ± region_margin face sizes, down to the frame's bottom: the person's body). A full-frame
    # detection runs at least every full_detect_interval seconds, when the region loses a face, and
    # when outside_cells cells of the luma grid outside the regions searched since the last full
    # detection changed by more than outside_change (a new face appearing anywhere moves pixels).
    # The periodic one is a safety net only (a new face is found by the change rules): every 10 s.
    region_detect: bool = True
    region_margin: float = 1.5
    full_detect_interval: float = 10.0
    # ... and a wide one (down to small_face) at least every wide_interval seconds (~80 ms each on
    # 720p instead of ~25 ms: a new face outside the regions is searched for at any size where the
    # picture changed; this one is for a small face appearing inside the region of the known ones)
    wide_interval: float = 20.0
    # with no face known, a wide search every second only where the picture changed (6 cells by
    # 24 levels), else every empty_interval seconds (a face of the background's luma moves no cell)
    empty_interval: float = 2.0
    outside_change: float = 24.0
    outside_cells: int = 6
    # an identity change worth an embedding: the face's look (8×8 luma in the landmarks' frame,
    # normalised for brightness and contrast) differs by more than look_change (mean |Δ| in standard
    # deviations; measured: same face moving ≤ 0.18, another person ≈ 1.0), or its mean colour by
    # more than colour_change (0–255, any channel)
    look_change: float = 0.5
    colour_change: float = 40.0
    # Between detections a face is followed by fitting its landmarks near its last box (when the
    # engine can: ``FaceLandmarker``; ~2 ms instead of a 15–30 ms detection). The result counts
    # only if the face still looks like the one last detected (look within track_look_change,
    # colour within track_colour_change, eye distance within track_scale_change); anything else
    # (the face left, turned, was covered or swapped, another face appeared) falls back to detection.
    track_faces: bool = True
    track_look_change: float = 0.35
    track_colour_change: float = 20.0
    track_scale_change: float = 0.25
    # ... and only while nothing new appeared around them: in the region of the last faces (their
    # boxes left out), the picture compared with the last sample moved by the faces' own motion
    # (grey at 1/4 of a 640-px-wide frame) may differ in no 32×32 block (of such a frame) by more
    # than track_guard levels on average;
    # otherwise someone may have come near the customer: the whole frame is searched
    track_guard: float = 30.0
    thumb_width: int = 320
    max_thumbs: int = 240
    # a portrait's size score is 1 from a face this many px wide (in the frame's own pixels), and
    # falls with the face's area below it: a face's resolution, not its share of the frame (a
    # counter camera films two people from further away: a 70-px face in 720p is a usable portrait;
    # the same scale as the earlier 3 % of a 640×360 frame, ≈ an 80-px face)
    portrait_face_px: int = 80
    ocr_frames: int = 6
    # without markers, the card is looked for where the transcript places the identity/document
    # nodes: in the first ocr_inferred_seconds of each, ocr_inferred_frames frames (seeked)
    ocr_inferred_seconds: float = 40.0
    ocr_inferred_frames: int = 12
    prefetch: int = 4  # frames decoded ahead in a second thread while one is analysed (0: no thread)


@dataclass(frozen=True)
class _Look:
    """What a face looks like, independent of where it is: ``structure`` is 8×8 luma sampled in the
    frame of its landmarks (the box when there are none; detector boxes snap to a coarse grid, so a
    box crop of a moving face changes as much as another face would), zero mean, unit variance;
    ``colour`` is the mean RGB."""

    structure: np.ndarray
    colour: np.ndarray


@dataclass
class _Embedded:
    t: float = -math.inf
    count: int = -1
    look: _Look | None = None  # of the largest face


@dataclass(frozen=True)
class _Tracked:
    """A face to follow: where it was last seen, and its eye distance and look when last detected."""

    face: Face
    eyes: float
    look: _Look


def plan_times(windows: Sequence[tuple[float, float]], n: int) -> list[float]:
    """``n`` times spread over ``windows`` in proportion to their lengths (each gets at least one)."""
    total = sum(b - a for a, b in windows)
    if n <= 0 or total <= 0:
        return []
    targets = []
    for a, b in windows:
        k = max(1, round(n * (b - a) / total))
        targets += [a + (b - a) * (i + 0.5) / k for i in range(k)]
    return sorted(targets)


def _pose(face: Face) -> tuple[float, bool]:
    """(frontalness 0..1, eyes open) from 68 dlib landmarks; (1, True) when there are none."""
    pts = face.landmarks
    if len(pts) < 68:
        return 1.0, True
    p = np.asarray(pts, dtype=np.float32)
    left, right = p[36:42].mean(axis=0), p[42:48].mean(axis=0)
    eye_dist = float(np.linalg.norm(right - left)) or 1.0
    offset = abs(float(p[30][0]) - float(left[0] + right[0]) / 2)
    frontal = max(0.0, 1.0 - 2.0 * offset / eye_dist)

    def ear(e: np.ndarray) -> float:
        return float(
            (np.linalg.norm(e[1] - e[5]) + np.linalg.norm(e[2] - e[4]))
            / (2 * np.linalg.norm(e[0] - e[3]) + 1e-6)
        )

    return frontal, (ear(p[36:42]) + ear(p[42:48])) / 2 > 0.18


def _look(image: Image, face: Face, cells: int = 8, sub: int = 3) -> _Look:
    """Bilinear samples, ``sub``×``sub`` per cell, averaged into ``cells``×``cells``."""
    if len(face.landmarks) >= 5:
        pts = np.asarray(face.landmarks, dtype=np.float32)
        (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
    else:
        x0, y0, x1, y1 = (float(v) for v in face.box)
        x1, y1 = x1 - 1, y1 - 1
    h, w = image.shape[:2]
    n = cells * sub
    pos = (np.arange(n, dtype=np.float32) + 0.5) / n
    xs = np.clip(x0 + (x1 - x0) * pos, 0, max(0.0, w - 1.001))
    ys = np.clip(y0 + (y1 - y0) * pos, 0, max(0.0, h - 1.001))
    xi, yi = xs.astype(int), ys.astype(int)
    xj, yj = np.minimum(xi + 1, w - 1), np.minimum(yi + 1, h - 1)
    ax, ay = (xs - xi)[None, :, None], (ys - yi)[:, None, None]
    top = image[np.ix_(yi, xi)] * (1 - ax) + image[np.ix_(yi, xj)] * ax
    bottom = image[np.ix_(yj, xi)] * (1 - ax) + image[np.ix_(yj, xj)] * ax
    rgb = (top * (1 - ay) + bottom * ay).astype(np.float32)
    luma = (rgb @ _LUMA).reshape(cells, sub, cells, sub).mean(axis=(1, 3))
    structure = (luma - luma.mean()) / max(float(luma.std()), 1.0)
    return _Look(structure, rgb.reshape(-1, 3).mean(axis=0))


def _looks_different(a: _Look, b: _Look, options: VisualOptions) -> bool:
    return (
        float(np.abs(a.structure - b.structure).mean()) > options.look_change
        or float(np.abs(a.colour - b.colour).max()) > options.colour_change
    )


def _eye_distance(face: Face) -> float:
    if len(face.landmarks) < 48:
        return float(face.width)
    p = np.asarray(face.landmarks, dtype=np.float32)
    return float(np.linalg.norm(p[42:48].mean(axis=0) - p[36:42].mean(axis=0)))


_SMALL = 4  # downscale of the grey frame the follow guard compares (of a 640-px-wide frame)


def _small_step(width: int) -> int:
    """The subsampling step of the follow guard's grey frame: 4 on 640 px, 8 on 1280 px."""
    return _SMALL * max(1, round(width / 640))


def _small_grey(img: Image) -> np.ndarray:
    k = _small_step(img.shape[1])
    small: np.ndarray = img[::k, ::k].astype(np.float32) @ _LUMA
    return small


def _centre(face: Face) -> np.ndarray:
    centre: np.ndarray = np.asarray(face.landmarks, dtype=np.float32).mean(axis=0)
    return centre


def _sharpness(gray: np.ndarray) -> float:
    if gray.shape[0] < 3 or gray.shape[1] < 3:
        return 0.0
    lap = 4 * gray[1:-1, 1:-1] - gray[:-2, 1:-1] - gray[2:, 1:-1] - gray[1:-1, :-2] - gray[1:-1, 2:]
    return float(lap.var())


def _merged(found: list[Face], more: list[Face]) -> list[Face]:
    """``found`` and the faces of ``more`` whose centre lies in none of them, largest first."""

    def inside(f: Face, g: Face) -> bool:
        cx, cy = (f.box[0] + f.box[2]) / 2, (f.box[1] + f.box[3]) / 2
        return g.box[0] <= cx < g.box[2] and g.box[1] <= cy < g.box[3]

    out = found + [f for f in more if not any(inside(f, g) for g in found)]
    return sorted(out, key=lambda f: f.width * f.height, reverse=True)


def _shrink(image: Image, width: int) -> tuple[Image, int]:
    step = max(1, math.ceil(image.shape[1] / width))
    return (image[::step, ::step] if step > 1 else image), step


@dataclass
class VisualAnalyser:
    faces: FaceAnalyzer | None
    options: VisualOptions = field(default_factory=VisualOptions)
    duration: float | None = None
    ocr_windows: Sequence[tuple[float, float]] = ()
    frames: list[FrameAnalysis] = field(default_factory=list)
    thumbs: dict[float, Image] = field(default_factory=dict)
    ocr_candidates: list[tuple[float, Image]] = field(default_factory=list)
    portrait: PortraitCandidate | None = None
    portraits: dict[int, PortraitCandidate] = field(default_factory=dict)  # by face index
    faces_error: str | None = None
    faces_engine_failed: bool = False  # faces_error is the engine's own error (not missing input)

    def __post_init__(self) -> None:
        o = self.options
        dur = self.duration or 0.0
        self._thumb_every = max(1.0 / o.sample_fps, dur / o.max_thumbs) if dur else 2.0
        self._next_thumb = 0.0
        self._next_face = 0.0
        self._width = 0  # of the frames
        self._narrowest = 0  # width of the narrowest face the last detection found
        self._confirm = False
        every = (
            min(o.embed_interval, dur / o.min_embeddings)
            if dur and o.min_embeddings > 0
            else o.embed_interval
        )
        self._embed_every = every - 0.5 / o.sample_fps  # the same jitter allowance as detection
        self._last_full = -math.inf
        self._last_wide = -math.inf
        self._region: tuple[int, int, int, int] | None = None  # where the last faces were
        self._count = 0  # how many faces the last detection found
        self._full_grid: np.ndarray | None = None  # luma grid at the last full-frame detection
        self._searched: np.ndarray | None = None  # grid cells inside the regions searched since
        self._prev: np.ndarray | None = None
        self._embedded = _Embedded()
        self._tracked: list[_Tracked] = []  # the faces of the last detection, to follow
        self._small: np.ndarray | None = None  # 4× downscaled grey of the last face sample
        landmarker = self.faces if isinstance(self.faces, FaceLandmarker) else None
        self._landmarker = landmarker if o.track_faces else None
        self.tracked_samples = 0  # detections replaced by following the faces (for tests, benches)
        self._ocr_targets = self._plan_ocr()

    def _plan_ocr(self) -> list[float]:
        windows = list(self.ocr_windows) or [(0.0, min(self.duration or 30.0, 120.0))]
        return plan_times(windows, self.options.ocr_frames)

    def on_frame(self, frame: VideoFrame) -> None:
        img, t = frame.image, frame.t
        h, w = img.shape[:2]
        self._width = w
        grid = img[:: max(1, h // 36), :: max(1, w // 64)].astype(np.float32) @ _LUMA
        motion = None
        if self._prev is not None and self._prev.shape == grid.shape:
            motion = float(np.abs(grid - self._prev).mean())
        self._prev = grid
        faces = None
        if self.faces is not None and self.faces_error is None and t >= self._next_face:
            # tolerate half a sample of jitter so a 1 fps detection rate does not slip to every 1.5 s
            self._next_face = t + 1.0 / self.options.face_fps - 0.5 / self.options.sample_fps
            faces = self._faces(img, t, grid)
        self.frames.append(FrameAnalysis(t, float(grid.mean()), float(grid.std()), motion, faces))
        if t >= self._next_thumb:
            self._next_thumb = t + self._thumb_every - 0.5 / self.options.sample_fps
            self.thumbs[round(t, 3)] = _shrink(img, self.options.thumb_width)[0].copy()
            if len(self.thumbs) > 2 * self.options.max_thumbs:  # unknown duration: thin out
                for key in list(self.thumbs)[1::2]:
                    del self.thumbs[key]
                self._thumb_every *= 2
        if self._ocr_targets and t >= self._ocr_targets[0]:
            while self._ocr_targets and t >= self._ocr_targets[0]:
                self._ocr_targets.pop(0)
            self.ocr_candidates.append((t, img.copy()))

    def _detect(self, img: Image, t: float, grid: np.ndarray) -> list[Face]:
        """Faces in ``img`` coordinates: in the region of the last faces when nothing else may have
        appeared (see ``VisualOptions``), at the scale their size needs, else in the whole frame.

        Scales: a *wide* search finds faces down to ``small_face`` (60 px in 720p; ~3× the cost of
        a search at the known faces' scale on the bench). It runs when no face is known, every
        ``wide_interval``, on the part of the frame that changed outside the regions searched (a
        new face may be small), and whenever a search at the known faces' scale finds fewer faces
        than were there (one may have moved back: it is looked for at any size). Other searches
        find faces down to ``region_shrink`` of the narrowest face known."""
        assert self.faces is not None
        o = self.options
        smallest = max(o.min_face_px, round(o.small_face * min(img.shape[:2])))
        if self._region is None and o.region_detect and self._unchanged_since_empty(grid, t):
            # nobody was there at the last search and the picture has not changed since: nobody
            # came (a wide search costs ~80 ms; an empty or static picture would pay it each second)
            self._small = _small_grey(img)
            return []
        # the scale of the faces known: a face leaning in beside the customer is about their size
        near = max(smallest, round(o.region_shrink * self._narrowest))
        jitter = 0.5 / o.sample_fps
        wide = self._region is None or not o.region_detect or t - self._last_wide >= o.wide_interval - jitter
        changed = None if wide else self._changed_outside(grid, img.shape[0], img.shape[1], 2 * smallest)
        full = wide or changed is not None or t - self._last_full >= o.full_detect_interval - jitter
        found: list[Face] = []
        small, previous = _small_grey(img), self._small
        self._small = small
        followed = None if full else self._follow(img)
        if followed is not None and (previous is None or self._changed_around(small, previous, followed)):
            # someone may have come near (maybe at the region's edge): search the whole frame
            followed, full = None, True
        if followed is not None:
            found = followed
            self.tracked_samples += 1
            # followed from here next time; the look stays the one detected (no drift)
            self._tracked = [replace(k, face=f) for k, f in zip(self._tracked, found, strict=True)]
        else:
            if not full:
                found = self._detect_in(img, self._region, near)
                full = len(found) < self._count
                wide = full  # a face was lost: it may be smaller now
            if full and not wide:
                found = self._detect_in(img, None, near)
                if changed is not None:  # what changed may be a small face: searched down to those
                    found = _merged(found, self._detect_in(img, changed, smallest))
                wide = len(found) < self._count
            if wide:
                found = self._detect_in(img, None, smallest)
                self._last_wide = t
            if full:
                self._last_full, self._full_grid, self._searched = t, grid, None
            self._tracked = [
                _Tracked(f, _eye_distance(f), _look(img, f)) for f in found[:4] if len(f.landmarks) >= 48
            ]
            if len(self._tracked) != len(found):  # a face without landmarks cannot be followed
                self._tracked = []
        self._count = len(found)
        self._narrowest = min((f.width for f in found), default=0)
        self._region = self._region_of(found, img.shape[0], img.shape[1]) if found else None
        if self._region is not None:
            cells = self._cells(self._region, img.shape[0], img.shape[1], grid.shape)
            self._searched = cells if self._searched is None else self._searched | cells
        return found

    def _follow(self, img: Image) -> list[Face] | None:
        """The last detection's faces, followed to this frame (see ``VisualOptions.track_*``), or
        None when any of them cannot be followed with confidence."""
        if self._landmarker is None or not self._tracked:
            return None
        o, h, w = self.options, img.shape[0], img.shape[1]
        out: list[Face] = []
        for known in self._tracked:
            # fitted from the last box; when the landmarks moved by more than a fifth of the face,
            # fitted again from the box moved with them (the fit is best from a well-placed box)
            box, fitted = known.face.box, self._landmarker.landmarks(img, known.face.box)
            for _ in range(2):
                if len(fitted.landmarks) < 48:
                    return None
                dx, dy = (_centre(fitted) - _centre(Face(box, 0.0, self._landmarks_at(known, box)))).round()
                left = min(max(0, box[0] + int(dx)), w - 2)
                top = min(max(0, box[1] + int(dy)), h - 2)
                box = (left, top, min(w, left + known.face.width), min(h, top + known.face.height))
                if max(abs(dx), abs(dy)) <= 0.2 * known.face.width:
                    break
                fitted = self._landmarker.landmarks(img, box)
            face = Face(box, known.face.score, fitted.landmarks)
            if abs(_eye_distance(face) / max(known.eyes, 1.0) - 1.0) > o.track_scale_change:
                return None
            look = _look(img, face)
            if (
                float(np.abs(look.structure - known.look.structure).mean()) > o.track_look_change
                or float(np.abs(look.colour - known.look.colour).max()) > o.track_colour_change
            ):
                return None
            out.append(face)
        return out

    def _changed_around(self, small: np.ndarray, previous: np.ndarray, followed: list[Face]) -> bool:
        """Whether the region of the followed faces changed other than by their own motion (see
        ``VisualOptions.track_guard``); ``small``/``previous`` are ``_small_grey`` frames."""
        if self._region is None or previous.shape != small.shape:
            return True
        k = _small_step(self._width)
        shift = _centre(followed[0]) - _centre(self._tracked[0].face)
        dx, dy = (int(v) for v in np.round(shift / k))
        x0, y0, x1, y1 = (v // k for v in self._region)
        h, w = small.shape
        ys0, ys1 = max(y0, dy, 0), min(y1, h + dy, h)
        xs0, xs1 = max(x0, dx, 0), min(x1, w + dx, w)
        if ys1 - ys0 < 8 or xs1 - xs0 < 8:
            return True
        diff = np.abs(small[ys0:ys1, xs0:xs1] - previous[ys0 - dy : ys1 - dy, xs0 - dx : xs1 - dx])
        for face in followed:  # the faces themselves may change (expression, a blink)
            mx, my = face.width // 4, face.height // 4
            diff[
                max(0, (face.box[1] - my) // k - ys0) : max(0, (face.box[3] + my) // k + 1 - ys0),
                max(0, (face.box[0] - mx) // k - xs0) : max(0, (face.box[2] + mx) // k + 1 - xs0),
            ] = 0.0
        bh, bw = diff.shape[0] // 8, diff.shape[1] // 8
        blocks = diff[: bh * 8, : bw * 8].reshape(bh, 8, bw, 8).mean(axis=(1, 3))
        return bool(blocks.max() > self.options.track_guard)

    @staticmethod
    def _landmarks_at(known: _Tracked, box: tuple[int, int, int, int]) -> tuple[tuple[float, float], ...]:
        """The known face's landmarks moved with its box to ``box``."""
        dx, dy = box[0] - known.face.box[0], box[1] - known.face.box[1]
        return tuple((x + dx, y + dy) for x, y in known.face.landmarks)

    def _detect_in(self, img: Image, region: tuple[int, int, int, int] | None, min_face: int) -> list[Face]:
        assert self.faces is not None
        x0, y0, x1, y1 = region or (0, 0, img.shape[1], img.shape[0])
        found = self.faces.detect(img[y0:y1, x0:x1], min_face=min_face)
        if x0 == 0 and y0 == 0:
            return found
        return [
            Face(
                (f.box[0] + x0, f.box[1] + y0, f.box[2] + x0, f.box[3] + y0),
                f.score,
                tuple((x + x0, y + y0) for x, y in f.landmarks),
            )
            for f in found
        ]

    def _region_of(self, faces: list[Face], h: int, w: int) -> tuple[int, int, int, int]:
        m = self.options.region_margin
        x0 = min(f.box[0] - m * f.width for f in faces)
        y0 = min(f.box[1] - m * f.height for f in faces)
        x1 = max(f.box[2] + m * f.width for f in faces)
        return max(0, int(x0)), max(0, int(y0)), min(w, math.ceil(x1)), h

    @staticmethod
    def _cells(region: tuple[int, int, int, int], h: int, w: int, shape: tuple[int, ...]) -> np.ndarray:
        """The luma-grid cells (see ``on_frame``) whose pixel lies inside ``region``."""
        ys = np.arange(shape[0]) * max(1, h // 36)
        xs = np.arange(shape[1]) * max(1, w // 64)
        x0, y0, x1, y1 = region
        inside: np.ndarray = ((ys >= y0) & (ys < y1))[:, None] & ((xs >= x0) & (xs < x1))[None, :]
        return inside

    def _unchanged_since_empty(self, grid: np.ndarray, t: float) -> bool:
        """The last search found no face, was less than ``empty_interval`` ago, and fewer than
        ``outside_cells`` cells of the luma grid changed by more than ``outside_change``."""
        o, ref = self.options, self._full_grid
        if ref is None or ref.shape != grid.shape or self._count != 0:
            return False
        if t - self._last_full >= o.empty_interval - 0.5 / o.sample_fps:
            return False
        return int((np.abs(grid - ref) > o.outside_change).sum()) < o.outside_cells

    def _changed_outside(
        self, grid: np.ndarray, h: int, w: int, margin: int
    ) -> tuple[int, int, int, int] | None:
        """Where the picture changed outside the regions searched since the last full detection
        (the box of the changed grid cells, ``margin`` px around it), or None when it did not."""
        ref, searched = self._full_grid, self._searched
        if ref is None or searched is None or ref.shape != grid.shape:
            return (0, 0, w, h)
        changed = (np.abs(grid - ref) > self.options.outside_change) & ~searched
        if int(changed.sum()) < self.options.outside_cells:
            return None
        rows, cols = np.nonzero(changed)
        sy, sx = max(1, h // 36), max(1, w // 64)
        return (
            max(0, int(cols.min()) * sx - margin),
            max(0, int(rows.min()) * sy - margin),
            min(w, (int(cols.max()) + 1) * sx + margin),
            min(h, (int(rows.max()) + 1) * sy + margin),
        )

    def _faces(self, img: Image, t: float, grid: np.ndarray) -> tuple[FaceObservation, ...] | None:
        assert self.faces is not None
        try:
            return self._analyse_faces(img, t, grid)
        except Exception as exc:  # the engine broke: the face checks say so instead of passing
            # (an engine error, named; not the file's fault: the decode goes on)
            engine = type(self.faces).__name__
            logger.warning("face engine %s failed at %.2fs", engine, t, exc_info=True)
            self.faces_error = f"人脸引擎出错 / face engine error ({engine}): {type(exc).__name__}: {exc}"
            self.faces_engine_failed = True
            return None

    def _analyse_faces(self, img: Image, t: float, grid: np.ndarray) -> tuple[FaceObservation, ...]:
        assert self.faces is not None
        found = self._detect(img, t, grid)
        area = float(img.shape[0] * img.shape[1])
        emb = self._embedded
        look = _look(img, found[0]) if found else None
        # a moving face is not a change (its box moves); another face count or look is
        changed = (
            look is not None
            and emb.look is not None  # the first faces are no change: nothing to confirm against
            and (len(found) != emb.count or _looks_different(look, emb.look, self.options))
        )
        # a change is embedded at once and confirmed at the next detection (swaps need 2 samples)
        want_embed = bool(found) and (t - emb.t >= self._embed_every or changed or self._confirm)
        self._confirm = changed and not self._confirm
        out: list[FaceObservation] = []
        for i, face in enumerate(found[: self.options.max_faces]):
            vec = None
            if want_embed and i < self.options.max_embedded:
                vec = tuple(float(x) for x in self.faces.embed(img, face))
            frontal, eyes = _pose(face)
            ratio = face.width * face.height / area
            out.append(FaceObservation(face.box, ratio, vec, frontal, eyes))
            if i < self.options.max_embedded:
                self._consider_portrait(img, t, i, face.box, frontal, eyes)
        if want_embed:
            self._embedded = _Embedded(t, len(found), look)
        return tuple(out)

    def _consider_portrait(
        self, img: Image, t: float, index: int, box: tuple[int, int, int, int], frontal: float, eyes: bool
    ) -> None:
        """Keep the best portrait of the ``index``-th largest face: frontal, eyes open, sharp and
        with enough pixels (``portrait_face_px``); the checks keep the customer's."""
        left, top, right, bottom = box
        mx, my = (right - left) // 2, (bottom - top) // 2
        region = img[max(0, top - my) : bottom + my, max(0, left - mx) : right + mx]
        if region.size == 0:
            return
        step = 2 * max(1, round(img.shape[1] / 640))  # the sharpness of a 320-px-wide frame
        sharp = _sharpness(region[::step, ::step].astype(np.float32) @ _LUMA)
        size = (right - left) * (bottom - top) / float(self.options.portrait_face_px**2)
        score = frontal * (1.0 if eyes else 0.3) * min(1.0, sharp / 100.0) * min(1.0, size)
        best = self.portraits.get(index)
        if best is None or score > best.score:
            self.portraits[index] = PortraitCandidate(t, score, region.copy(), index)
            if index == 0 and (self.portrait is None or score > self.portrait.score):
                self.portrait = self.portraits[index]

    def nearest_thumb(self, t: float) -> Image | None:
        if not self.thumbs:
            return None
        key = min(self.thumbs, key=lambda k: abs(k - t))
        return self.thumbs[key]
