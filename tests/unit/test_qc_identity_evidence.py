"""Identity evidence kept for playback and the litigation report: the ID card frame the OCR read (its
text masked) and the face frames compared with the ID photo, with their distances."""

from __future__ import annotations

from pathlib import Path

from dualrec.media.fakes import (
    FakeAudioSource,
    FakeFaceAnalyzer,
    FakeProbe,
    FakeScene,
    FakeSpeechRecognizer,
    FakeTextRecognizer,
    FakeVoiceActivityDetector,
)
from dualrec.media.ports import Image
from dualrec.pipeline.qc import QcReport, run_qc
from dualrec.pipeline.report import native_report
from dualrec.pipeline.request import QcEngines, QcRequest

from .test_checks_defects import CARD, FLOW, TASK, TRANSCRIPT


class ListSink:
    def __init__(self) -> None:
        self.images: dict[str, Image] = {}

    def put(self, name: str, image: Image) -> str:
        self.images[name] = image
        return f"evidence/{name}"


def _run(scene: FakeScene, *, photo_person: int | None = None, sink: ListSink | None = None) -> QcReport:
    engines = QcEngines(
        probe=FakeProbe(scene.media_info()),
        frames=scene.frame_source(),
        audio=FakeAudioSource(scene.samples()),
        asr=FakeSpeechRecognizer(TRANSCRIPT, track=scene.samples()),
        vad=FakeVoiceActivityDetector(),
        faces=FakeFaceAnalyzer(),
        ocr=FakeTextRecognizer({1: CARD}),
    )
    request = QcRequest(Path("scene.mp4"), task=TASK, flow=FLOW, id_photo=scene.id_photo(photo_person))
    return run_qc(request, engines, sink=sink)


def test_the_card_frame_and_the_compared_faces_are_kept_with_masked_text() -> None:
    sink = ListSink()
    scene = FakeScene(duration=20.0, card=[(1.0, 6.0)])
    report = _run(scene, sink=sink)
    identity = native_report(report)["identity"]

    (card,) = identity["id_card"]
    assert card["side"] == "front" and card["check_digit_valid"] is True
    assert 1.0 <= card["time"] <= 6.0
    assert card["id_number"] == "110105********002X" and card["name"] == "张*"
    frame = sink.images[card["frame"].removeprefix("evidence/")]
    # the full frame the OCR read, with the (fake) card painted in it
    assert frame.shape == (scene.height, scene.width, 3)
    assert (frame[260:340, 50:190] == scene.render(card["time"])[260:340, 50:190]).all()

    faces = identity["face_comparison"]
    assert faces["threshold"] > 0 and faces["compared"] >= 5
    assert 1 <= len(faces["samples"]) <= 6
    assert all(s["match"] and s["distance"] <= faces["threshold"] for s in faces["samples"])
    assert all(s["frame"].removeprefix("evidence/") in sink.images for s in faces["samples"])
    times = [s["time"] for s in faces["samples"]]
    assert times == sorted(times) and times[-1] - times[0] > 10  # spread over the recording
    assert "11010519491231002X" not in str(identity)


def test_another_person_is_shown_as_a_mismatch_including_the_worst_frame() -> None:
    scene = FakeScene(duration=20.0, swap=[(12.0, 20.0)])
    report = _run(scene, sink=ListSink())
    faces = native_report(report)["identity"]["face_comparison"]
    mismatched = [s for s in faces["samples"] if not s["match"]]
    assert mismatched and all(s["time"] >= 11.5 for s in mismatched)
    assert max(s["distance"] for s in faces["samples"]) > faces["threshold"]


def test_without_an_id_card_or_photo_the_sections_are_empty() -> None:
    scene = FakeScene(duration=8.0)
    engines = QcEngines(
        probe=FakeProbe(scene.media_info()),
        frames=scene.frame_source(),
        audio=FakeAudioSource(scene.samples()),
        faces=FakeFaceAnalyzer(),
    )
    report = run_qc(QcRequest(Path("scene.mp4")), engines, sink=ListSink())
    assert native_report(report)["identity"] == {"id_card": [], "face_comparison": None, "liveness": None}
    # without a sink (dualrec check) there is no identity section to point at stored frames
    assert native_report(run_qc(QcRequest(Path("scene.mp4")), engines))["identity"] == {}
