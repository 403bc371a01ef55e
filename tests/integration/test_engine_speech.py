"""Real speech engines on real recorded Mandarin: faster-whisper ASR, WebRTC VAD, espeak-ng TTS; and
on real speech that is not Mandarin and real music (tests/data/other), which must not come out as a
Mandarin transcript."""

from __future__ import annotations

import io
import os
import time
import unicodedata
import wave
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from dualrec.checks.textmatch import syllables
from dualrec.errors import EngineUnavailableError
from dualrec.media.decode import PyAVAudioSource
from dualrec.media.models.espeak_tts import EspeakSynthesizer
from dualrec.media.models.webrtc_vad import WebRtcVoiceActivityDetector
from dualrec.media.models.whisper_asr import (
    BUNDLED_SHA256,
    WhisperOptions,
    WhisperSpeechRecognizer,
    ensure_bundled_model,
)
from dualrec.media.ports import Samples
from tests.conftest import TEST_DATA

DATA = TEST_DATA
ASR_EXAMPLE_TEXT = "欢迎大家来体验达摩院推出的语音识别模型"
# References for the accuracy test, and how each was made: tests/data/README.md. ＊ stands for one
# syllable that is not known (an unverified place name) and matches any.
REFERENCES = {
    "asr_example.wav": ASR_EXAMPLE_TEXT,
    "question.wav": "我想问我在＊＊新区有房",
    "news_mid.wav": "大学生利用漏洞免费吃肯德基获刑",
    "news_long.wav": "富士康在印度工厂出现大规模感染目前工厂产量已下降超50",
}
WILDCARD = "＊"


def _speech(name: str, folder: str = "speech") -> Path:
    path = DATA / folder / name
    if not path.is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"test media missing in CI: {path}")
        pytest.fail(f"test media missing from the repository: {path} (see tests/data/README.md)")
    return path


def _audio(name: str, sample_rate: int = 16000, folder: str = "speech") -> Samples:
    """The whole clip (short files only: the port streams blocks)."""
    blocks = PyAVAudioSource().stream(_speech(name, folder), sample_rate=sample_rate)
    return np.concatenate([np.zeros(0, dtype=np.float32), *blocks])


def _edits(ref: Sequence[str | None], hyp: Sequence[str]) -> int:
    """Levenshtein distance; a ``None`` in the reference matches anything."""
    prev = list(range(len(hyp) + 1))
    for i, rc in enumerate(ref, 1):
        cur = [i]
        for j, hc in enumerate(hyp, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (rc is not None and rc != hc)))
        prev = cur
    return prev[-1]


def _chars(text: str) -> list[str | None]:
    return [
        None if c == WILDCARD else c
        for c in text
        if c == WILDCARD or not unicodedata.category(c).startswith(("P", "Z"))
    ]


def _syllables(text: str) -> list[str | None]:
    """Toneless pinyin syllables as QC matches them (zh/z, n/l, -ng/-n folded: checks/textmatch.py)."""
    out: list[str | None] = []
    for c in text:
        out += [None] if c == WILDCARD else syllables(c)
    return out


