"""Without markers, the ID card is looked for where the transcript places the identity node, not only
in the first two minutes: a card held up late in a long recording is read."""

from __future__ import annotations

from pathlib import Path

from dualrec.core.flow import Marker
from dualrec.core.qc import CheckStatus
from dualrec.media.fakes import (
    FakeAudioSource,
    FakeFaceAnalyzer,
    FakeFrameSource,
    FakeProbe,
    FakeScene,
    FakeSpeechRecognizer,
    FakeTextRecognizer,
    FakeVoiceActivityDetector,
)
from dualrec.media.ports import TranscriptSegment as Seg
from dualrec.pipeline.qc import QcReport, run_qc
from dualrec.pipeline.request import QcEngines, QcRequest

from .test_checks_defects import CARD, FLOW, TASK

SCENE = FakeScene(duration=300.0, card=[(203.0, 209.0)])  # shown 3 s after being asked, for 6 s
ASKED = Seg(199.0, 201.0, "您好，请出示您的身份证。")
LATER = [
    Seg(230.0, 236.0, "本产品不保本，投资有风险，请您谨慎选择。"),
    Seg(250.0, 252.5, "您是否同意购买本产品？"),
    Seg(253.0, 254.0, "同意。"),
]


def _run(transcript: list[Seg], **request: object) -> tuple[QcReport, FakeFrameSource]:
    frames = SCENE.frame_source()
    engines = QcEngines(
        probe=FakeProbe(SCENE.media_info()),
        frames=frames,
        audio=FakeAudioSource(SCENE.samples()),
        asr=FakeSpeechRecognizer(transcript),
        vad=FakeVoiceActivityDetector(),
        faces=FakeFaceAnalyzer(),
        ocr=FakeTextRecognizer({1: CARD}),
    )
    report = run_qc(QcRequest(Path("scene.mp4"), task=TASK, flow=FLOW, **request), engines)  # type: ignore[arg-type]
    return report, frames


def test_a_card_shown_late_is_read_where_the_transcript_places_the_identity_node() -> None:
    report, frames = _run([ASKED, *LATER])
    card = {r.check_id: r for r in report.results}["id_card"]
    assert card.status is CheckStatus.PASSED, card
    assert 203.0 <= float(str(card.metrics["t"])) < 209.0
    assert 0 < frames.seeks <= 12


def test_without_the_identity_node_in_the_transcript_only_the_start_is_searched() -> None:
    report, frames = _run(LATER)
    card = {r.check_id: r for r in report.results}["id_card"]
    assert card.status is not CheckStatus.PASSED  # the card was never in the frames that were read
    assert frames.seeks == 0


def test_with_markers_the_frames_kept_in_the_marked_node_are_read_and_nothing_is_seeked() -> None:
    markers = (Marker("id", 200.0, 215.0),)
    report, frames = _run(LATER, markers=markers)
    card = {r.check_id: r for r in report.results}["id_card"]
    assert card.status is CheckStatus.PASSED, card
    assert frames.seeks == 0
