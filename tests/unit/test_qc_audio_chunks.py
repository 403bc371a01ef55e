"""The transcript is made chunk by chunk, cut only in silence, with times on the recording's timeline."""

from __future__ import annotations

import numpy as np
import pytest

from dualrec.media.ports import Samples, TranscriptSegment, Word
from dualrec.pipeline.audio import analyse_audio, speech_chunks


@pytest.mark.parametrize(
    ("speech", "limit", "expected"),
    [
        ((), 15, []),
        (((1.0, 3.0),), 15, [(1.0, 3.0)]),
        (((0.8, 5.2), (9.5, 10.7), (12.1, 14.5), (18.4, 22.8)), 15, [(0.8, 14.5), (18.4, 22.8)]),
        (((0.0, 20.0), (21.0, 22.0)), 15, [(0.0, 20.0), (21.0, 22.0)]),  # a long region stands alone
        (((1.0, 2.0), (30.0, 31.0)), 0, [(1.0, 31.0)]),  # 0: one chunk
    ],
)
def test_speech_chunks(
    speech: tuple[tuple[float, float], ...], limit: float, expected: list[tuple[float, float]]
) -> None:
    assert speech_chunks(speech, limit) == expected


class _RecordingAsr:
    """Says what it was given: one segment per call covering the slice, with one word."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def transcribe(
        self, audio: Samples, *, sample_rate: int = 16000, language: str = "zh", prompt: str | None = None
    ) -> list[TranscriptSegment]:
        length = len(audio) / sample_rate
        self.calls.append(length)
        return [TranscriptSegment(0.3, length - 0.3, f"段{len(self.calls)}", words=(Word(0.3, 0.8, "段"),))]


class _Vad:
    def __init__(self, regions: list[tuple[float, float]]) -> None:
        self.regions = regions

    def speech_segments(self, audio: Samples, *, sample_rate: int = 16000) -> list[tuple[float, float]]:
        return [(a, b) for a, b in self.regions if a * sample_rate < len(audio)]


def test_transcript_times_are_on_the_recording_timeline() -> None:
    sr = 16000
    samples = np.zeros(70 * sr, dtype=np.float32)
    asr = _RecordingAsr()
    vad = _Vad([(0.8, 5.2), (9.5, 10.7), (18.4, 22.8), (54.5, 58.9), (63.0, 67.4)])
    heard = analyse_audio(samples, sr, vad=vad, asr=asr, chunk_seconds=15)
    assert heard.transcript is not None
    starts = [round(s.start, 2) for s in heard.transcript]
    assert starts == [0.8, 18.4, 54.5]  # each chunk's own start (0.3 s padding removed again)
    assert [round(s.words[0].start, 2) for s in heard.transcript] == starts
    assert len(asr.calls) == 3 and max(asr.calls) < 16
