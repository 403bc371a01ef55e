"""What QC does with a transcript it cannot take at face value: traditional characters (converted to
simplified before matching, display and reports, in QC and in the live session), speech the
recogniser heard in another language, sound with no Mandarin in it, and scores: a finding's
confidence is the engine's own, or none at all."""

from __future__ import annotations

import io
import json
import wave
from pathlib import Path
from typing import Any

import numpy as np

from dualrec.bootstrap.sessions import wav_transcriber
from dualrec.core.flow import parse_flow
from dualrec.core.qc import CheckResult, CheckStatus, Verdict
from dualrec.media.fakes import (
    FakeAudioSource,
    FakeFaceAnalyzer,
    FakeProbe,
    FakeScene,
    FakeSpeechRecognizer,
    FakeTextRecognizer,
    FakeVoiceActivityDetector,
)
from dualrec.media.ports import TranscriptSegment as Seg
from dualrec.media.ports import Word
from dualrec.pipeline.qc import QcReport, run_qc
from dualrec.pipeline.report import native_report, patent_report
from dualrec.pipeline.request import QcEngines, QcRequest

FLOW = parse_flow(
    {
        "id": "demo",
        "nodes": [
            {
                "id": "risk",
                "type": "risk_disclosure",
                "title": "风险揭示",
                "required_statements": ["本产品不保本，投资有风险"],
            },
            {"id": "addr", "type": "qa", "title": "住址", "script": "请问您住在哪里"},
        ],
    }
)


def run(segments: list[Seg], *, duration: float = 20.0, **request: Any) -> QcReport:
    scene = FakeScene(duration=duration)
    engines = QcEngines(
        probe=FakeProbe(scene.media_info()),
        frames=scene.frame_source(),
        audio=FakeAudioSource(scene.samples()),
        asr=FakeSpeechRecognizer(segments, track=scene.samples()),
        vad=FakeVoiceActivityDetector(),
        faces=FakeFaceAnalyzer(),
        ocr=FakeTextRecognizer(),
    )
    request.setdefault("flow", FLOW)
    return run_qc(QcRequest(Path("scene.mp4"), **request), engines)


def by_id(report: QcReport) -> dict[str, CheckResult]:
    return {r.check_id: r for r in report.results}


# --------------------------------------------------------------------------- simplified only


def test_traditional_characters_become_simplified_before_matching_display_and_reports() -> None:
    said = [
        Seg(1.0, 5.0, "本產品不保本，投資有風險。", words=(Word(1.0, 5.0, "本產品不保本，投資有風險"),)),
        Seg(6.0, 9.0, "請問您住在哪裡？"),
        Seg(10.0, 12.0, "我住在廣州市。"),
    ]
    report = run(said)
    text = "".join(s.text for s in report.context.transcript or ())
    assert "我住在广州市" in text and "本产品不保本" in text and "请问您住在哪里" in text
    assert not set("廣產風險請裡") & set(text)
    # the words (what the checks match on) are converted too
    words = [w.text for s in report.context.transcript or () for w in s.words]
    assert words == ["本产品不保本，投资有风险"]
    native = json.dumps(native_report(report), ensure_ascii=False)
    patent = patent_report(report)
    assert "广州市" in native and "廣州市" not in native
    assert "我住在广州市" in patent["audio_recg"]
    coverage = by_id(report)["script_coverage"]
    assert coverage.status is CheckStatus.PASSED, coverage.findings


def _wav(seconds: float) -> bytes:
    pcm = (0.1 * np.sin(2 * np.pi * 220 * np.arange(int(16000 * seconds)) / 16000) * 32767).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(pcm.tobytes())
    return out.getvalue()


def test_the_live_sessions_spoken_answers_are_simplified_and_only_in_mandarin() -> None:
    def live(segments: list[Seg]) -> str:
        scene = FakeScene(duration=3.0)
        engines = QcEngines(
            FakeProbe(scene.media_info()),
            scene.frame_source(),
            FakeAudioSource(scene.samples()),
            asr=FakeSpeechRecognizer(segments),
        )
        return wav_transcriber(lambda: engines)(_wav(3.0))

    assert live([Seg(0.2, 1.5, "我住在廣州市。")]) == "我住在广州市。"
    # an answer heard in English is no Mandarin answer (the page asks again)
    assert live([Seg(0.2, 2.5, "是的", language="en", language_probability=0.001)]) == ""
    assert live([Seg(0.2, 2.5, "是的", language="zh", language_probability=0.93)]) == "是的"


# --------------------------------------------------------------------------- not Mandarin


