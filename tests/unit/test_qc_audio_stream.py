"""The audio pass read block by block gives exactly what the whole track at once gave (the
previous implementation, kept below as the reference), holds only a bounded part of the track,
and keeps the decode's evidence when the decode or the recogniser fails."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from dualrec.core.qc import CheckStatus
from dualrec.media.fakes import (
    FakeAudioSource,
    FakeProbe,
    FakeScene,
    FakeSpeechRecognizer,
    FakeVoiceActivityDetector,
)
from dualrec.media.ports import Samples, SpeechRecognizer, TranscriptSegment, VoiceActivityDetector, Word
from dualrec.pipeline import audio as audio_mod
from dualrec.pipeline.audio import AudioAnalysis, analyse_audio, speech_chunks
from dualrec.pipeline.qc import run_qc
from dualrec.pipeline.request import QcEngines, QcRequest

SR = 16000


# --------------------------------------------------------------------------- the reference
# The whole-track implementation this pass replaced (commit 25829f7), with VAD_CHUNK a parameter.


def _ref_levels_db(samples: Samples, sample_rate: int, window: float) -> tuple[float, ...]:
    n = max(1, int(sample_rate * window))
    out: list[float] = []
    for i in range(0, len(samples), n * 256):
        chunk = samples[i : i + n * 256].astype(np.float64)
        full = len(chunk) // n
        rms = list(np.sqrt(np.mean(np.square(chunk[: full * n].reshape(full, n)), axis=1))) if full else []
        if len(chunk) > full * n:
            rms.append(float(np.sqrt(np.mean(np.square(chunk[full * n :])))))
        out += [round(20 * float(np.log10(max(float(r), 1e-6))), 1) for r in rms]
    return tuple(out)


def _ref_chunked_vad(
    vad: VoiceActivityDetector, samples: Samples, sample_rate: int, vad_chunk: float
) -> tuple[tuple[float, float], ...]:
    step = int(vad_chunk * sample_rate)
    out: list[tuple[float, float]] = []
    for i in range(0, len(samples), step):
        offset = i / sample_rate
        for a, b in vad.speech_segments(samples[i : i + step], sample_rate=sample_rate):
            a, b = a + offset, b + offset
            if out and a - out[-1][1] < 0.3:
                out[-1] = (out[-1][0], max(b, out[-1][1]))
            else:
                out.append((a, b))
    return tuple(out)


def _ref_transcribe_chunks(
    asr: SpeechRecognizer,
    samples: Samples,
    sample_rate: int,
    speech: tuple[tuple[float, float], ...],
    chunk_seconds: float,
    language: str,
    pad: float = 0.3,
    parallel: int = 1,
) -> list[TranscriptSegment]:
    def one(chunk: tuple[float, float]) -> list[TranscriptSegment]:
        s0 = max(0, int((chunk[0] - pad) * sample_rate))
        s1 = min(len(samples), int((chunk[1] + pad) * sample_rate))
        offset = s0 / sample_rate
        out = []
        for seg in asr.transcribe(samples[s0:s1], sample_rate=sample_rate, language=language):
            words = tuple(replace(w, start=w.start + offset, end=w.end + offset) for w in seg.words)
            out.append(replace(seg, start=seg.start + offset, end=seg.end + offset, words=words))
        return out

    chunks = speech_chunks(speech, chunk_seconds)
    if parallel <= 1 or len(chunks) <= 1:
        return [seg for chunk in chunks for seg in one(chunk)]
    with ThreadPoolExecutor(min(parallel, len(chunks)), thread_name_prefix="dualrec-asr") as pool:
        return [seg for segs in pool.map(one, chunks) for seg in segs]


def reference(
    samples: Samples,
    *,
    vad: VoiceActivityDetector | None,
    asr: SpeechRecognizer | None,
    vad_chunk: float,
    chunk_seconds: float = 15.0,
    parallel: int = 1,
    window: float = 0.5,
) -> AudioAnalysis:
    levels = _ref_levels_db(samples, SR, window)
    if vad is not None:
        speech = _ref_chunked_vad(vad, samples, SR, vad_chunk)
    else:
        speech = tuple((i * window, (i + 1) * window) for i, lv in enumerate(levels) if lv > -35)
    if asr is None:
        return AudioAnalysis(levels, speech, None, "语音识别引擎不可用 / no ASR engine")
    if not speech:
        return AudioAnalysis(levels, speech, (), None)
    try:
        segs = _ref_transcribe_chunks(asr, samples, SR, speech, chunk_seconds, "zh", parallel=parallel)
    except Exception as exc:
        return AudioAnalysis(levels, speech, None, f"语音识别出错 / ASR failed: {exc}")
    return AudioAnalysis(levels, speech, tuple(s for s in segs if s.text.strip()), None)


# --------------------------------------------------------------------------- test audio

# speech (noise bursts, unique content) between silences. With VAD calls of 7.3 s: regions cut by
# a call boundary (7.3, 14.6, 21.9, ...), gaps just under and over 0.3 s at a boundary, a region
# longer than a 15 s chunk, and speech to the very end
BURSTS = [
    (0.1, 1.2),
    (2.0, 7.25),
    (7.4, 9.0),  # 0.15 s after the one before, across the 7.3 s boundary: merged
    (9.5, 14.45),
    (14.8, 16.0),  # 0.35 s gap across 14.6: two regions
    (18.0, 21.95),
    (22.2, 44.0),  # one region of 21.8 s: a chunk of its own
    (44.5, 45.0),
    (50.0, 50.2),
    # with 4 s chunks: after the VAD call ending at 58.4 the chunk from 54.35 to 58.25 looks
    # complete (speech known for more than 4 s past its start), but the next call extends its last
    # region to the end, which then no longer fits: the chunk is (54.35, 54.6)
    (54.35, 54.6),
    (55.1, 58.25),
    (58.4, 60.0),
]
DURATION = 60.0


def speechy(duration: float = DURATION, bursts: list[tuple[float, float]] = BURSTS) -> Samples:
    rng = np.random.default_rng(7)
    out = np.zeros(int(duration * SR), dtype=np.float32)
    for a, b in bursts:
        out[int(a * SR) : int(b * SR)] = rng.uniform(-0.3, 0.3, int(b * SR) - int(a * SR))
    return out


def transcript(bursts: list[tuple[float, float]] = BURSTS) -> list[TranscriptSegment]:
    return [
        TranscriptSegment(a, min(b, a + 1.0), f"第{i}句", 0.9, (Word(a, a + 0.2, f"w{i}"),))
        for i, (a, b) in enumerate(bursts)
    ] + [TranscriptSegment(30.0, 30.5, "   ")]  # blank text is dropped


def irregular(samples: Samples) -> Iterator[Samples]:
    """Blocks of changing length (0.01 s to 9 s), not multiples of anything."""
    sizes = [160, 7, 144_000, 1, 16_001, 33_333, 5_000]
    i, k = 0, 0
    while i < len(samples):
        yield samples[i : i + sizes[k % len(sizes)]]
        i += sizes[k % len(sizes)]
        k += 1


@pytest.fixture
def small_vad_calls(monkeypatch: pytest.MonkeyPatch) -> float:
    """VAD calls of 7.3 s and levels in groups of 9 windows, so a minute of audio crosses many of
    their boundaries (the production values are 300 s and 32 windows; the reference: 256)."""
    monkeypatch.setattr(audio_mod, "VAD_CHUNK", 7.3)
    monkeypatch.setattr(audio_mod, "LEVEL_GROUP", 9)
    return 7.3


# --------------------------------------------------------------------------- same results


@pytest.mark.parametrize("block_seconds", [0.37, 1.0, 7.3, 10.0, 1000.0])
@pytest.mark.parametrize(("chunk_seconds", "parallel"), [(15.0, 1), (15.0, 3), (4.0, 2), (0.0, 1)])
def test_streamed_equals_whole_track(
    small_vad_calls: float, block_seconds: float, chunk_seconds: float, parallel: int
) -> None:
    samples = speechy()
    want = reference(
        samples,
        vad=FakeVoiceActivityDetector(),
        asr=FakeSpeechRecognizer(transcript(), track=samples),
        vad_chunk=small_vad_calls,
        chunk_seconds=chunk_seconds,
        parallel=parallel,
    )
    asr = FakeSpeechRecognizer(transcript(), track=samples)
    got = analyse_audio(
        FakeAudioSource(samples).stream(Path("a.mp4"), block_seconds=block_seconds),
        SR,
        vad=FakeVoiceActivityDetector(),
        asr=asr,
        chunk_seconds=chunk_seconds,
        parallel=parallel,
    )
    assert got == want
    assert want.transcript is not None and len(want.transcript) == len(BURSTS)  # every burst heard
    assert asr.calls == len(speech_chunks(want.speech, chunk_seconds))


def test_irregular_blocks_and_no_vad_engine(small_vad_calls: float) -> None:
    samples = speechy()
    for vad in (FakeVoiceActivityDetector(), None):
        want = reference(
            samples, vad=vad, asr=FakeSpeechRecognizer(transcript(), track=samples), vad_chunk=7.3
        )
        got = analyse_audio(
            irregular(samples), SR, vad=vad, asr=FakeSpeechRecognizer(transcript(), track=samples)
        )
        assert got == want
        assert analyse_audio(irregular(samples), SR, vad=vad, asr=None) == reference(
            samples, vad=vad, asr=None, vad_chunk=7.3
        )


def test_production_sizes_on_a_long_track() -> None:
    # 11 minutes: two 300 s VAD calls and a third, speech across both boundaries
    bursts = [(10.0, 20.0), (299.5, 300.9), (301.0, 305.0), (598.0, 611.0), (640.0, 660.0)]
    samples = speechy(660.0, bursts)
    want = reference(
        samples,
        vad=FakeVoiceActivityDetector(),
        asr=FakeSpeechRecognizer(transcript(bursts), track=samples),
        vad_chunk=300.0,
        parallel=2,
    )
    got = analyse_audio(
        FakeAudioSource(samples).stream(Path("a.mp4")),
        SR,
        vad=FakeVoiceActivityDetector(),
        asr=FakeSpeechRecognizer(transcript(bursts), track=samples),
        parallel=2,
    )
    assert got == want and len(want.levels) == 1320


class FailingAsr:
    """Fails on the chunks that start after ``after`` seconds (the slice holds its time)."""

    def __init__(self, after: float) -> None:
        self.after = after

    def transcribe(
        self, audio: Samples, *, sample_rate: int = 16000, language: str = "zh", prompt: str | None = None
    ) -> list[TranscriptSegment]:
        start = float(audio[0])
        if start > self.after:
            raise RuntimeError(f"engine crashed at {start:.1f}")
        return [TranscriptSegment(0.0, 1.0, f"{start:.1f}")]


@pytest.mark.parametrize("parallel", [1, 3])
def test_asr_failure_is_the_same_error(small_vad_calls: float, parallel: int) -> None:
    samples = (np.arange(int(DURATION * SR)) / SR).astype(np.float32)  # each sample holds its time
    regions = [(a, b) for a, b in BURSTS]

    class Vad:
        def speech_segments(self, audio: Samples, *, sample_rate: int = 16000) -> list[tuple[float, float]]:
            t0 = float(audio[0])
            t1 = t0 + len(audio) / sample_rate
            return [(max(a, t0) - t0, min(b, t1) - t0) for a, b in regions if a < t1 and b > t0]

    want = reference(samples, vad=Vad(), asr=FailingAsr(20.0), vad_chunk=7.3, parallel=parallel)
    got = analyse_audio(irregular(samples), SR, vad=Vad(), asr=FailingAsr(20.0), parallel=parallel)
    assert got == want
    assert got.transcript is None and got.asr_error == "语音识别出错 / ASR failed: engine crashed at 44.2"


# --------------------------------------------------------------------------- bounded memory


def test_memory_held_does_not_grow_with_the_track(small_vad_calls: float) -> None:
    minutes = 12  # 46 MB as one float32 array
    block = speechy(10.0, [(1.0, 4.0), (6.0, 9.5)])  # 10 s repeated, speech in every block

    def blocks() -> Iterator[Samples]:
        for _ in range(minutes * 6):
            yield block.copy()

    tracemalloc.start()
    try:
        heard = analyse_audio(
            blocks(), SR, vad=FakeVoiceActivityDetector(), asr=FakeSpeechRecognizer(), parallel=2
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(heard.speech) == 2 * minutes * 6 and heard.transcript == ()
    assert peak < 8 * 2**20, f"{peak / 2**20:.1f} MiB"  # measured 5.6 MiB


# --------------------------------------------------------------------------- decode failure


def test_a_decode_error_keeps_what_was_decoded_and_the_evidence() -> None:
    scene = FakeScene(duration=20.0, silence=[(9.0, 11.0)])
    samples = scene.samples()
    source = FakeAudioSource(samples, stop_at=12.5)
    engines = QcEngines(
        probe=FakeProbe(scene.media_info()),
        frames=scene.frame_source(),
        audio=source,
        asr=FakeSpeechRecognizer(
            [TranscriptSegment(2.0, 3.0, "您好"), TranscriptSegment(15.0, 16.0, "再见")], track=samples
        ),
        vad=FakeVoiceActivityDetector(),
    )
    report = run_qc(QcRequest(Path("scene.mp4")), engines)
    audio = report.context.audio
    assert audio is not None and not audio.complete and audio.last_pts == pytest.approx(12.5)
    assert report.context.audio_error is None and "audio" not in report.stage_errors
    integrity = next(r for r in report.results if r.check_id == "file_integrity")
    assert integrity.status is CheckStatus.FAILED
    assert any("音频流" in f.message and "12.5s" in f.message for f in integrity.findings)
    # what was decoded was analysed: levels up to the error, the speech before it heard
    assert report.context.transcript is not None
    assert [s.text for s in report.context.transcript] == ["您好"]


def test_a_failing_analysis_still_reads_the_decode_evidence() -> None:
    scene = FakeScene(duration=20.0)

    class BrokenVad:
        def speech_segments(self, audio: Samples, *, sample_rate: int = 16000) -> list[tuple[float, float]]:
            raise RuntimeError("vad model missing")

    engines = QcEngines(
        probe=FakeProbe(scene.media_info()),
        frames=scene.frame_source(),
        audio=FakeAudioSource(scene.samples()),
        vad=BrokenVad(),
    )
    report = run_qc(QcRequest(Path("scene.mp4")), engines)
    # an analyser that raised is an engine error (its checks end "error"), not a damaged audio stream
    assert report.context.audio_error is None
    assert "vad model missing" in report.context.engine_errors["audio"]
    assert report.context.audio is not None and report.context.audio.complete
