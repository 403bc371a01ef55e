"""The QC pipeline with the real engines on recordings generated from tests/data.

A clean recording passes; each defect injected alone fails only its own check, at the right time
(±1 s); a different person than the ID photo fails identity; bad inputs give a report, never a
crash. Media are built once per machine (cache keyed by the factory's source) and models load once.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from rapidfuzz.distance import Levenshtein

from dualrec.bootstrap.engines import build_qc_engines
from dualrec.checks.textmatch import syllables
from dualrec.core.flow import Flow, parse_flow
from dualrec.core.qc import CheckResult, CheckStatus, QcTask, Severity, Verdict
from dualrec.media.ports import Samples, SpeechRecognizer, TranscriptSegment
from dualrec.pipeline.qc import QcReport, run_qc
from dualrec.pipeline.report import native_report, patent_report
from dualrec.pipeline.request import QcEngines, QcRequest
from tests import media_factory as mf

pytestmark = pytest.mark.slow  # about 35 s in all: the real engines on real recordings


FLOW_NODES = [{"id": "open", "type": "risk_disclosure", "title": "开场", "required_statements": [mf.OPENING]}]
FLOW = parse_flow({"id": "demo", "nodes": FLOW_NODES})


def cache_dir() -> Path:
    digest = hashlib.sha256(Path(mf.__file__).read_bytes()).hexdigest()[:10]
    return Path(tempfile.gettempdir()) / f"dualrec-qc-media-{os.getuid()}-{digest}"


@pytest.fixture(scope="session")
def media() -> mf.MediaFactory:
    why = mf.available()
    if why is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(why)
        pytest.skip(why)
    return mf.MediaFactory(cache_dir())


class OncePerAudio:
    """The real recogniser, run once per distinct audio: most defect recordings share the clean
    recording's soundtrack, and transcribing it again would only cost time."""

    def __init__(self, inner: SpeechRecognizer) -> None:
        self.inner = inner
        self.seen: dict[str, list[TranscriptSegment]] = {}

    def transcribe(
        self, audio: Samples, *, sample_rate: int = 16000, language: str = "zh", prompt: str | None = None
    ) -> list[TranscriptSegment]:
        key = hashlib.sha256(audio.tobytes()).hexdigest() + f"{sample_rate}{language}{prompt}"
        if key not in self.seen:
            self.seen[key] = self.inner.transcribe(
                audio, sample_rate=sample_rate, language=language, prompt=prompt
            )
        return self.seen[key]


@pytest.fixture(scope="session")
def engines() -> Iterator[QcEngines]:
    eng = build_qc_engines(data_dir=cache_dir() / "data", cpu_threads=2, ocr=False)
    assert eng.unavailable == {}, eng.unavailable
    assert eng.asr is not None
    yield dataclasses.replace(eng, asr=OncePerAudio(eng.asr))


@pytest.fixture(scope="session")
def engines_ocr(engines: QcEngines) -> QcEngines:
    full = build_qc_engines(data_dir=cache_dir() / "data", cpu_threads=2)
    return dataclasses.replace(full, asr=engines.asr)


def qc(
    path: Path, engines: QcEngines, *, photo: str = "obama1.jpg", flow: Flow = FLOW, **kw: object
) -> QcReport:
    request = QcRequest(path, flow=flow, id_photo=mf.load_rgb(mf.DATA / "faces" / photo), **kw)  # type: ignore[arg-type]
    report = run_qc(request, engines)
    json.dumps(native_report(report), ensure_ascii=False)  # both documents always serialise
    json.dumps(patent_report(report), ensure_ascii=False)
    return report


def failing(report: QcReport) -> dict[str, CheckResult]:
    return {r.check_id: r for r in report.results if r.status in (CheckStatus.FAILED, CheckStatus.ERROR)}


def _syllable_errors(reference: str, hypothesis: str) -> float:
    """Share of the reference's pinyin syllables missed, as QC matches them (达摩院 = 大魔院); the
    ASR's accuracy itself is measured over four clips in test_engine_speech."""
    ref = syllables(reference)
    return Levenshtein.distance(ref, syllables(hypothesis)) / len(ref)


def test_clean_recording_passes_and_real_speech_is_transcribed(
    media: mf.MediaFactory, engines: QcEngines
) -> None:
    report = qc(media.recording(), engines)
    assert failing(report) == {}
    assert report.verdict.verdict is Verdict.PASS
    text = "".join(s.text for s in report.context.transcript or ())
    assert _syllable_errors(mf.OPENING, text[: len(mf.OPENING) + 1]) <= 0.2, text
    coverage = {r.check_id: r for r in report.results}["script_coverage"].metrics
    assert coverage["mean_coverage"] >= 0.9
    assert report.context.portrait is not None
    faces = {r.check_id: r for r in report.results}["face_presence"].metrics
    assert faces["ratio"] >= 0.95


@pytest.mark.parametrize(
    ("defect", "check_id"),
    [
        ("black", "black_screen"),
        ("frozen", "frozen_picture"),
        ("silence", "silence"),
        ("no_face", "face_presence"),
        ("second_face", "people_count"),
        ("swap", "identity_consistency"),
    ],
)
def test_defect_alone_fails_only_its_check_at_its_time(
    media: mf.MediaFactory, engines: QcEngines, defect: str, check_id: str
) -> None:
    _, start, end = mf.DEFECTS[defect]
    report = qc(media.recording(defect), engines)
    bad = failing(report)
    # the stand-in does not match the ID photo either: that stretch fails identity_match too
    expected = {check_id, "identity_match"} if defect == "swap" else {check_id}
    if defect == "silence" and "transcript" in bad:
        # the mute cuts the speech mid-word: the voice just before it, which the recogniser could not
        # write down, is honestly reported as unheard voice (minor, ending where the mute starts)
        cut = bad.pop("transcript").findings
        assert all(
            f.severity is Severity.MINOR and f.end is not None and abs(f.end - start) <= 1.0 for f in cut
        ), [(f.severity, f.start, f.end) for f in cut]
    assert set(bad) == expected, {k: [f.message for f in v.findings] for k, v in bad.items()}
    f = bad[check_id].findings[0]
    assert f.start == pytest.approx(start, abs=1.0)
    assert f.end == pytest.approx(end, abs=1.0)
    assert report.verdict.verdict is not Verdict.PASS


