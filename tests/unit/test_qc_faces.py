"""Who is on camera (fakes): a stranger is a finding of its own in every stretch where they stand
in for the customer, one person's faces count once, the counter rule wants two people, a crowd
never passes, a face-engine error is an engine error, and the visual pass finds small faces."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from dualrec.core.qc import CheckResult, CheckStatus, QcTask, Verdict
from dualrec.media.fakes import (
    FakeAudioSource,
    FakeFaceAnalyzer,
    FakeFrameSource,
    FakeProbe,
    FakeScene,
    FakeVoiceActivityDetector,
    paint_face,
)
from dualrec.media.ports import Face, Image, VideoFrame
from dualrec.pipeline.qc import QcReport, run_qc
from dualrec.pipeline.request import QcEngines, QcRequest
from dualrec.pipeline.visual import VisualAnalyser


def qc(scene: FakeScene, *, frames: Any = None, faces: Any = None, **request: Any) -> QcReport:
    engines = QcEngines(
        probe=FakeProbe(scene.media_info()),
        frames=frames or scene.frame_source(),
        audio=FakeAudioSource(scene.samples()),
        asr=None,
        vad=FakeVoiceActivityDetector(),
        faces=faces or FakeFaceAnalyzer(),
    )
    return run_qc(QcRequest(Path("scene.mp4"), **request), engines)


def res(report: QcReport) -> dict[str, CheckResult]:
    return {r.check_id: r for r in report.results}


def spans(r: CheckResult) -> list[tuple[float | None, float | None]]:
    return [(f.start, f.end) for f in r.findings]


def test_a_stand_in_between_two_stretches_of_the_customer_is_found_with_its_frames() -> None:
    scene = FakeScene(duration=30.0, swap=[(10.0, 18.0)])
    r = res(qc(scene))
    consistency = r["identity_consistency"]
    assert consistency.status is CheckStatus.FAILED
    assert spans(consistency) == [(pytest.approx(10.0, abs=1.0), pytest.approx(18.0, abs=1.0))]
    frame = consistency.findings[0].evidence.frame_time
    assert frame is not None and 10.0 <= frame < 18.0  # a frame that shows the stand-in
    assert r["face_presence"].status is CheckStatus.PASSED  # someone was on camera all along


def test_a_stand_in_at_the_start_is_found_when_the_id_photo_names_the_customer() -> None:
    # 12 s of someone else, then the customer for 8 s: the ID photo says who the customer is
    scene = FakeScene(duration=20.0, swap=[(0.0, 12.0)])
    report = qc(scene, id_photo=scene.id_photo())
    r = res(report)
    for check in ("identity_consistency", "identity_match"):
        assert spans(r[check]) == [(pytest.approx(0.0, abs=1.0), pytest.approx(12.0, abs=1.0))], check
    assert report.verdict.verdict is Verdict.FAIL
    # without the photo the longer stretch is taken for the customer: still a failing finding
    assert spans(res(qc(scene))["identity_consistency"]) == [
        (pytest.approx(12.0, abs=1.0), pytest.approx(20.0, abs=1.0))
    ]


def test_one_person_throughout_passes_and_a_bystander_is_only_an_extra_face() -> None:
    clean = res(qc(FakeScene(duration=20.0)))
    assert clean["identity_consistency"].status is CheckStatus.PASSED
    bystander = res(qc(FakeScene(duration=20.0, extra_face=[(6.0, 12.0)])))
    # beside the customer: people_count's finding, not a swap
    assert bystander["identity_consistency"].status is CheckStatus.PASSED
    assert spans(bystander["people_count"]) == [(pytest.approx(6.0, abs=1.0), pytest.approx(12.0, abs=1.0))]


def two_faces_of_one_person(t: float) -> Image:
    """The customer, and from 5 s to 10 s the photo on the ID card they hold up (same person: the
    fake's embedding of person 129 is person 1's)."""
    img = np.full((360, 640, 3), 90, dtype=np.uint8)
    img[:, int(t * 40) % 600 :][:, :40] = 200  # something moves: the picture is never frozen
    paint_face(img, 1, (260, 80, 380, 240))
    if 5.0 <= t < 10.0:
        paint_face(img, 129, (420, 200, 480, 270))
    return img


def test_the_customer_and_the_photo_on_their_id_card_count_as_one_person() -> None:
    scene = FakeScene(duration=15.0)
    frames = FakeFrameSource(two_faces_of_one_person, scene.duration, scene.fps)
    r = res(qc(scene, frames=frames))
    assert r["people_count"].metrics["max_faces"] == 2 and r["people_count"].metrics["max_people"] == 1
    assert r["people_count"].status is CheckStatus.PASSED


def test_counter_mode_wants_two_people_and_no_third() -> None:
    # the salesperson is there but for 8–14 s; a third person comes in at 16–19 s
    scene = FakeScene(duration=24.0, second_person=[(0.0, 8.0), (14.0, 24.0)], extra_face=[(16.0, 19.0)])
    counter = res(qc(scene, task=QcTask(mode="counter")))["people_count"]
    assert counter.status is CheckStatus.FAILED
    assert spans(counter) == [
        (pytest.approx(8.0, abs=1.0), pytest.approx(14.0, abs=1.0)),
        (pytest.approx(16.0, abs=1.0), pytest.approx(19.0, abs=1.0)),
    ]
    assert "同框" in counter.findings[0].message
    # the salesperson is expected: not a stranger in counter mode
    assert res(qc(scene, task=QcTask(mode="counter")))["identity_consistency"].status is CheckStatus.PASSED
    # an empty frame is fewer than two people too
    empty = FakeScene(duration=20.0, second_person=[(0.0, 20.0)], no_face=[(6.0, 11.0)])
    both_gone = res(qc(empty, task=QcTask(mode="counter")))["people_count"]
    assert spans(both_gone) == [(pytest.approx(6.0, abs=1.0), pytest.approx(11.0, abs=1.0))]
    # self-service keeps "exactly one person": the salesperson is an extra face there
    alone = res(qc(scene))["people_count"]
    assert len(alone.findings) == 2 and "多余" in alone.findings[0].message


class EmbedBreaks(FakeFaceAnalyzer):
    def embed(self, image: Image, face: Face) -> npt.NDArray[np.float64]:
        raise RuntimeError("descriptor model crashed")


@pytest.mark.parametrize("id_photo", [False, True])
def test_a_face_engine_error_is_an_engine_error_not_a_damaged_file(id_photo: bool) -> None:
    scene = FakeScene(duration=10.0)
    photo = {"id_photo": scene.id_photo()} if id_photo else {}
    report = qc(scene, faces=EmbedBreaks(), **photo)
    r = res(report)
    assert r["file_integrity"].status is CheckStatus.PASSED, r["file_integrity"].findings
    assert r["black_screen"].status is CheckStatus.PASSED  # the video was analysed to the end
    checks = ["face_presence", "people_count", "identity_consistency", "portrait"]
    for check in [*checks, "identity_match"] if id_photo else checks:
        assert r[check].status is CheckStatus.ERROR, check
        reason = r[check].reason or ""
        assert "EmbedBreaks" in reason and "descriptor model crashed" in reason
    assert report.verdict.verdict is Verdict.REVIEW
    assert not any(f.check_id == "file_integrity" for rr in report.results for f in rr.findings)


def test_small_faces_are_found_by_the_wide_search_and_followed_at_their_scale() -> None:
    """A detector that, like dlib's HOG, finds only faces ≥ 64 px in what it searches: two faces of
    60 px side by side in 720p are found in every sample, and searched at full scale only when
    needed (not every second)."""
    faces = FakeFaceAnalyzer(native_px=64)
    analyser = VisualAnalyser(faces, duration=30.0)
    for k in range(60):
        t = k / 2
        img = np.full((720, 1280, 3), 90, dtype=np.uint8)
        paint_face(img, 1, (500, 300, 560, 370))
        paint_face(img, 2, (700, 310, 760, 380))
        analyser.on_frame(VideoFrame(t, img))
    counts = [len(f.faces) for f in analyser.frames if f.faces is not None]
    assert counts == [2] * 30
    whole = [s for s in faces.searches if s[:2] == (720, 1280)]
    assert 1 <= len(whole) <= 6  # the first, one every full_detect_interval; the rest: the region
    # the same detector on the old 640-px frames saw none of them
    old = FakeFaceAnalyzer(native_px=64)
    assert old.detect(np.asarray(img[::2, ::2])) == []


def test_an_empty_unchanging_picture_is_not_searched_every_second() -> None:
    """Nobody on camera and nothing moving: a wide search every empty_interval (2 s), not every
    second (an empty recording would pay ~80 ms a second); someone coming in is found within it
    (at once when the picture changes: this fake face has nearly the background's luma)."""
    faces = FakeFaceAnalyzer()
    analyser = VisualAnalyser(faces, duration=60.0)
    calls_while_empty = 0
    for k in range(120):
        t = k / 2
        img = np.full((360, 640, 3), 90, dtype=np.uint8)
        if t >= 41.0:
            paint_face(img, 1, (260, 80, 380, 240))
        else:
            calls_while_empty = faces.detect_calls
        analyser.on_frame(VideoFrame(t, img))
    seen = {f.t: len(f.faces) for f in analyser.frames if f.faces is not None}
    assert len(seen) == 60  # every second is still a face sample (of no face)
    assert [t for t, n in seen.items() if n] == [float(t) for t in range(42, 60)]
    assert calls_while_empty <= 21  # every 2 s