def errors(reference: str, hypothesis: str, *, unit: str = "char") -> tuple[int, int]:
    """(edit distance, reference length) in characters or in syllables; punctuation and spaces ignored."""
    split = _chars if unit == "char" else _syllables
    ref, hyp = split(reference), [u for u in split(hypothesis) if u is not None]
    return _edits(ref, hyp), len(ref)


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate."""
    wrong, total = errors(reference, hypothesis)
    return wrong / max(1, total)


def test_error_helpers() -> None:
    assert cer("欢迎大家", "欢迎大家。") == 0.0
    assert cer("欢迎大家", "欢迎大") == 0.25
    assert cer("欢迎大家", "换迎大家来") == 0.5
    assert errors("达摩院", "大魔院") == (2, 3)  # two characters wrong...
    assert errors("达摩院", "大魔院", unit="syllable") == (0, 3)  # ...that sound the same
    assert errors("我在＊＊新区", "我在冰台新区", unit="syllable") == (0, 6)
    assert errors("我在＊＊新区", "我在新区", unit="syllable") == (2, 6)
    assert errors("我在＊＊新区", "我在冰台新区") == (0, 6)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models") / "whisper-base"


@pytest.fixture(scope="module")
def recognizer(model_dir: Path) -> WhisperSpeechRecognizer:
    started = time.perf_counter()
    asr = WhisperSpeechRecognizer(WhisperOptions(model_dir=model_dir, cpu_threads=2))
    asr.load()
    print(f"\n[measure] whisper assemble+verify+load: {time.perf_counter() - started:.2f} s")
    return asr


def test_bundled_model_assembled_with_verified_hashes(
    recognizer: WhisperSpeechRecognizer, model_dir: Path
) -> None:
    assert sorted(p.name for p in model_dir.iterdir()) == sorted(BUNDLED_SHA256)
    assert ensure_bundled_model(model_dir) == model_dir  # second use: verifies, does not rebuild


def test_tampered_model_file_is_refused(
    model_dir: Path, tmp_path: Path, recognizer: WhisperSpeechRecognizer
) -> None:
    bad = tmp_path / "whisper-base"
    bad.mkdir()
    (bad / "model.bin").symlink_to(model_dir / "model.bin")
    (bad / "config.json").write_text((model_dir / "config.json").read_text() + " ")
    with pytest.raises(EngineUnavailableError) as info:
        ensure_bundled_model(bad)
    assert BUNDLED_SHA256["config.json"] in info.value.message
    assert info.value.details["file"] == "config.json"


def test_transcribes_recorded_mandarin(recognizer: WhisperSpeechRecognizer) -> None:
    """Accuracy over the four real clips added up, with a margin, in the unit QC matches on.

    One 19-character clip used to decide this test: 达摩院 written 大魔院 (seen on two machines)
    made its character error rate 0.105 > 0.10. QC matches scripts and answers on pinyin syllables,
    where 大魔院 is 达摩院; so the test counts syllable errors over the four clips (72 syllables;
    measured: none wrong), at most 10 % — eight wrong syllables, or a clip half lost, fail it.
    Characters are held to a looser 20 % (measured: 5 of 72 wrong, all homophones: 大魔, 或行, 以)
    so that traditional or garbled characters with the right sounds still fail it."""
    syl = [0, 0]  # wrong, total
    chars = [0, 0]
    for name, reference in REFERENCES.items():
        audio = _audio(name)
        started = time.perf_counter()
        segments = recognizer.transcribe(audio, sample_rate=16000, language="zh")
        elapsed = time.perf_counter() - started
        text = "".join(s.text for s in segments)
        ws, ts = errors(reference, text, unit="syllable")
        wc, tc = errors(reference, text)
        print(f"\n[measure] ASR {name}: {elapsed:.2f} s, {wc}/{tc} characters, {ws}/{ts} syllables wrong")
        print(f"[measure]   {text!r}")
        syl = [syl[0] + ws, syl[1] + ts]
        chars = [chars[0] + wc, chars[1] + tc]
        duration = len(audio) / 16000
        for seg in segments:
            assert 0.0 <= seg.start < seg.end <= duration + 0.05
            assert seg.confidence is not None and 0.0 < seg.confidence <= 1.0  # exp(avg_logprob)
            assert seg.language == "zh" and (seg.language_probability or 0) >= 0.5, seg
            assert seg.words, "word timestamps requested"
            assert all(w.probability is not None and 0.0 < w.probability <= 1.0 for w in seg.words)
            starts = [w.start for w in seg.words]
            assert starts == sorted(starts)
            assert all(seg.start - 0.05 <= w.start <= w.end <= seg.end + 0.05 for w in seg.words)
    print(f"[measure] ASR all clips: {chars[0]}/{chars[1]} characters, {syl[0]}/{syl[1]} syllables wrong")
    assert syl[0] / syl[1] <= 0.10
    assert chars[0] / chars[1] <= 0.20


def test_output_is_simplified_chinese(recognizer: WhisperSpeechRecognizer) -> None:
    # Without the simplified prompt Whisper base writes this clip in traditional characters.
    text = "".join(s.text for s in recognizer.transcribe(_audio("news_long.wav")))
    assert "印度" in text
    traditional = set("廠規產現場來們這個學費獲時說東車門開關聽讀寫")
    assert not traditional & set(text), text


def test_resamples_other_rates(recognizer: WhisperSpeechRecognizer) -> None:
    audio = _audio("asr_example.wav", sample_rate=8000)
    text = "".join(s.text for s in recognizer.transcribe(audio, sample_rate=8000))
    wrong, total = errors(ASR_EXAMPLE_TEXT, text, unit="syllable")
    assert wrong / total <= 0.2, text  # telephone quality: up to 3 of 19 syllables


def test_silence_gives_no_transcript(recognizer: WhisperSpeechRecognizer) -> None:
    assert recognizer.transcribe(np.zeros(16000 * 3, dtype=np.float32)) == []


def test_english_speech_is_heard_as_english_not_as_mandarin(recognizer: WhisperSpeechRecognizer) -> None:
    segments = recognizer.transcribe(_audio("english_speech.wav", folder="other"), language="zh")
    print(f"\n[measure] English speech: {[(s.text, s.language, s.language_probability) for s in segments]}")
    assert segments, "the English words are returned, tagged, for QC to quote"
    assert all(s.language == "en" and (s.language_probability or 0) < 0.05 for s in segments), segments
    assert not [s for s in segments if s.in_language("zh")]


def test_music_gives_no_mandarin(recognizer: WhisperSpeechRecognizer) -> None:
    # forced to Mandarin, Whisper base writes 你不认识我。×3 for this music, and its no-speech and
    # repetition measures let it through: only the language says it is not Mandarin
    segments = recognizer.transcribe(_audio("music.wav", folder="other"), language="zh")
    print(f"\n[measure] music: {[(s.text, s.language, s.language_probability) for s in segments]}")
    assert not [s for s in segments if s.in_language("zh")], segments


# --------------------------------------------------------------------------- VAD


def test_vad_finds_the_speech_and_not_the_silence() -> None:
    vad = WebRtcVoiceActivityDetector()
    speech = _audio("asr_example.wav")
    regions = vad.speech_segments(speech, sample_rate=16000)
    assert regions, "no speech found in a speech recording"
    # the speaker talks from ~0.6 s to ~5.0 s: one region covers it, bridged across word pauses
    assert any(s <= 1.0 and e >= 4.9 for s, e in regions), regions
    assert sum(e - s for s, e in regions) <= len(speech) / 16000
    assert vad.speech_segments(np.zeros(16000 * 5, dtype=np.float32)) == []
    noise = np.random.default_rng(1).normal(0, 0.002, 16000 * 5).astype(np.float32)
    assert vad.speech_segments(noise) == []


def test_vad_bridges_short_pauses_and_splits_long_ones() -> None:
    vad = WebRtcVoiceActivityDetector()
    words = _audio("asr_example.wav")[16000:72000]  # 1.0-4.5 s: cut inside continuous speech
    short = np.concatenate([words, np.zeros(3200, np.float32), words])  # 0.2 s pause
    long = np.concatenate([words, np.zeros(48000, np.float32), words])  # 3 s pause
    assert len(vad.speech_segments(short)) == 1
    split = vad.speech_segments(long)
    assert len(split) == 2
    assert 3.0 < split[0][1] < 3.5 + 0.3 and 6.5 - 0.3 < split[1][0] < 7.0


def test_vad_accepts_other_rates() -> None:
    vad = WebRtcVoiceActivityDetector()
    audio = _audio("asr_example.wav", sample_rate=22050)
    assert vad.speech_segments(audio, sample_rate=22050)


# --------------------------------------------------------------------------- TTS


@pytest.mark.parametrize("voice", ["female", "male"])
def test_espeak_returns_a_complete_wav(voice: str) -> None:
    tts = EspeakSynthesizer()
    text = "您好，欢迎办理业务，请确认您已阅读风险提示。"
    data = tts.synthesize(text, voice="female" if voice == "female" else "male", rate=170)
    with wave.open(io.BytesIO(data)) as wav:
        frames, rate = wav.getnframes(), wav.getframerate()
        assert wav.getnchannels() == 1 and wav.getsampwidth() == 2
        pcm = np.frombuffer(wav.readframes(frames), dtype=np.int16)
    assert len(data) == 44 + frames * 2  # header sizes match the real payload
    duration = frames / rate
    assert 1.5 <= duration <= 15.0, duration
    assert np.abs(pcm).max() > 1000  # not silence
    faster = tts.synthesize(text, voice="female", rate=300)
    with wave.open(io.BytesIO(faster)) as wav:
        assert wav.getnframes() / wav.getframerate() < duration


def test_espeak_missing_binary_is_reported() -> None:
    from dualrec.media.models.espeak_tts import EspeakOptions

    with pytest.raises(EngineUnavailableError, match="espeak-ng-not-here"):
        EspeakSynthesizer(EspeakOptions(binary="espeak-ng-not-here"))
