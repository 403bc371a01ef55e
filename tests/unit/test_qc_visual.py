"""The visual analyser's embedding schedule: a face that moves is not an identity change; another
face (look) or another number of faces is, and is embedded at once and confirmed at the next
detection."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from dualrec.media.ports import Face, Image, VideoFrame
from dualrec.pipeline.visual import VisualAnalyser, VisualOptions

RNG = np.random.default_rng(3)
PERSON_A = RNG.integers(0, 256, (40, 40, 3), dtype=np.uint8)
PERSON_B = RNG.integers(0, 256, (40, 40, 3), dtype=np.uint8)


class BoxFaces:
    """Knows where the scene put its faces; counts the (expensive) embeddings."""

    def __init__(self) -> None:
        self.boxes: list[tuple[int, int, int, int]] = []
        self.embedded_at: list[float] = []
        self.t = 0.0

    def detect(self, image: Image) -> list[Face]:
        return [Face(b) for b in self.boxes]

    def embed(self, image: Image, face: Face) -> npt.NDArray[np.float64]:
        self.embedded_at.append(self.t)
        return np.zeros(128)


def run(duration: float, scene: dict[str, object]) -> list[float]:
    faces = BoxFaces()
    analyser = VisualAnalyser(faces, VisualOptions(), duration)
    for k in range(int(duration * 2)):
        t = k / 2
        img = np.full((360, 640, 3), 90, dtype=np.uint8)
        x = 100 + int(80 * np.sin(t))  # the customer keeps moving
        person = PERSON_B if t >= float(scene.get("swap", 1e9)) else PERSON_A  # type: ignore[arg-type]
        img[100:140, x : x + 40] = person
        faces.boxes = [(x, 100, x + 40, 140)]
        if float(scene.get("second_from", 1e9)) <= t < float(scene.get("second_to", 1e9)):  # type: ignore[arg-type]
            img[200:240, 500:540] = PERSON_B
            faces.boxes.append((500, 200, 540, 240))
        faces.t = t
        analyser.on_frame(VideoFrame(t, img))
    return sorted(set(faces.embedded_at))


def test_a_moving_face_is_embedded_only_on_the_interval() -> None:
    times = run(120.0, {})
    assert times == [float(t) for t in range(0, 120, 10)]


def test_another_person_is_embedded_at_once_and_confirmed() -> None:
    times = run(120.0, {"swap": 35.0})
    assert {35.0, 36.0} <= set(times) and len(times) <= 15


def test_a_second_face_is_embedded_when_it_appears_and_leaves() -> None:
    times = run(120.0, {"second_from": 52.0, "second_to": 61.0})
    assert {52.0, 53.0, 61.0, 62.0} <= set(times) and len(times) <= 17


def test_short_recordings_get_a_minimum_of_identity_samples() -> None:
    assert len(run(16.0, {})) >= VisualOptions().min_embeddings
