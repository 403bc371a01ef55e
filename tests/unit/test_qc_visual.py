"""The visual analyser's embedding schedule: a face that moves is not an identity change; another
face (look) or another number of faces is, and is embedded at once and confirmed at the next
detection."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from dualrec.media.ports import Face, Image, VideoFrame
from dualrec.pipeline.visual import VisualAnalyser, VisualOptions

RNG = np.random.default_rng(3)
PERSON_A = RNG.integers(0, 255, (40, 40, 3), dtype=np.uint8)  # red < 255: never a marker
PERSON_B = RNG.integers(0, 255, (40, 40, 3), dtype=np.uint8)


def paint(img: Image, person: Image, x: int, y: int, marker: int) -> None:
    """A textured face with a one-pixel frame in a marker colour that the fake detector finds."""
    img[y - 1 : y + 41, x - 1 : x + 41] = (255, 0, marker)
    img[y : y + 40, x : x + 40] = person


class MarkedFaces:
    """Finds the marked faces in whatever image (or crop) it is given; records the embeddings."""

    def __init__(self) -> None:
        self.embedded_at: list[float] = []
        self.detected: list[tuple[float, int]] = []  # (t, width searched)
        self.t = 0.0

    def detect(self, image: Image, *, min_face: int | None = None) -> list[Face]:
        self.detected.append((self.t, image.shape[1]))
        faces = []
        for marker in (7, 9):
            ys, xs = np.nonzero((image[:, :, 0] == 255) & (image[:, :, 1] == 0) & (image[:, :, 2] == marker))
            if len(xs) >= 40 * 4:  # the whole frame is in view
                faces.append(Face((int(xs.min()) + 1, int(ys.min()) + 1, int(xs.max()), int(ys.max()))))
        return faces

    def embed(self, image: Image, face: Face) -> npt.NDArray[np.float64]:
        self.embedded_at.append(self.t)
        return np.zeros(128)


class FollowableFaces(MarkedFaces):
    """Also fits "landmarks" near a box, like dlib's shape predictor: 68 points over the marked face
    within half a face of the box, or over the box itself (wherever it now lies) when there is none."""

    def __init__(self) -> None:
        super().__init__()
        self.fitted = 0

    @staticmethod
    def grid(left: float, top: float, right: float, bottom: float) -> tuple[tuple[float, float], ...]:
        return tuple(
            (left + (right - left) * (i % 9) / 8, top + (bottom - top) * (i // 9) / 7) for i in range(68)
        )

    def detect(self, image: Image, *, min_face: int | None = None) -> list[Face]:
        return [Face(f.box, f.score, self.grid(*f.box)) for f in super().detect(image)]

    def landmarks(self, image: Image, box: tuple[int, int, int, int]) -> Face:
        self.fitted += 1
        left, top, right, bottom = box
        m = (right - left) // 2
        x0, y0 = max(0, left - m), max(0, top - m)
        near = [f for f in super().detect(image[y0 : bottom + m, x0 : right + m]) if f.width >= 30]
        self.detected.pop()  # a fit is not a detection
        if near:
            f = near[0]
            left, top, right, bottom = f.box[0] + x0, f.box[1] + y0, f.box[2] + x0, f.box[3] + y0
        return Face(box, 0.0, self.grid(left, top, right, bottom))


def run(
    duration: float, scene: dict[str, float], faces: MarkedFaces | None = None
) -> tuple[MarkedFaces, VisualAnalyser]:
    faces = faces or MarkedFaces()
    analyser = VisualAnalyser(faces, VisualOptions(), duration)
    for k in range(int(duration * 2)):
        t = k / 2
        img = np.full((360, 640, 3), 90, dtype=np.uint8)
        x = 100 + int(scene.get("sway", 80) * np.sin(t / 3))  # the customer keeps moving (80: ≤ 27 px/s)
        paint(img, PERSON_B if t >= scene.get("swap", 1e9) else PERSON_A, x, 100, 7)
        if scene.get("second_from", 1e9) <= t < scene.get("second_to", 1e9):
            paint(img, PERSON_B, 500, 200, 9)
        faces.t = t
        analyser.on_frame(VideoFrame(t, img))
    return faces, analyser


def embedded(duration: float, scene: dict[str, float]) -> list[float]:
    return sorted(set(run(duration, scene)[0].embedded_at))


def test_a_moving_face_is_embedded_only_on_the_interval() -> None:
    times = embedded(300.0, {})
    assert times == [float(t) for t in range(0, 300, 30)]


def test_another_person_is_embedded_at_once_and_confirmed() -> None:
    times = embedded(120.0, {"swap": 35.0})
    assert {35.0, 36.0} <= set(times) and len(times) <= 12


def test_a_second_face_is_embedded_when_it_appears_and_leaves() -> None:
    times = embedded(120.0, {"second_from": 52.0, "second_to": 61.0})
    assert {52.0, 53.0, 61.0, 62.0} <= set(times) and len(times) <= 17


def test_short_recordings_get_a_minimum_of_identity_samples() -> None:
    assert len(embedded(16.0, {})) >= VisualOptions().min_embeddings


def test_between_full_detections_only_the_region_of_the_face_is_searched() -> None:
    faces, _ = run(60.0, {})
    full = [t for t, width in faces.detected if width == 640]
    assert len(faces.detected) == 60
    every = VisualOptions().full_detect_interval
    assert len(full) <= 60 / every + 1  # at least every 10 s (the customer never leaves the region)
    assert all(b - a <= every for a, b in itertools.pairwise([*full, 60.0]))


def test_a_face_appearing_outside_the_region_is_found_at_the_next_detection() -> None:
    _, analyser = run(60.0, {"second_from": 22.5, "second_to": 31.5})
    counts = {f.t: len(f.faces) for f in analyser.frames if f.faces is not None}
    assert len(counts) == 60 and set(counts.values()) == {1, 2}
    assert [t for t, n in counts.items() if n == 2] == [float(t) for t in range(23, 32)]


def test_a_face_is_followed_between_detections_instead_of_detected_again() -> None:
    faces = FollowableFaces()
    _, analyser = run(60.0, {"sway": 20}, faces)  # a seated customer: ≤ 7 px/s
    counts = [len(f.faces) for f in analyser.frames if f.faces is not None]
    assert counts == [1] * 60  # present in every sample, as with a detection each second
    assert analyser.tracked_samples >= 40 and len(faces.detected) <= 20  # ~ a detection every 5 s
    fast = FollowableFaces()
    _, analyser = run(60.0, {}, fast)  # up to 27 px/s, more than half the 40 px face per second
    assert [len(f.faces) for f in analyser.frames if f.faces is not None] == [1] * 60
    assert len(fast.detected) > len(faces.detected)  # lost between samples: detected instead


def test_a_followed_face_replaced_by_another_person_is_detected_and_embedded_at_once() -> None:
    faces = FollowableFaces()
    run(120.0, {"swap": 35.0}, faces)
    assert 35.0 in [t for t, _ in faces.detected]  # the look changed: the follow gave up
    assert {35.0, 36.0} <= set(faces.embedded_at)


def film(faces: FollowableFaces, seconds: float, scene: Callable[[Image, float], None]) -> VisualAnalyser:
    """``scene(img, t)`` paints each 2-fps frame over grey; the analyser has seen them all."""
    analyser = VisualAnalyser(faces, VisualOptions(), seconds)
    for k in range(int(seconds * 2)):
        t = k / 2
        img = np.full((360, 640, 3), 90, dtype=np.uint8)
        scene(img, t)
        faces.t = t
        analyser.on_frame(VideoFrame(t, img))
    return analyser


def test_a_followed_face_that_leaves_is_absent_at_once() -> None:
    def scene(img: Image, t: float) -> None:
        if not 17.0 <= t < 24.0:  # the customer steps away for 7 s
            paint(img, PERSON_A, 100 + int(2 * t), 100, 7)

    analyser = film(FollowableFaces(), 40.0, scene)
    present = {f.t: len(f.faces) for f in analyser.frames if f.faces is not None}
    assert [t for t, n in present.items() if n == 0] == [float(t) for t in range(17, 24)]
    assert analyser.tracked_samples >= 15


def test_a_face_appearing_beside_a_followed_one_is_found_at_the_next_detection() -> None:
    faces = FollowableFaces()
    _, analyser = run(60.0, {"second_from": 22.5, "second_to": 31.5}, faces)
    counts = {f.t: len(f.faces) for f in analyser.frames if f.faces is not None}
    assert [t for t, n in counts.items() if n == 2] == [float(t) for t in range(23, 32)]


def test_a_face_appearing_right_beside_a_followed_one_is_found_at_once() -> None:
    def scene(img: Image, t: float) -> None:
        x = 200 + int(20 * np.sin(t / 3))
        paint(img, PERSON_A, x, 100, 7)
        if 17.0 <= t < 20.0:  # someone leans in next to the customer for 3 s (inside the region)
            paint(img, PERSON_B, x + 55, 110, 9)

    analyser = film(FollowableFaces(), 40.0, scene)
    counts = {f.t: len(f.faces) for f in analyser.frames if f.faces is not None}
    assert [t for t, n in counts.items() if n == 2] == [17.0, 18.0, 19.0]
    assert analyser.tracked_samples >= 20  # followed while nobody else was there
