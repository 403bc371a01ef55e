"""The face checks with real dlib on short recordings built from the real photos in tests/data:
a change of person (A→B, B→A, A→B→A) fails with a finding of its own for the stranger (not an
absence), one person in different photos passes, a crowd and cuts between people do not pass,
two people at a counter pass the counter rule and one alone does not, and small faces in 720p are
found (recall on the labelled photos).

Recordings are 640×360 (1280×720 where the size of the faces is the point), 15 fps, built once per
machine; the QC runs without ASR (the audio is silent; nothing here is about speech)."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dualrec.bootstrap.engines import build_qc_engines
from dualrec.core.qc import CheckResult, CheckStatus, QcTask, Verdict
from dualrec.media.ports import VideoFrame
from dualrec.pipeline.qc import QcReport, run_qc
from dualrec.pipeline.request import QcEngines, QcRequest
from dualrec.pipeline.visual import VisualAnalyser
from tests import face_scenes as fs
from tests import media_factory as mf

SMALL, HD = (640, 360), (1280, 720)
A, B = "obama.jpg", "biden.jpg"


def cache_dir() -> Path:
    digest = hashlib.sha256(Path(fs.__file__).read_bytes()).hexdigest()[:10]
    path = Path(tempfile.gettempdir()) / f"dualrec-face-media-{os.getuid()}-{digest}"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def engines() -> QcEngines:
    why = mf.available()
    if why is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(why)
        pytest.skip(why)
    eng = build_qc_engines(data_dir=cache_dir() / "data", ocr=False)
    assert "faces" not in eng.unavailable, eng.unavailable
    return dataclasses.replace(eng, asr=None)


def video(name: str, parts: Sequence[tuple[str, float]], size: tuple[int, int] = SMALL) -> Path:
    return fs.slideshow(cache_dir() / f"{name}.mp4", [(fs.still(p, size), s) for p, s in parts])


def qc(path: Path, engines: QcEngines, *, photo: str | None = None, mode: str | None = None) -> QcReport:
    id_photo = mf.load_rgb(mf.DATA / "faces" / photo) if photo else None
    return run_qc(QcRequest(path, id_photo=id_photo, task=QcTask(mode=mode)), engines)


def results(report: QcReport) -> dict[str, CheckResult]:
    return {r.check_id: r for r in report.results}


def spans(res: CheckResult) -> list[tuple[float, float]]:
    return [(f.start or 0.0, f.end or 0.0) for f in res.findings]


@pytest.mark.parametrize(
    ("name", "parts", "strangers"),
    [
        ("a_b", [(A, 16.0), (B, 8.0)], [(16.0, 24.0)]),
        ("b_a", [(B, 8.0), (A, 16.0)], [(0.0, 8.0)]),
        ("a_b_a", [(A, 8.0), (B, 8.0), (A, 8.0)], [(8.0, 16.0)]),
    ],
)
def test_a_change_of_person_is_a_stranger_of_its_own_not_an_absence(
    engines: QcEngines, name: str, parts: list[tuple[str, float]], strangers: list[tuple[float, float]]
) -> None:
    report = qc(video(name, parts), engines)
    res = results(report)
    assert report.verdict.verdict is Verdict.FAIL
    consistency = res["identity_consistency"]
    assert consistency.status is CheckStatus.FAILED
    assert spans(consistency) == [pytest.approx(s, abs=1.01) for s in strangers]
    for f in consistency.findings:  # its evidence frame shows the stranger
        assert f.evidence.frame_time is not None and f.start is not None and f.end is not None
        assert f.start <= f.evidence.frame_time <= f.end
    # a face is on camera all the time: no "customer not on camera"
    assert res["face_presence"].status is CheckStatus.PASSED, res["face_presence"].findings


def test_with_the_id_photo_the_stretch_of_the_other_person_fails_identity_match(engines: QcEngines) -> None:
    path = video("b_a", [(B, 8.0), (A, 16.0)])
    report = qc(path, engines, photo="obama1.jpg")  # a different photo of A
    res = results(report)
    # A matches the ID photo: A is the customer, B's stretch fails both checks
    assert spans(res["identity_match"]) == [pytest.approx((0.0, 8.0), abs=1.01)]
    assert spans(res["identity_consistency"]) == [pytest.approx((0.0, 8.0), abs=1.01)]
    assert report.verdict.verdict is Verdict.FAIL


def test_one_person_in_different_photos_passes(engines: QcEngines) -> None:
    path = video("same", [("obama.jpg", 6.0), ("obama2.jpg", 6.0), ("obama3.jpg", 6.0), ("obama1.jpg", 6.0)])
    report = qc(path, engines, photo="obama1.jpg")
    res = results(report)
    for check in ("identity_consistency", "identity_match", "face_presence", "people_count"):
        assert res[check].status is CheckStatus.PASSED, (check, res[check].findings)
    assert int(str(res["identity_consistency"].metrics["people"])) == 1


def test_cuts_between_different_people_do_not_pass(engines: QcEngines) -> None:
    path = video("cuts", [(A, 4.0), (B, 4.0), (A, 4.0), ("biden2.jpg", 4.0), (A, 4.0)])
    res = results(qc(path, engines))
    assert res["identity_consistency"].status is CheckStatus.FAILED
    assert len(res["identity_consistency"].findings) == 2  # both stretches of the other man


def test_a_crowd_does_not_pass_people_count(engines: QcEngines) -> None:
    """An audience of seven real faces (84 and 105 px wide) in 720p, from the single-person photos."""
    audience = Image.fromarray(fs.crowd(84).image)
    path = fs.slideshow(cache_dir() / "crowd.mp4", [(audience, 6.0)])
    res = results(qc(path, engines))
    assert res["people_count"].status is CheckStatus.FAILED
    assert int(str(res["people_count"].metrics["max_faces"])) >= 3


@pytest.mark.slow  # ~8 s: two QC runs of an 18 s 720p recording
def test_counter_mode_wants_the_salesperson_and_the_customer_in_the_same_frame(engines: QcEngines) -> None:
    pair = fs.still("two_people.jpg", HD, face_width=80)  # faces of ~80 px side by side in 720p
    alone = fs.still("two_people.jpg", HD, face_width=80, crop=(0, 0, 563, 661))  # the left one only
    path = fs.slideshow(cache_dir() / "counter.mp4", [(pair, 8.0), (alone, 6.0), (pair, 4.0)])
    counter = results(qc(path, engines, mode="counter"))["people_count"]
    assert counter.status is CheckStatus.FAILED
    assert spans(counter) == [pytest.approx((8.0, 14.0), abs=1.01)]
    assert "同框" in counter.findings[0].message
    # self-service: the two of them are an extra face, the one alone is fine
    alone_ok = results(qc(path, engines))["people_count"]
    assert [pytest.approx(s, abs=1.01) for s in spans(alone_ok)] == [(0.0, 8.0), (14.0, 18.0)]


@pytest.mark.slow  # ~15–30 s: 77 scenes built, one wide search each
def test_small_faces_in_720p_are_found_by_the_visual_pass(engines: QcEngines) -> None:
    """Each labelled scene (real photos of several people and rows of real faces at 60–120 px in
    1280×720) as the first frame of a recording: the visual pass finds ≥ 98 % of the frontal faces."""
    hits: list[bool] = []
    for scene in fs.scenes():
        analyser = VisualAnalyser(engines.faces)
        analyser.on_frame(VideoFrame(0.0, scene.image))
        found = [o.box for o in analyser.frames[0].faces or ()]
        frontal = [label.frontal and label.width >= 60 for label in scene.labels]
        hits += [h for h, f in zip(fs.matches(found, scene.labels), frontal, strict=True) if f]
    assert len(hits) >= 200
    assert sum(hits) / len(hits) >= 0.98, f"{sum(hits)}/{len(hits)}"


@pytest.mark.slow  # ~6 s: a 12 s 720p recording
def test_counter_pair_at_60_px_is_seen_in_every_second(engines: QcEngines) -> None:
    """Two people of ~60–70 px side by side in 720p: both found in every face sample (the visual
    pass follows small faces at their own scale between wide searches)."""
    pair = fs.still("two_people.jpg", HD, face_width=64)
    path = fs.slideshow(cache_dir() / "pair64.mp4", [(pair, 12.0)])
    report = qc(path, engines, mode="counter")
    counts = [len(f.faces) for f in report.context.frames if f.faces is not None]
    assert len(counts) >= 11 and set(counts) == {2}, counts
    assert results(report)["people_count"].status is CheckStatus.PASSED
    assert np.mean([o.area_ratio for f in report.context.frames for o in f.faces or ()]) > 0.002