def test_different_person_than_the_id_photo_fails_identity(
    media: mf.MediaFactory, engines: QcEngines
) -> None:
    report = qc(media.recording(), engines, photo="biden.jpg")
    assert set(failing(report)) == {"identity_match"}
    assert report.verdict.verdict is Verdict.FAIL
    assert {r.check_id: r for r in report.results}["identity_match"].metrics["median_distance"] > 0.6


def test_id_card_is_read_and_matched_against_the_task(media: mf.MediaFactory, engines_ocr: QcEngines) -> None:
    flow = parse_flow({"nodes": [{"id": "id", "type": "identity", "script": "请出示身份证"}, *FLOW_NODES]})
    good = qc(media.recording("card"), engines_ocr, flow=flow, task=QcTask("R1", mf.CARD_NAME, mf.CARD_ID))
    card = {r.check_id: r for r in good.results}["id_card"]
    assert card.status is CheckStatus.PASSED, card
    assert card.metrics["name"] == mf.CARD_NAME and card.metrics["check_digit_valid"] is True
    assert 1.0 <= float(str(card.metrics["t"])) <= 5.0
    wrong = qc(
        media.recording("card"), engines_ocr, flow=flow, task=QcTask("R1", mf.CARD_NAME, "110101199003074514")
    )
    assert set(failing(wrong)) == {"id_card"}


def test_identity_flow_with_the_ocr_engine_unavailable_is_review_naming_it(
    media: mf.MediaFactory, engines: QcEngines, engines_ocr: QcEngines, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the card read, this recording passes; with RapidOCR missing it was PASS too (id_card only
    not_run): the identity node requires the card, so it must be REVIEW, saying which engine."""
    from dualrec.media.models import availability

    flow = parse_flow({"nodes": [{"id": "id", "type": "identity", "script": "请出示身份证"}, *FLOW_NODES]})
    task = QcTask("R1", mf.CARD_NAME, mf.CARD_ID)
    good = qc(media.recording("card"), engines_ocr, flow=flow, task=task)
    assert good.verdict.verdict is Verdict.PASS, good.verdict.reasons
    gone = availability.EngineStatus("rapidocr", False, "missing Python package rapidocr_onnxruntime")
    monkeypatch.setattr(availability, "rapidocr_status", lambda: gone)
    built = build_qc_engines(data_dir=cache_dir() / "data", asr=False, faces=False)
    assert built.ocr is None and "rapidocr" in built.unavailable["ocr"]
    no_ocr = dataclasses.replace(engines, ocr=None, unavailable={**engines.unavailable, **built.unavailable})
    report = qc(media.recording("card"), no_ocr, flow=flow, task=task)
    assert report.verdict.verdict is Verdict.REVIEW
    assert {r.check_id: r for r in report.results}["id_card"].status is CheckStatus.NOT_RUN
    why = next(r for r in report.verdict.reasons if r.startswith("id_card:"))
    assert "required" in why and "identity" in why.lower() and "rapidocr" in why, why


def _integrity(report: QcReport) -> str:
    res = {r.check_id: r for r in report.results}["file_integrity"]
    assert res.status is CheckStatus.FAILED
    return " ".join(f.message for f in res.findings)


@pytest.mark.parametrize("kind", ["zero_byte", "text_as_mp4", "truncated_plain"])
def test_unopenable_files_give_a_failing_report(
    media: mf.MediaFactory, engines: QcEngines, kind: str
) -> None:
    path = media.truncated(faststart=False) if kind == "truncated_plain" else getattr(media, kind)()
    report = qc(path, engines)
    assert "无法" in _integrity(report)
    assert report.verdict.verdict is Verdict.FAIL
    assert {r.check_id: r for r in report.results}["black_screen"].status is CheckStatus.NOT_RUN


def test_truncated_file_that_opens_is_reported_as_truncated(
    media: mf.MediaFactory, engines: QcEngines
) -> None:
    report = qc(media.truncated(faststart=True), engines)
    assert "截断" in _integrity(report) or "truncated" in _integrity(report)
    assert report.verdict.verdict is Verdict.FAIL


def test_audio_only_and_video_only(media: mf.MediaFactory, engines: QcEngines) -> None:
    audio_only = qc(media.audio_only(), engines)
    assert "no video stream" in _integrity(audio_only)
    assert {r.check_id: r for r in audio_only.results}["transcript"].status is CheckStatus.PASSED
    video_only = qc(media.video_only(), engines)
    assert "no audio stream" in _integrity(video_only)
    assert {r.check_id: r for r in video_only.results}["black_screen"].status is CheckStatus.PASSED


def test_variable_frame_rate_gives_a_report(media: mf.MediaFactory, engines: QcEngines) -> None:
    report = qc(media.vfr(), engines)
    res = {r.check_id: r for r in report.results}
    assert res["face_presence"].status is CheckStatus.PASSED
    assert res["script_coverage"].status is CheckStatus.PASSED
    assert report.context.video is not None and report.context.video.frames_decoded > 100
