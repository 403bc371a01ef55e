"""Real speech engines on real recorded Mandarin: faster-whisper ASR, WebRTC VAD, espeak-ng TTS."""

from __future__ import annotations

import io
import os
import time
import unicodedata
import wave
from pathlib import Path

import numpy as np
import pytest

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


def _speech(name: str) -> Path:
    path = DATA / "speech" / name
    if not path.is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"test media missing in CI: {path}")
        pytest.fail(f"test media missing from the repository: {path} (see tests/data/README.md)")
    return path


def _audio(name: str, sample_rate: int = 16000) -> Samples:
    """The whole clip (short files only: the port streams blocks)."""
    blocks = PyAVAudioSource().stream(_speech(name), sample_rate=sample_rate)
    return np.concatenate([np.zeros(0, dtype=np.float32), *blocks])


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate: Levenshtein distance over characters, punctuation and spaces ignored."""

    def clean(s: str) -> str:
        return "".join(c for c in s if not unicodedata.category(c).startswith(("P", "Z")))

    ref, hyp = clean(reference), clean(hypothesis)
    prev = list(range(len(hyp) + 1))
    for i, rc in enumerate(ref, 1):
        cur = [i]
        for j, hc in enumerate(hyp, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (rc != hc)))
        prev = cur
    return prev[-1] / max(1, len(ref))


def test_cer_helper() -> None:
    assert cer("欢迎大家", "欢迎大家。") == 0.0
    assert cer("欢迎大家", "欢迎大") == 0.25
    assert cer("欢迎大家", "换迎大家来") == 0.5


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
    audio = _audio("asr_example.wav")
    started = time.perf_counter()
    segments = recognizer.transcribe(audio, sample_rate=16000, language="zh")
    elapsed = time.perf_counter() - started
    text = "".join(s.text for s in segments)
    error_rate = cer(ASR_EXAMPLE_TEXT, text)
    print(f"\n[measure] ASR asr_example.wav: {elapsed:.2f} s, CER {error_rate:.3f}, text {text!r}")
    assert error_rate <= 0.10, text
    duration = len(audio) / 16000
    for seg in segments:
        assert 0.0 <= seg.start < seg.end <= duration + 0.05
        assert 0.0 < seg.confidence <= 1.0
        assert seg.words, "word timestamps requested"
        starts = [w.start for w in seg.words]
        assert starts == sorted(starts)
        assert all(seg.start - 0.05 <= w.start <= w.end <= seg.end + 0.05 for w in seg.words)


def test_output_is_simplified_chinese(recognizer: WhisperSpeechRecognizer) -> None:
    # Without the simplified prompt Whisper base writes this clip in traditional characters.
    text = "".join(s.text for s in recognizer.transcribe(_audio("news_long.wav")))
    assert "印度" in text
    traditional = set("廠規產現場來們這個學費獲時說東車門開關聽讀寫")
    assert not traditional & set(text), text


def test_resamples_other_rates(recognizer: WhisperSpeechRecognizer) -> None:
    audio = _audio("asr_example.wav", sample_rate=8000)
    text = "".join(s.text for s in recognizer.transcribe(audio, sample_rate=8000))
    assert cer(ASR_EXAMPLE_TEXT, text) <= 0.25, text


def test_silence_gives_no_transcript(recognizer: WhisperSpeechRecognizer) -> None:
    assert recognizer.transcribe(np.zeros(16000 * 3, dtype=np.float32)) == []


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
