"""A check the flow requires that could not run makes the verdict REVIEW, naming the check, the
node that needs it and the engine; an engine error is an ``error`` (REVIEW), never a finding
against the customer's file; a damaged file is logged as one line, a broken engine with its
traceback."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from dualrec.checks.required import FLOW_CHECKS, NODE_CHECKS, required_checks
from dualrec.core.flow import NODE_TYPES, Flow, parse_flow
from dualrec.core.qc import CheckResult, CheckStatus, Severity, Verdict, decide_verdict
from dualrec.errors import MediaError
from dualrec.media.fakes import (
    FakeAudioSource,
    FakeFaceAnalyzer,
    FakeProbe,
    FakeScene,
    FakeSpeechRecognizer,
    FakeTextRecognizer,
    FakeVoiceActivityDetector,
)
from dualrec.media.ports import DecodeReport, Image, Samples, TextLine, VideoFrame
from dualrec.media.ports import TranscriptSegment as Seg
from dualrec.pipeline.qc import QcReport, run_qc
from dualrec.pipeline.report import native_report, patent_report
from dualrec.pipeline.request import QcEngines, QcRequest

SCENE = FakeScene(duration=20.0, card=[(2.0, 8.0)])
CARD = {1: ["姓名张三", "公民身份号码11010519491231002X"]}
OCR_GONE = "rapidocr 不可用 / unavailable: missing Python package rapidocr_onnxruntime"
ASR_GONE = "whisper 不可用 / unavailable: model files missing"
BASE = set(FLOW_CHECKS)


def engines(**over: Any) -> QcEngines:
    parts: dict[str, Any] = {
        "probe": FakeProbe(SCENE.media_info()),
        "frames": SCENE.frame_source(),
        "audio": FakeAudioSource(SCENE.samples()),
        "asr": FakeSpeechRecognizer([Seg(1.0, 3.0, "您好")], track=SCENE.samples()),
        "vad": FakeVoiceActivityDetector(),
        "faces": FakeFaceAnalyzer(),
        "ocr": FakeTextRecognizer(CARD),
    }
    parts.update(over)
    return QcEngines(**parts)


def flow(*nodes: dict[str, Any]) -> Flow:
    return parse_flow({"id": "f", "nodes": list(nodes)})


IDENTITY = flow({"id": "id", "type": "identity", "title": "核实身份", "script": "请出示身份证"})


def qc(f: Flow | None, eng: QcEngines, *, photo: bool = True) -> QcReport:
    return run_qc(QcRequest(Path("a.mp4"), flow=f, id_photo=SCENE.id_photo() if photo else None), eng)


def status(report: QcReport, check_id: str) -> CheckResult:
    return next(r for r in report.results if r.check_id == check_id)


def reason_of(report: QcReport, check_id: str) -> str:
    return next((r for r in report.verdict.reasons if r.startswith(f"{check_id}:")), "")


class RaisingOcr(FakeTextRecognizer):
    def recognize(self, image: Image) -> list[TextLine]:
        raise RuntimeError("onnxruntime exploded")


class RaisingAsr(FakeSpeechRecognizer):
    def transcribe(self, audio: Samples, **kw: Any) -> list[Seg]:
        raise RuntimeError("ctranslate2 exploded")


# ------------------------------------------------------------------ identity node, OCR engine


def test_identity_flow_with_every_engine_passes() -> None:
    report = qc(IDENTITY, engines())
    assert report.verdict.verdict is Verdict.PASS, report.verdict.reasons
    assert status(report, "id_card").status is CheckStatus.PASSED


def test_identity_flow_without_the_ocr_engine_is_review_naming_check_node_and_engine() -> None:
    report = qc(IDENTITY, engines(ocr=None, unavailable={"ocr": OCR_GONE}))
    assert report.verdict.verdict is Verdict.REVIEW  # it was PASS, risk 0: id_card only not_run
    why = reason_of(report, "id_card")
    assert "必需" in why and "required" in why  # the flow needs it
    assert "核实身份" in why and "identity" in why.lower()  # which node
    assert "rapidocr" in why and "unavailable" in why  # which engine, why
    native = native_report(report)
    card = next(c for c in native["checks"] if c["id"] == "id_card")
    assert card["status"] == "not_run" and "identity" in card["required_by"].lower()


def test_identity_flow_with_a_raising_ocr_engine_is_review_with_the_engine_error() -> None:
    report = qc(IDENTITY, engines(ocr=RaisingOcr(CARD)))
    assert report.verdict.verdict is Verdict.REVIEW
    card = status(report, "id_card")
    assert card.status is CheckStatus.ERROR and not card.findings
    assert "OCR" in (card.reason or "") and "onnxruntime exploded" in (card.reason or "")
    assert "onnxruntime exploded" in reason_of(report, "id_card")
    assert "检查出错" in next(
        i["check_comment"] for i in patent_report(report)["check_list"] if i["check_items"] == "身份证出示"
    )


def test_without_a_flow_an_unavailable_ocr_keeps_todays_rule() -> None:
    """Plain upload: nothing is required by a flow; id_card (major) not run does not decide."""
    report = qc(None, engines(ocr=None, unavailable={"ocr": OCR_GONE}))
    assert reason_of(report, "id_card") == ""
    assert report.required == {}


# ------------------------------------------------------------------ ASR engine


def test_a_raising_asr_is_an_error_naming_it_with_or_without_a_flow() -> None:
    for f in (None, IDENTITY):
        report = qc(f, engines(asr=RaisingAsr()))
        assert report.verdict.verdict is Verdict.REVIEW
        for check_id in ("transcript", "sensitive_words"):
            res = status(report, check_id)
            assert res.status is CheckStatus.ERROR, (f, check_id, res)
            assert "ASR" in (res.reason or "") and "ctranslate2 exploded" in (res.reason or "")
            assert "ctranslate2 exploded" in reason_of(report, check_id)


def test_an_unavailable_asr_makes_a_statement_flow_review_naming_every_speech_check() -> None:
    f = flow({"id": "r", "type": "risk_disclosure", "required_statements": ["您好"]})
    assert qc(f, engines()).verdict.verdict is Verdict.PASS
    report = qc(f, engines(asr=None, unavailable={"asr": ASR_GONE}))
    assert report.verdict.verdict is Verdict.REVIEW
    for check_id in ("script_coverage", "transcript", "sensitive_words"):
        why = reason_of(report, check_id)
        assert "required" in why and "whisper" in why, (check_id, why)


# ------------------------------------------------------------------ one test per node type

#: node type → (the checks a node of that type adds, the engine to take away, a check it stops)
PER_NODE: dict[str, tuple[set[str], dict[str, Any], str]] = {
    "identity": ({"id_card", "identity_match", "portrait"}, {"ocr": None}, "id_card"),
    "risk_disclosure": (set(), {"asr": None}, "transcript"),
    "qa": ({"answers"}, {"asr": None}, "answers"),
    "willingness": ({"answers"}, {"asr": None}, "answers"),
    "document_display": (set(), {"faces": None}, "face_presence"),
    "signing": (set(), {"faces": None}, "people_count"),
    "end": (set(), {"asr": None}, "sensitive_words"),
}


def test_every_node_type_is_in_the_table() -> None:
    assert set(NODE_CHECKS) == set(NODE_TYPES) == set(PER_NODE)


@pytest.mark.parametrize("node_type", sorted(PER_NODE))
def test_what_each_node_type_requires(node_type: str) -> None:
    adds, gone, stopped = PER_NODE[node_type]
    plain = flow({"id": "n", "type": node_type})
    assert set(required_checks(plain, sensitive_words=("保本",))) == BASE | adds
    said = flow({"id": "n", "type": node_type, "required_statements": ["本产品不保本"]})
    assert set(required_checks(said, sensitive_words=("保本",))) == BASE | adds | {"script_coverage"}
    off = flow({"id": "a", "type": "end"}, {"id": "n", "type": node_type, "enabled": False})
    assert set(required_checks(off, sensitive_words=("保本",))) == BASE  # a switched-off node asks nothing
    # and the verdict: the engine of a check it requires taken away → REVIEW naming that check
    report = qc(plain, engines(**gone))
    assert report.verdict.verdict is Verdict.REVIEW
    assert status(report, stopped).status is CheckStatus.NOT_RUN
    assert "required" in reason_of(report, stopped)


def test_checks_a_flow_does_not_need_are_waived_and_a_photo_requires_the_comparison() -> None:
    f = flow({"id": "e", "type": "end"})
    assert set(required_checks(f, sensitive_words=())) == BASE - {"sensitive_words"}
    assert "identity_match" in required_checks(f, id_photo=True)
    assert required_checks(None, sensitive_words=("保本",), id_photo=True) == {}
    # no required statement in the flow: script coverage has nothing to check and does not decide
    report = qc(f, engines(), photo=False)
    assert status(report, "script_coverage").status is CheckStatus.NOT_RUN
    assert report.verdict.verdict is Verdict.PASS, report.verdict.reasons


def test_decide_verdict_required_any_severity_and_waived_critical() -> None:
    minor = CheckResult("portrait", CheckStatus.NOT_RUN, reason="no face engine")
    crit = CheckResult("script_coverage", CheckStatus.NOT_RUN, reason="nothing to read")
    sev = {"portrait": Severity.MINOR, "script_coverage": Severity.CRITICAL}
    assert decide_verdict([minor], check_severity=sev).verdict is Verdict.PASS
    v = decide_verdict([minor], check_severity=sev, required={"portrait": "identity node"})
    assert v.verdict is Verdict.REVIEW
    assert "identity node" in v.reasons[0] and "no face engine" in v.reasons[0]
    assert decide_verdict([crit], check_severity=sev).verdict is Verdict.REVIEW
    assert decide_verdict([crit], check_severity=sev, waived={"script_coverage"}).verdict is Verdict.PASS


# ------------------------------------------------------------------ engine errors are not file findings


class BrokenDecoder:
    """Frames for 8 s, then a bug that is not the file's (no MediaError) — or the file's own."""

    def __init__(self, error: Exception) -> None:
        self.inner, self.error = SCENE.frame_source(), error

    def scan(self, path: Path, *, on_frame: Any, **kw: Any) -> DecodeReport:
        def put(frame: VideoFrame) -> None:
            if frame.t >= 8.0:
                raise self.error
            on_frame(frame)

        return self.inner.scan(path, on_frame=put, **kw)

    def frames_at(self, path: Path, times: Any, **kw: Any) -> list[VideoFrame]:
        return self.inner.frames_at(path, times, **kw)


def test_a_video_analysis_bug_is_an_error_not_a_damaged_file() -> None:
    report = qc(None, engines(frames=BrokenDecoder(RuntimeError("analyser bug"))))
    integrity = status(report, "file_integrity")
    assert integrity.status is CheckStatus.ERROR and not integrity.findings  # was FAIL "解码失败"
    assert "analyser bug" in (integrity.reason or "")
    black = status(report, "black_screen")  # checked the first 8 s only: not a pass
    assert black.status is CheckStatus.ERROR and "only part" in (black.reason or "")
    assert status(report, "face_presence").status is CheckStatus.ERROR
    assert report.verdict.verdict is Verdict.REVIEW
    assert not any("解码失败" in r for r in report.verdict.reasons)


def test_a_face_embedding_crash_is_never_a_damaged_file() -> None:
    """Wherever the face engine's exception surfaces (the visual pass, or the analyser's own
    guard), it is an engine error: REVIEW naming it, never "视频流 解码失败"."""

    class EmbedBreaks(FakeFaceAnalyzer):
        def embed(self, image: Image, face: Any) -> Any:
            raise RuntimeError("dlib descriptor exploded")

    report = qc(None, engines(faces=EmbedBreaks()))
    assert report.verdict.verdict is Verdict.REVIEW
    assert status(report, "file_integrity").status is not CheckStatus.FAILED
    assert not any("解码失败" in r or "decode failed" in r for r in report.verdict.reasons)
    face = status(report, "face_presence")
    assert face.status is CheckStatus.ERROR and "dlib descriptor exploded" in (face.reason or "")


def test_a_damaged_video_stream_is_still_the_files_finding() -> None:
    report = qc(None, engines(frames=BrokenDecoder(MediaError("corrupt packet at 8.0s"))))
    integrity = status(report, "file_integrity")
    assert integrity.status is CheckStatus.FAILED and "corrupt packet" in integrity.findings[0].message
    assert report.verdict.verdict is Verdict.FAIL


def test_a_probe_bug_is_review_and_an_unopenable_file_is_fail() -> None:
    class BuggyProbe:
        def probe(self, path: Path) -> Any:
            raise KeyError("codec_tag")

    report = qc(None, engines(probe=BuggyProbe()))
    assert status(report, "file_integrity").status is CheckStatus.ERROR
    assert report.verdict.verdict is Verdict.REVIEW
    assert qc(None, engines(probe=FakeProbe(error="Invalid data"))).verdict.verdict is Verdict.FAIL


def test_an_audio_analysis_bug_is_an_error_and_the_audio_stream_still_checked() -> None:
    class BrokenVad(FakeVoiceActivityDetector):
        def speech_segments(self, audio: Samples, *, sample_rate: int = 16000) -> list[tuple[float, float]]:
            raise RuntimeError("vad bug")

    report = qc(None, engines(vad=BrokenVad()))
    assert status(report, "file_integrity").status is CheckStatus.PASSED  # decoded to its end
    for check_id in ("silence", "transcript"):
        res = status(report, check_id)
        assert res.status is CheckStatus.ERROR and "vad bug" in (res.reason or ""), res
    assert report.verdict.verdict is Verdict.REVIEW


def test_a_face_engine_raising_on_the_id_photo_is_an_error() -> None:
    class PhotoBreaks(FakeFaceAnalyzer):
        def detect(self, image: Image) -> Any:
            if image.shape[:2] == (300, 240):  # the ID photo
                raise RuntimeError("dlib exploded on the photo")
            return super().detect(image)

    report = qc(IDENTITY, engines(faces=PhotoBreaks()))
    res = status(report, "identity_match")
    assert res.status is CheckStatus.ERROR and "dlib exploded" in (res.reason or "")
    assert report.verdict.verdict is Verdict.REVIEW


# ------------------------------------------------------------------ logs


def test_a_damaged_file_is_one_log_line_and_a_broken_engine_keeps_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    qc(None, engines(probe=FakeProbe(error="cannot open media file (empty file)")))
    lines = [r for r in caplog.records if "empty file" in r.getMessage()]
    assert lines and all(r.exc_info is None for r in caplog.records if r.levelno >= logging.INFO)
    caplog.clear()
    qc(IDENTITY, engines(ocr=RaisingOcr(CARD)))
    broken = [r for r in caplog.records if r.exc_info is not None]
    assert broken and broken[0].levelno == logging.WARNING and "ocr" in broken[0].getMessage()
