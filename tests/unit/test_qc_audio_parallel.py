"""Speech chunks transcribed two at a time: the same transcript, in order, as one at a time."""

from __future__ import annotations

import threading
import time

import numpy as np

from dualrec.media.ports import Samples, TranscriptSegment, Word
from dualrec.pipeline.audio import analyse_audio

SR = 16000
REGIONS = [(0.8, 5.2), (18.4, 22.8), (40.0, 44.0), (54.5, 58.9), (63.0, 67.4)]


class SlowAsr:
    """One segment per call, named by where the slice starts; notes how many calls overlap."""

    def __init__(self) -> None:
        self.active = 0
        self.most = 0
        self.lock = threading.Lock()

    def transcribe(
        self, audio: Samples, *, sample_rate: int = 16000, language: str = "zh", prompt: str | None = None
    ) -> list[TranscriptSegment]:
        with self.lock:
            self.active += 1
            self.most = max(self.most, self.active)
        start = round(float(audio[0]), 1)  # the samples hold their own time
        time.sleep(0.05 if start < 10 else 0.01)  # the first chunk finishes last
        with self.lock:
            self.active -= 1
        return [TranscriptSegment(0.3, 1.0, f"{start}", words=(Word(0.3, 0.5, "x"),))]


class Vad:
    def speech_segments(self, audio: Samples, *, sample_rate: int = 16000) -> list[tuple[float, float]]:
        return REGIONS


def test_parallel_chunks_give_the_same_transcript_in_order() -> None:
    samples = (np.arange(70 * SR) / SR).astype(np.float32)
    one, two = SlowAsr(), SlowAsr()
    serial = analyse_audio(samples, SR, vad=Vad(), asr=one, chunk_seconds=15, parallel=1)
    parallel = analyse_audio(samples, SR, vad=Vad(), asr=two, chunk_seconds=15, parallel=2)
    assert serial.transcript is not None and parallel.transcript == serial.transcript
    assert [s.text for s in serial.transcript] == ["0.5", "18.1", "39.7", "54.2"]
    assert one.most == 1 and two.most == 2