def test_speech_in_another_language_is_not_a_transcript_and_says_why() -> None:
    # what Whisper forced to Mandarin writes for English speech: a translation, which would cover
    # the statement if it were believed
    english = [
        Seg(1.0, 5.0, "本产品不保本，投资有风险。", 0.8, language="en", language_probability=0.001),
        Seg(6.0, 9.0, "请问您住在哪里？", 0.8, language="en", language_probability=0.002),
    ]
    report = run(english)
    res = by_id(report)
    assert report.context.transcript == ()
    transcript = res["transcript"]
    assert transcript.status is CheckStatus.FAILED
    [f] = transcript.findings  # the two segments, 1 s apart: one stretch
    assert "语音不是普通话" in f.message and "英语" in f.message
    assert (f.start, f.end) == (1.0, 9.0) and f.evidence.quote and "本产品不保本" in f.evidence.quote
    assert f.confidence == 0.998  # 1 − the engine's probability of Mandarin
    assert transcript.metrics["other_language_seconds"] == 7.0
    assert res["script_coverage"].status is CheckStatus.FAILED  # the translation is not counted
    assert report.verdict.verdict is not Verdict.PASS


def test_mandarin_with_a_stretch_in_another_language_keeps_the_mandarin() -> None:
    said = [
        Seg(1.0, 5.0, "本产品不保本，投资有风险。", 0.8, language="zh", language_probability=0.99),
        Seg(12.0, 16.0, "我不明白。", 0.7, language="en", language_probability=0.01),
    ]
    res = by_id(run(said))
    assert res["script_coverage"].status is CheckStatus.PASSED
    [f] = res["transcript"].findings
    assert "语音不是普通话" in f.message and f.start == 12.0
    assert res["transcript"].metrics["characters"] == len("本产品不保本，投资有风险。")


def test_sound_without_any_mandarin_is_not_a_clean_transcript() -> None:
    # music or noise: the voice detector hears sound all along, the recogniser nothing it believes
    report = run([], flow=None)
    transcript = by_id(report)["transcript"]
    assert transcript.status is CheckStatus.FAILED
    assert "没有识别出普通话" in transcript.findings[0].message
    assert report.verdict.verdict is not Verdict.PASS
    # a silent recording has nothing to transcribe: no such finding
    quiet = run([], flow=None, duration=6.0)
    assert quiet.context.speech  # the fake scene's tone...
    silent_scene = FakeScene(duration=6.0, silence=[(0.0, 6.0)])
    engines = QcEngines(
        probe=FakeProbe(silent_scene.media_info()),
        frames=silent_scene.frame_source(),
        audio=FakeAudioSource(silent_scene.samples()),
        asr=FakeSpeechRecognizer([], track=silent_scene.samples()),
        vad=FakeVoiceActivityDetector(),
        faces=FakeFaceAnalyzer(),
    )
    silent = by_id(run_qc(QcRequest(Path("s.mp4")), engines))["transcript"]
    assert silent.status is CheckStatus.PASSED and silent.metrics["speech_seconds"] == 0


# --------------------------------------------------------------------------- confidences


def test_confidences_are_the_engines_own_or_absent() -> None:
    scored = [
        Seg(1.0, 5.0, "本产品不保本，投资有风险。", 0.42),
        Seg(10.0, 13.0, "这个产品绝对无风险。", 0.9, words=(Word(10.0, 13.0, "这个产品绝对无风险", 0.42),)),
    ]
    report = run(scored, sensitive_words=("无风险",))
    res = by_id(report)
    assert res["transcript"].confidence == 0.626  # (0.42×4 s + 0.9×3 s) / 7 s, from the engine
    [hit] = res["sensitive_words"].findings
    assert hit.confidence == 0.42
    native = native_report(report)
    checks = {c["id"]: c for c in native["checks"]}
    assert checks["sensitive_words"]["findings"][0]["confidence"] == 0.42
    assert [s["confidence"] for s in native["transcript"]] == [0.42, 0.9]
    patent = {i["check_items"]: i for i in patent_report(report)["check_list"]}
    assert patent["敏感词"]["conf"] == 0.42


def test_no_confidence_is_shown_where_no_engine_gave_one() -> None:
    unscored = [Seg(1.0, 5.0, "本产品不保本，投资有风险。"), Seg(10.0, 13.0, "这个产品绝对无风险。")]
    report = run(unscored, sensitive_words=("无风险",))
    res = by_id(report)
    assert res["transcript"].confidence is None and res["transcript"].metrics["mean_confidence"] is None
    assert res["transcript"].status is CheckStatus.PASSED  # no score is no low score
    assert res["sensitive_words"].findings[0].confidence is None
    assert res["black_screen"].confidence is None  # a measurement, not an engine's belief
    native = native_report(report)
    assert all(c["confidence"] is None for c in native["checks"] if c["id"] != "identity_match")
    assert all(s["confidence"] is None for s in native["transcript"])
    patent = {i["check_items"]: i for i in patent_report(report)["check_list"]}
    assert patent["敏感词"]["conf"] is None and patent["黑屏/遮挡"]["conf"] is None
    json.dumps(native), json.dumps(patent)  # null, not an error
