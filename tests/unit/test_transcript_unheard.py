"""Speech the transcript does not hold is never passed silently: voice between Mandarin sentences
that no segment covers is a finding with its times (REVIEW), and a segment written in Latin letters
while decoding Mandarin (English in a window too short for language detection) is another language.
The recorded times and texts are those of the real runs in tests/integration/test_qc_other_language.py."""

from __future__ import annotations

from dualrec.checks.base import CheckContext
from dualrec.checks.builtin import transcript
from dualrec.checks.catalog import default_thresholds
from dualrec.core.qc import CheckStatus, Severity, decide_verdict
from dualrec.media.ports import TranscriptSegment as Seg
from dualrec.pipeline.audio import _script_checked

TH = default_thresholds()
# Whisper base on asr_example.wav + 0.4 s + "Front Left" (1.45 s) + 0.4 s + question.wav: the
# English phrase (voice 5.91–7.26 s) leaves a hole in the transcript
SPEECH = ((0.84, 5.25), (5.91, 7.26), (8.79, 9.99), (11.37, 13.71))
SAID = (
    Seg(0.54, 5.1, "欢迎大家来体验达摩远推出的语音识别模型。", confidence=0.73),
    Seg(8.58, 13.42, "我想问,我在冰海星区有房。", confidence=0.52),
)


def ctx(
    speech: tuple[tuple[float, float], ...], said: tuple[Seg, ...], other: tuple[Seg, ...] = ()
) -> CheckContext:
    return CheckContext(path="x.mp4", speech=speech, transcript=said, other_language=other, thresholds=TH)


def test_a_short_phrase_missing_from_the_transcript_is_a_finding_with_its_times() -> None:
    r = transcript.run(ctx(SPEECH, SAID))
    assert r.status is CheckStatus.FAILED
    [f] = r.findings
    assert (f.start, f.end) == (5.91, 7.26) and f.severity is Severity.MINOR
    assert "逐字稿中没有" in f.message and "请试听" in f.message
    assert r.metrics["unheard_seconds"] == 1.35
    assert decide_verdict([r]).verdict.value == "REVIEW"


def test_voice_the_transcript_covers_and_short_noises_are_not_findings() -> None:
    clean = ((0.84, 5.25), (8.79, 9.99), (11.37, 13.71))
    r = transcript.run(ctx(clean, SAID))
    assert r.status is CheckStatus.PASSED and r.metrics["unheard_seconds"] == 0.0
    cough = ((0.84, 5.25), (6.2, 6.9), (8.79, 9.99))  # 0.7 s: below min_unheard_seconds (1 s)
    assert transcript.run(ctx(cough, SAID)).status is CheckStatus.PASSED
    # covered by an other-language segment: that finding, not a second one
    english = Seg(5.9, 7.3, "front, left", language="en", language_probability=0.001)
    r = transcript.run(ctx(SPEECH, SAID, (english,)))
    assert [("语音不是普通话" in f.message) for f in r.findings] == [True]


def test_nothing_heard_at_all_is_the_no_mandarin_finding_not_an_unheard_one() -> None:
    r = transcript.run(ctx(((0.0, 12.0),), ()))
    assert [("没有识别出普通话" in f.message) for f in r.findings] == [True]


def test_latin_letters_written_while_decoding_mandarin_are_another_language() -> None:
    # Whisper base on 1.5 s of "Front Center" alone (english_speech.wav 1.5–3.0 s), forced to zh:
    # the window is too short for its language to be detected (language None)
    english = _script_checked(Seg(0.0, 1.4, "front, center。"), "zh")
    assert not english.in_language("zh") and english.language == "latn"
    for text in ("我下载了APP", "好的OK", "欢迎大家来体验达摩院推出的语音识别模型"):
        assert _script_checked(Seg(0.0, 1.0, text), "zh").in_language("zh"), text
    r = transcript.run(ctx(((0.0, 1.4),), (), (english,)))
    assert "以拉丁字母写出的外语" in r.findings[0].message
