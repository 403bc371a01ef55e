"""The transcript of a track, chunk by chunk, while the track is still being decoded.

``ChunkTranscriber`` gets the speech regions found so far and the samples still held; it hands each
speech chunk to the recogniser as soon as the chunk is final, ``parallel`` at a time, and keeps the
results in chunk order. A chunk is final when no later speech can change it:

- ``speech_chunks`` is greedy from the start, so every chunk but the last is final;
- the last one is final once the last region cannot grow any more (speech is known at least
  ``MERGE_GAP`` past its end: a later region that close would be merged into it) and speech is
  known beyond ``chunk start + limit`` (a later region would end too late to join), or when the
  track has ended.

This relies on the VAD returning times >= 0 within the audio it was given, so a later region never
starts before the point up to which speech is known.
"""

from __future__ import annotations

import logging
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from typing import Protocol

import numpy as np

from dualrec.media.chinese import simplified_segment
from dualrec.media.ports import Samples, SpeechRecognizer, TranscriptSegment

__all__ = ["MERGE_GAP", "ChunkTranscriber", "speech_chunks"]

logger = logging.getLogger(__name__)

MERGE_GAP = 0.3  # speech regions closer than this are one region (also across a VAD call boundary)
Span = tuple[float, float]


def speech_chunks(speech: tuple[Span, ...], limit: float) -> list[Span]:
    """Group consecutive speech regions into spans of at most ``limit`` seconds, cut only in silence.

    Whisper base drops utterances inside long windows that hold several pauses (measured: 2 of 8
    short utterances lost in a 70 s recording transcribed whole, none lost with 15 s chunks), so the
    transcript is made chunk by chunk. ``limit <= 0`` keeps one chunk from the first to the last speech.
    """
    if not speech:
        return []
    if limit <= 0:
        return [(speech[0][0], speech[-1][1])]
    chunks: list[Span] = []
    for a, b in speech:
        if chunks and b - chunks[-1][0] <= limit:
            chunks[-1] = (chunks[-1][0], b)
        else:
            chunks.append((a, b))
    return chunks


class HeldSamples(Protocol):
    """The decoded samples still held, by absolute sample index ``[start, end)``."""

    @property
    def end(self) -> int: ...

    def view(self, s0: int, s1: int) -> Samples: ...


class ChunkTranscriber:
    def __init__(
        self,
        asr: SpeechRecognizer,
        sample_rate: int,
        *,
        chunk_seconds: float,
        language: str,
        parallel: int = 1,
        pad: float = 0.3,
    ) -> None:
        self.asr, self.sr, self.limit = asr, sample_rate, chunk_seconds
        self.language, self.parallel, self.pad = language, max(1, parallel), pad
        self.error: Exception | None = None  # the first failure in chunk order; no chunk is sent after it
        self._chunks: list[Span] = []  # of the speech known at the last schedule()
        self._sent = 0  # chunks handed to the recogniser
        self._done: list[TranscriptSegment] = []  # results of the chunks before the pending ones
        self._pending: deque[Future[list[TranscriptSegment]]] = deque()
        self._pool: ThreadPoolExecutor | None = None

    def schedule(self, speech: list[Span], known: float, samples: HeldSamples, *, ended: bool) -> None:
        """Send the chunks that are final now. Speech is known up to ``known`` seconds (all of
        it when ``ended``); ``samples`` holds the track from ``keep_from()`` on."""
        self._chunks = chunks = speech_chunks(tuple(speech), self.limit)
        while self.error is None and self._sent < len(chunks):
            a, b = chunks[self._sent]
            if not ended and self._sent == len(chunks) - 1 and not self._last_final(speech, a, known):
                return
            s0 = max(0, int((a - self.pad) * self.sr))
            s1 = int((b + self.pad) * self.sr)
            if not ended and s1 > samples.end:  # not decoded yet
                return
            s1 = min(s1, samples.end)  # at the end: the track's length
            self._send(np.array(samples.view(min(s0, s1), s1)), s0 / self.sr)
            self._sent += 1

    def _last_final(self, speech: list[Span], start: float, known: float) -> bool:
        if self.limit <= 0:  # one chunk for all the speech: only at the end
            return False
        return known - speech[-1][1] >= MERGE_GAP and known - start > self.limit

    def keep_from(self, known: float) -> int:
        """The first sample index a chunk not sent yet can need (after a failure: none)."""
        if self.error is not None:
            return 1 << 62
        chunks = self._chunks
        # a chunk not found yet starts at a region that starts at ``known`` or later
        a = chunks[self._sent][0] if self._sent < len(chunks) else known
        return max(0, int((a - self.pad) * self.sr))

    def _one(self, audio: Samples, offset: float) -> list[TranscriptSegment]:
        """The chunk's segments on the track's timeline, in simplified characters."""
        out = []
        for seg in self.asr.transcribe(audio, sample_rate=self.sr, language=self.language):
            seg = simplified_segment(seg)
            words = tuple(replace(w, start=w.start + offset, end=w.end + offset) for w in seg.words)
            out.append(replace(seg, start=seg.start + offset, end=seg.end + offset, words=words))
        return out

    def _send(self, audio: Samples, offset: float) -> None:
        if self.parallel <= 1:
            try:
                self._done += self._one(audio, offset)
            except Exception as exc:
                self.error = exc
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.parallel, thread_name_prefix="dualrec-asr")
        self._pending.append(self._pool.submit(self._one, audio, offset))
        self._collect(wait=False)
        while len(self._pending) >= 2 * self.parallel:  # bounded: at most this many slices held
            self._collect(wait=True)

    def _collect(self, *, wait: bool) -> None:
        """Take the results of the oldest chunks that are done (with ``wait``: at least one)."""
        while self._pending and (wait or self._pending[0].done()):
            wait = False
            future = self._pending.popleft()
            try:
                self._done += future.result()
            except Exception as exc:
                self.error = exc
                self.close()
                return

    def result(self) -> list[TranscriptSegment]:
        """All the chunks' segments in chunk order (call after the last ``schedule``)."""
        while self._pending and self.error is None:
            self._collect(wait=True)
        return self._done

    def close(self) -> None:
        """Stop: chunks not started are dropped; waits for those running."""
        for future in self._pending:
            future.cancel()
        self._pending.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
