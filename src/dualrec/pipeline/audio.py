"""Audio analyser: levels per window, speech segments (VAD) and the transcript (ASR), in one pass
over the decoded blocks.

The track is never held whole: levels are computed per group of ``LEVEL_GROUP`` windows, VAD per
``VAD_CHUNK`` seconds and each speech chunk is transcribed as soon as no later speech can change
it (``transcribe.py``), so only the samples from the oldest of those three positions on are kept
(about five minutes, more only while a single speech region is longer). The results are those of
the whole track at once: the VAD calls and the chunks fall where they always did, counted from the
track's start, and each window's level does not depend on its group.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

import numpy as np

from dualrec.media.ports import Samples, SpeechRecognizer, TranscriptSegment, VoiceActivityDetector
from dualrec.pipeline.transcribe import MERGE_GAP, ChunkTranscriber, speech_chunks

__all__ = ["VAD_CHUNK", "AudioAnalysis", "analyse_audio", "levels_db", "speech_chunks"]

logger = logging.getLogger(__name__)

VAD_CHUNK = 300.0  # seconds per VAD call: bounds the engine's temporaries on long tracks
LEVEL_GROUP = 32  # windows per levels_db step (bounded temporaries)


@dataclass(frozen=True)
class AudioAnalysis:
    levels: tuple[float, ...]
    speech: tuple[tuple[float, float], ...]
    transcript: tuple[TranscriptSegment, ...] | None  # in the requested language (Mandarin) only
    asr_error: str | None
    # segments the recogniser heard in another language: never matched against scripts or
    # answers, reported by the transcript check
    other_language: tuple[TranscriptSegment, ...] = ()


def levels_db(samples: Samples, sample_rate: int, window: float) -> tuple[float, ...]:
    """RMS level in dBFS of each window (a partial last window counts); -120 for digital silence."""
    n = max(1, int(sample_rate * window))
    out: list[float] = []
    for i in range(0, len(samples), n * LEVEL_GROUP):  # bounded temporaries on long tracks
        chunk = samples[i : i + n * LEVEL_GROUP].astype(np.float64)
        full = len(chunk) // n
        rms = list(np.sqrt(np.mean(np.square(chunk[: full * n].reshape(full, n)), axis=1))) if full else []
        if len(chunk) > full * n:
            rms.append(float(np.sqrt(np.mean(np.square(chunk[full * n :])))))
        out += [round(20 * float(np.log10(max(float(r), 1e-6))), 1) for r in rms]
    return tuple(out)


class _Timeline:
    """The decoded samples still needed, by absolute sample index: ``[start, end)``."""

    def __init__(self) -> None:
        self._data = np.zeros(0, dtype=np.float32)
        self._base = 0  # absolute index of _data[0]
        self.start = 0
        self.end = 0

    def append(self, block: Samples) -> None:
        n = len(block)
        if self.end - self._base + n > len(self._data):  # full: move the live samples to a new array
            live = self.end - self.start
            need = live + n
            data = np.empty(need + max(need // 2, 1 << 16), dtype=np.float32)
            data[:live] = self._data[self.start - self._base : self.end - self._base]
            self._data, self._base = data, self.start
        self._data[self.end - self._base : self.end - self._base + n] = block
        self.end += n

    def view(self, s0: int, s1: int) -> Samples:
        if not self.start <= s0 <= s1 <= self.end:
            raise ValueError(f"samples {s0}..{s1} not held ({self.start}..{self.end})")
        return self._data[s0 - self._base : s1 - self._base]

    def drop_before(self, index: int) -> None:
        self.start = max(self.start, min(index, self.end))


class _Analysis:
    """The incremental state of ``analyse_audio``."""

    def __init__(
        self,
        sample_rate: int,
        window: float,
        vad: VoiceActivityDetector | None,
        transcriber: ChunkTranscriber | None,
    ) -> None:
        self.sr, self.window, self.vad, self.transcriber = sample_rate, window, vad, transcriber
        self.level_step = max(1, int(sample_rate * window)) * LEVEL_GROUP
        self.vad_step = int(VAD_CHUNK * sample_rate)
        self.samples = _Timeline()
        self.levels: list[float] = []
        self.speech: list[tuple[float, float]] = []
        self.level_pos = 0  # levels are known for the samples before these positions
        self.vad_pos = 0

    def feed(self, block: Samples) -> None:
        self.samples.append(block)
        self._advance(ended=False)

    def end(self) -> None:
        self._advance(ended=True)

    def _advance(self, *, ended: bool) -> None:
        end, vad = self.samples.end, self.vad
        moved = False
        while end - self.level_pos >= self.level_step or (ended and end > self.level_pos):
            self._levels(min(end, self.level_pos + self.level_step))
            moved = True
        while vad is not None and (end - self.vad_pos >= self.vad_step or (ended and end > self.vad_pos)):
            self._vad(vad, min(end, self.vad_pos + self.vad_step))
            moved = True
        known = self.vad_pos if vad is not None else self.level_pos  # speech is known up to here
        keep = min(self.level_pos, known)
        if self.transcriber is not None:
            if moved or ended:
                self.transcriber.schedule(self.speech, known / self.sr, self.samples, ended=ended)
            keep = min(keep, self.transcriber.keep_from(known / self.sr))
        self.samples.drop_before(keep)

    def _levels(self, stop: int) -> None:
        levels = levels_db(self.samples.view(self.level_pos, stop), self.sr, self.window)
        if self.vad is None:  # no VAD engine: windows well above the floor count as speech
            first, w = len(self.levels), self.window
            self.speech += [((first + i) * w, (first + i + 1) * w) for i, lv in enumerate(levels) if lv > -35]
        self.levels += levels
        self.level_pos = stop

    def _vad(self, vad: VoiceActivityDetector, stop: int) -> None:
        offset, out = self.vad_pos / self.sr, self.speech
        for a, b in vad.speech_segments(self.samples.view(self.vad_pos, stop), sample_rate=self.sr):
            a, b = a + offset, b + offset
            if out and a - out[-1][1] < MERGE_GAP:  # a region cut by a chunk boundary
                out[-1] = (out[-1][0], max(b, out[-1][1]))
            else:
                out.append((a, b))
        self.vad_pos = stop


def analyse_audio(
    audio: Samples | Iterable[Samples],
    sample_rate: int,
    *,
    vad: VoiceActivityDetector | None,
    asr: SpeechRecognizer | None,
    window: float = 0.5,
    asr_unavailable: str | None = None,
    language: str = "zh",
    chunk_seconds: float = 15.0,
    parallel: int = 1,
    on_progress: Callable[[float], None] | None = None,
) -> AudioAnalysis:
    """Analyse the whole track (one array) or its consecutive blocks (``AudioSource.stream``).

    ``on_progress`` is called with the seconds read so far after each block. Speech chunks go to
    the recogniser as they become final, ``parallel`` at a time; the transcript keeps chunk order.
    """
    blocks: Iterable[Samples] = [audio] if isinstance(audio, np.ndarray) else audio
    transcriber = (
        ChunkTranscriber(asr, sample_rate, chunk_seconds=chunk_seconds, language=language, parallel=parallel)
        if asr is not None
        else None
    )
    state = _Analysis(sample_rate, window, vad, transcriber)
    try:
        for block in blocks:
            state.feed(block)
            if on_progress is not None:
                on_progress(state.samples.end / sample_rate)
        state.end()
        segments = transcriber.result() if transcriber is not None else None
    finally:
        if transcriber is not None:
            transcriber.close()
    levels, speech = tuple(state.levels), tuple(state.speech)
    if transcriber is None:
        return AudioAnalysis(levels, speech, None, asr_unavailable or "语音识别引擎不可用 / no ASR engine")
    if transcriber.error is not None:
        exc = transcriber.error
        logger.warning("ASR failed", exc_info=exc)
        return AudioAnalysis(levels, speech, None, f"语音识别出错 / ASR failed: {exc}")
    said = [_script_checked(s, language) for s in segments or () if s.text.strip()]
    return AudioAnalysis(
        levels,
        speech,
        tuple(s for s in said if s.in_language(language)),
        None,
        other_language=tuple(s for s in said if not s.in_language(language)),
    )


def _latin_letters(text: str) -> tuple[int, int]:
    """(ASCII letters, CJK ideographs) in ``text``."""
    latin = sum(1 for c in text if c.isascii() and c.isalpha())
    han = sum(1 for c in text if "\u4e00" <= c <= "\u9fff" or "\u3400" <= c <= "\u4dbf")
    return latin, han


def _script_checked(seg: TranscriptSegment, language: str) -> TranscriptSegment:
    """A segment the recogniser wrote in Latin letters while decoding Chinese (``front, center``:
    English forced to Mandarin in a window too short for its language to be detected) is not
    Mandarin: tagged ``latn`` (another language written in Latin letters). A Latin word inside a
    Chinese sentence (我下载了APP) is not: the letters must outnumber the characters, 3 at least."""
    if language != "zh" or not seg.in_language(language):
        return seg
    latin, han = _latin_letters(seg.text)
    if latin >= 3 and latin > han:
        return replace(seg, language="latn", language_probability=None)
    return seg
