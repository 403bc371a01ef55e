"""Server-side speech for browsers without a Mandarin voice: real espeak-ng audio, cached."""

from __future__ import annotations

import hashlib
import io
import os
import threading
import time
import wave
from pathlib import Path
from typing import Literal

import numpy as np
import pytest

from dualrec.errors import InvalidInputError
from dualrec.media.fakes import FakeSpeechSynthesizer
from dualrec.media.models.espeak_tts import EspeakSynthesizer
from dualrec.services.sessions.speech import SpeechAudioCache, cache_key

TEXT = "您好，请确认您已阅读并理解本产品的风险揭示书。"


class Counting:
    """Wraps a synthesiser and counts the calls that reach it."""

    def __init__(self, inner: EspeakSynthesizer | FakeSpeechSynthesizer, delay: float = 0.0) -> None:
        self.inner, self.delay, self.calls = inner, delay, 0

    def synthesize(self, text: str, *, voice: Literal["female", "male"] = "female", rate: int = 170) -> bytes:
        self.calls += 1
        time.sleep(self.delay)
        return self.inner.synthesize(text, voice=voice, rate=rate)


def _pcm(wav_bytes: bytes) -> tuple[np.ndarray, int]:
    with wave.open(io.BytesIO(wav_bytes)) as wav:
        assert wav.getnchannels() == 1 and wav.getsampwidth() == 2
        rate = wav.getframerate()
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16).astype(np.float32), rate


def _duration(wav_bytes: bytes) -> float:
    pcm, rate = _pcm(wav_bytes)
    return len(pcm) / rate


def _median_pitch(wav_bytes: bytes) -> float:
    """Median fundamental frequency (Hz) of the voiced 40 ms frames, by autocorrelation."""
    pcm, rate = _pcm(wav_bytes)
    frame, pitches = int(0.04 * rate), []
    lo, hi = int(rate / 400), int(rate / 60)
    for start in range(0, len(pcm) - frame, frame):
        seg = pcm[start : start + frame] - pcm[start : start + frame].mean()
        if np.sqrt((seg**2).mean()) < 500:
            continue
        ac = np.correlate(seg, seg, "full")[frame - 1 :]
        lag = lo + int(np.argmax(ac[lo:hi]))
        if ac[lag] > 0.3 * ac[0]:
            pitches.append(rate / lag)
    assert len(pitches) > 20
    return float(np.median(pitches))


@pytest.fixture(scope="module")
def espeak() -> EspeakSynthesizer:
    return EspeakSynthesizer()


def test_audio_is_a_wav_with_its_hash_and_is_cached_on_disk(
    espeak: EspeakSynthesizer, tmp_path: Path
) -> None:
    synth = Counting(espeak)
    cache = SpeechAudioCache(synth, tmp_path / "tts")
    wav, digest = cache.audio_for(TEXT, "female", 170)
    assert digest == hashlib.sha256(wav).hexdigest()
    assert 3.0 < _duration(wav) < 15.0
    assert cache.audio_for(f"  {TEXT} ", "female", 170) == (wav, digest)  # same text, from memory
    assert synth.calls == 1
    files = list((tmp_path / "tts").glob("*/*.wav"))
    assert [f.stem for f in files] == [cache_key(TEXT, "female", 170)]
    # a new process (a new cache object on the same directory) reads it back without synthesising
    again = Counting(espeak)
    assert SpeechAudioCache(again, tmp_path / "tts").audio_for(TEXT, "female", 170) == (wav, digest)
    assert again.calls == 0


def test_male_and_female_voices_differ(espeak: EspeakSynthesizer) -> None:
    cache = SpeechAudioCache(espeak)
    female, _ = cache.audio_for(TEXT, "female", 170)
    male, _ = cache.audio_for(TEXT, "male", 170)
    assert female != male
    f_pitch, m_pitch = _median_pitch(female), _median_pitch(male)
    assert f_pitch > 1.4 * m_pitch, (f_pitch, m_pitch)  # measured: ~147 Hz vs ~78 Hz


def test_longer_text_takes_longer_and_a_faster_rate_is_shorter(espeak: EspeakSynthesizer) -> None:
    cache = SpeechAudioCache(espeak)
    short = _duration(cache.audio_for("您好。", "female", 170)[0])
    long = _duration(cache.audio_for(TEXT, "female", 170)[0])
    assert long > 3 * short
    slow = _duration(cache.audio_for(TEXT, "female", 120)[0])
    fast = _duration(cache.audio_for(TEXT, "female", 300)[0])
    assert fast < 0.6 * slow and fast < long < slow  # measured: 4.8 s at 300, 8.0 at 170, 11.4 at 120


def test_keys_separate_text_voice_and_rate() -> None:
    keys = {
        cache_key(TEXT, "female", 170),
        cache_key(TEXT, "male", 170),
        cache_key(TEXT, "female", 171),
        cache_key(TEXT + "。", "female", 170),
    }
    assert len(keys) == 4
    assert cache_key(f" {TEXT}\n", "female", 170) == cache_key(TEXT, "female", 170)


def test_concurrent_requests_for_one_text_synthesise_it_once(tmp_path: Path) -> None:
    synth = Counting(FakeSpeechSynthesizer(), delay=0.3)
    cache = SpeechAudioCache(synth, tmp_path)
    results: list[tuple[bytes, str]] = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.audio_for("请签名", "female", 170)))
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert synth.calls == 1 and len(results) == 4 and len(set(results)) == 1


def test_the_directory_keeps_within_its_size_by_dropping_the_oldest(tmp_path: Path) -> None:
    one = len(FakeSpeechSynthesizer().synthesize("一二三"))
    cache = SpeechAudioCache(FakeSpeechSynthesizer(), tmp_path, max_bytes=2 * one, memory_entries=0)
    for i, text in enumerate(("一二三", "四五六", "七八九")):
        cache.audio_for(text, "female", 170)
        path = tmp_path / cache_key(text, "female", 170)[:2] / f"{cache_key(text, 'female', 170)}.wav"
        stamp = 1_700_000_000 + i  # distinct ages, oldest first
        os.utime(path, (stamp, stamp))
    kept = {p.stem for p in tmp_path.glob("*/*.wav")}
    assert cache_key("一二三", "female", 170) not in kept
    assert len(kept) == 2


@pytest.mark.parametrize(
    ("text", "voice", "message"),
    [
        ("   ", "female", "合成文本为空"),
        ("好" * 2001, "female", "合成文本过长"),
        ("好", "child", "voice 须为"),
    ],
)
def test_bad_requests(text: str, voice: str, message: str) -> None:
    cache = SpeechAudioCache(FakeSpeechSynthesizer())
    with pytest.raises(InvalidInputError, match=message):
        cache.audio_for(text, voice, 170)  # type: ignore[arg-type]


def test_a_rate_espeak_cannot_use_is_refused(espeak: EspeakSynthesizer) -> None:
    with pytest.raises(InvalidInputError, match="语速超出范围"):
        SpeechAudioCache(espeak).audio_for(TEXT, "female", 1000)
