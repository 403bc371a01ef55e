"""The portrait check judges the customer's face by its own resolution: a counter recording's
salesperson (the larger face) is not the customer's portrait, and a face of ~70 px in 720p (two
people at a counter, further from the camera) is not "low quality" for filling little of the frame."""

from __future__ import annotations

import numpy as np
from PIL import Image as PILImage

from dualrec.checks.base import CheckContext, FaceObservation, FrameAnalysis, PortraitCandidate
from dualrec.checks.builtin import portrait
from dualrec.checks.catalog import default_thresholds
from dualrec.checks.faces import customer_portrait
from dualrec.core.qc import CheckStatus, QcTask
from dualrec.pipeline.visual import VisualAnalyser
from tests.conftest import TEST_DATA

TH = default_thresholds()
SALES = (1.0,) + (0.0,) * 127
CUSTOMER = (0.0, 1.0) + (0.0,) * 126


def counter_context(mode: str = "counter") -> CheckContext:
    """20 s at a counter: the salesperson's face is the larger one (index 0), the customer's the
    other; both embedded every 2 s; the ID photo is the customer's."""
    frames = []
    for k in range(21):
        t = float(k)
        emb = k % 2 == 0
        faces = (
            FaceObservation((600, 200, 700, 300), 0.011, SALES if emb else None),
            FaceObservation((200, 220, 270, 290), 0.005, CUSTOMER if emb else None),
        )
        frames.append(FrameAnalysis(t, 120.0, 40.0, 1.0, faces))
    sales = PortraitCandidate(4.0, 0.9, np.full((8, 8, 3), 1, np.uint8), 0)
    customer = PortraitCandidate(6.0, 0.55, np.full((8, 8, 3), 2, np.uint8), 1)
    return CheckContext(
        path="counter.mp4",
        task=QcTask(mode=mode),
        frames=tuple(frames),
        frame_interval=1.0,
        id_photo=CUSTOMER,
        id_photo_error=None,
        portrait=sales,
        portraits=(sales, customer),
        thresholds=TH,
    )


def test_the_counter_portrait_is_the_customers_face_not_the_salespersons() -> None:
    ctx = counter_context()
    chosen = customer_portrait(ctx)
    assert chosen is not None and chosen.face == 1 and int(chosen.image[0, 0, 0]) == 2
    r = portrait.run(ctx)
    assert r.status is CheckStatus.PASSED
    assert r.metrics["t"] == 6.0 and r.metrics["score"] == 0.55


def test_a_low_quality_customer_portrait_is_found_even_when_the_salespersons_is_good() -> None:
    ctx = counter_context()
    poor = PortraitCandidate(6.0, 0.1, np.zeros((8, 8, 3), np.uint8), 1)
    r = portrait.run(CheckContext(**{**ctx.__dict__, "portraits": (ctx.portraits[0], poor)}))
    assert r.status is CheckStatus.FAILED
    assert "0.10" in r.findings[0].message


def _placed(face_px: int, size: tuple[int, int]) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The real photo obama.jpg scaled so that its hand-checked face box is ``face_px`` wide, on a
    grey frame of ``size``; returns the frame and the face's box in it."""
    left, top, right, bottom = 358, 134, 613, 389  # tests/data/faces/labels.json
    photo = PILImage.open(TEST_DATA / "faces" / "obama.jpg").convert("RGB")
    s = face_px / (right - left)
    small = photo.resize((round(photo.width * s), round(photo.height * s)), PILImage.Resampling.LANCZOS)
    frame = PILImage.new("RGB", size, (110, 110, 110))
    x, y = size[0] // 2 - round((left + right) / 2 * s), size[1] // 2 - round((top + bottom) / 2 * s)
    frame.paste(small, (x, y))
    box = (x + round(left * s), y + round(top * s), x + round(right * s), y + round(bottom * s))
    return np.asarray(frame, dtype=np.uint8), box


def _score(face_px: int, size: tuple[int, int]) -> float:
    img, box = _placed(face_px, size)
    v = VisualAnalyser(None)
    v._consider_portrait(img, 0.0, 0, box, 1.0, True)
    assert v.portrait is not None
    return v.portrait.score


def test_a_70_px_face_in_720p_is_a_usable_portrait_and_resolution_decides() -> None:
    min_score = TH["portrait"]["min_score"]
    hd = _score(70, (1280, 720))
    assert hd >= min_score, hd  # was 0.20 when the score was the face's share of the frame
    # the face's pixels decide, not the frame around it: the same face in a frame 4× as large
    assert abs(_score(70, (1280, 720)) - _score(70, (2560, 1440))) < 0.35 * hd
    assert _score(24, (1280, 720)) < min_score  # a 24-px face is too small to be a portrait
