"""Ports (Protocols) for everything that touches media or an AI engine.

The QC pipeline, the checks and the live analysers depend on these interfaces only; the concrete
adapters live in ``dualrec.media.models`` (real engines, heavy imports inside constructors) and
``dualrec.media.fakes`` (deterministic fakes for unit tests). The composition root
(``dualrec.bootstrap``) is the only place that picks an implementation.

Conventions used by every port:
- times are seconds (float) on the recording's own timeline, starting at 0;
- images are ``numpy.ndarray`` of shape (H, W, 3), dtype uint8, RGB;
- audio is ``numpy.ndarray`` of shape (N,), dtype float32 in [-1, 1], mono, at the stated rate.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

__all__ = [
    "AudioBlocks",
    "AudioSource",
    "AudioStreamInfo",
    "DecodeReport",
    "Device",
    "Face",
    "FaceAnalyzer",
    "FaceLandmarker",
    "FrameSource",
    "Image",
    "MediaInfo",
    "MediaProbe",
    "ProgressReporter",
    "Samples",
    "SpeechRecognizer",
    "SpeechSynthesizer",
    "TextLine",
    "TextRecognizer",
    "TranscriptSegment",
    "VideoFrame",
    "VideoStreamInfo",
    "VoiceActivityDetector",
    "VoiceprintEncoder",
    "Word",
]

Image = npt.NDArray[np.uint8]
Samples = npt.NDArray[np.float32]
Device = Literal["cpu", "cuda", "auto"]


# --------------------------------------------------------------------------- container / streams


@dataclass(frozen=True)
class VideoStreamInfo:
    codec: str
    width: int
    height: int
    fps: float
    duration: float | None
    bit_rate: int | None
    frame_count: int | None = None


@dataclass(frozen=True)
class AudioStreamInfo:
    codec: str
    sample_rate: int
    channels: int
    duration: float | None
    bit_rate: int | None


@dataclass(frozen=True)
class MediaInfo:
    """What the container says about itself (before any full decode)."""

    path: str
    format_name: str
    size_bytes: int
    duration: float | None
    bit_rate: int | None
    video: VideoStreamInfo | None
    audio: AudioStreamInfo | None


@dataclass(frozen=True)
class VideoFrame:
    t: float  # presentation time in seconds
    image: Image  # RGB uint8 (H, W, 3), possibly downscaled by the source


class MediaProbe(Protocol):
    def probe(self, path: Path) -> MediaInfo:
        """Read container/stream metadata. Raises ``dualrec.errors.MediaError`` if unreadable."""
        ...


@dataclass(frozen=True)
class DecodeReport:
    """What a full streamed decode of one stream found (integrity evidence)."""

    frames_decoded: int
    first_pts: float | None
    last_pts: float | None
    gaps: tuple[tuple[float, float], ...] = ()  # (from, to) where timestamps jump forward
    errors: tuple[str, ...] = ()  # decode errors, each with the time it happened
    complete: bool = True  # reached the end of the stream without a decode error


class AudioBlocks:
    """Consecutive blocks of mono float32 samples from one decode, and its ``DecodeReport``.

    Iterate once; the blocks follow each other on the recording's timeline (the first sample of
    the first block is at 0 s). ``report`` is ``None`` until the iteration has ended; a decode
    error ends the iteration early and is in the report (``complete=False``). ``close()`` (or
    ``with``) releases the file when the blocks are not read to the end.
    """

    def __init__(self, blocks: Generator[Samples, None, DecodeReport], sample_rate: int) -> None:
        self._blocks = blocks
        self.sample_rate = sample_rate
        self.report: DecodeReport | None = None

    def __iter__(self) -> AudioBlocks:
        return self

    def __next__(self) -> Samples:
        try:
            return next(self._blocks)
        except StopIteration as end:
            if self.report is None and isinstance(end.value, DecodeReport):
                self.report = end.value
            raise

    def finish(self) -> DecodeReport | None:
        """Read (and drop) the blocks not read yet and return the report: the integrity evidence
        of the whole stream even when its consumer stopped early (``None`` once closed early)."""
        for _ in self:
            pass
        return self.report

    def close(self) -> None:
        self._blocks.close()

    def __enter__(self) -> AudioBlocks:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class FrameSource(Protocol):
    def scan(
        self,
        path: Path,
        *,
        fps: float,
        max_width: int = 640,
        on_frame: Callable[[VideoFrame], None],
        gap_threshold: float = 1.0,
    ) -> DecodeReport:
        """Decode the whole video stream once, streaming; call ``on_frame`` for frames sampled at
        about ``fps`` per second (downscaled to ``max_width``) and return what the decode found.

        Memory stays bounded whatever the file length. A decode error ends the scan with
        ``complete=False`` instead of raising; an unopenable file raises ``MediaError``.
        """
        ...

    def frames_at(self, path: Path, times: Sequence[float], *, max_width: int = 640) -> list[VideoFrame]:
        """The frames shown at ``times`` (seconds on the recording's timeline), found by seeking, in
        time order; a time past the end or that cannot be decoded is left out."""
        ...


class AudioSource(Protocol):
    def stream(self, path: Path, *, sample_rate: int = 16000, block_seconds: float = 10.0) -> AudioBlocks:
        """Decode the first audio track to mono float32 at ``sample_rate``, ``block_seconds`` at a
        time (the last block may be shorter), so memory stays bounded whatever the file length.

        Sample ``i`` is at ``i / sample_rate`` seconds: a late start or a hole is filled with
        silence. Raises ``MediaError`` at once when there is no audio stream or the file cannot be
        opened; a decode error later ends the blocks and is in ``AudioBlocks.report``.
        """
        ...


# --------------------------------------------------------------------------- speech


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    text: str
    probability: float | None = None  # 0..1 as the engine gives it; None: the engine gives none


@dataclass(frozen=True)
class TranscriptSegment:
    """A stretch of recognised speech. Scores are the engine's own, or ``None`` where it has none:
    nothing here is a made-up default."""

    start: float
    end: float
    text: str
    confidence: float | None = None  # 0..1, e.g. exp(avg_logprob); None: the engine gives none
    words: tuple[Word, ...] = field(default=())
    # The language the engine heard in this stretch (its own code: "zh", "en"; "und" when it cannot
    # tell), and the probability it gives the language that was asked for; None: not detected
    # (an engine without language detection, or audio too short to tell).
    language: str | None = None
    language_probability: float | None = None

    def in_language(self, language: str) -> bool:
        """Heard in ``language`` (or not detected: nothing says otherwise)."""
        return self.language is None or self.language == language


@runtime_checkable
class SpeechRecognizer(Protocol):
    def transcribe(
        self, audio: Samples, *, sample_rate: int = 16000, language: str = "zh", prompt: str | None = None
    ) -> list[TranscriptSegment]: ...


class SpeechSynthesizer(Protocol):
    def synthesize(self, text: str, *, voice: Literal["female", "male"] = "female", rate: int = 170) -> bytes:
        """Return a complete WAV file (bytes)."""
        ...


class VoiceActivityDetector(Protocol):
    def speech_segments(self, audio: Samples, *, sample_rate: int = 16000) -> list[tuple[float, float]]:
        """Return (start, end) seconds of speech."""
        ...


class VoiceprintEncoder(Protocol):
    def embed(self, audio: Samples, *, sample_rate: int = 16000) -> npt.NDArray[np.float32]: ...


# --------------------------------------------------------------------------- vision


@dataclass(frozen=True)
class Face:
    box: tuple[int, int, int, int]  # left, top, right, bottom in image pixels
    score: float = 1.0
    landmarks: tuple[tuple[float, float], ...] = ()  # 68 points (dlib order) when available

    @property
    def width(self) -> int:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> int:
        return self.box[3] - self.box[1]


class FaceAnalyzer(Protocol):
    def detect(self, image: Image, *, min_face: int | None = None) -> list[Face]:
        """Faces with 68-point landmarks, largest first, boxes in ``image`` pixels.

        ``min_face``: the narrowest face (``image`` pixels) that must be found; the engine picks
        the scale it searches at from it (a small face is searched on an enlarged copy, a large
        one on a reduced copy: cheaper). ``None``: the engine's default scale."""
        ...

    def embed(self, image: Image, face: Face) -> npt.NDArray[np.float64]:
        """128-D descriptor; Euclidean distance < ~0.6 means the same person."""
        ...


@runtime_checkable
class FaceLandmarker(Protocol):
    """Optional: a ``FaceAnalyzer`` that can place the landmarks of a face near a known box (much
    cheaper than a detection); the visual pass uses it to follow a face between detections."""

    def landmarks(self, image: Image, box: tuple[int, int, int, int]) -> Face:
        """The face's 68 landmarks, fitted starting from ``box`` (returned with that box)."""
        ...


@dataclass(frozen=True)
class TextLine:
    text: str
    confidence: float
    box: tuple[tuple[float, float], ...]  # polygon points


class TextRecognizer(Protocol):
    def recognize(self, image: Image) -> list[TextLine]: ...


# --------------------------------------------------------------------------- progress


class ProgressReporter(Protocol):
    def update(self, stage: str, fraction: float) -> None:
        """``fraction`` of the whole job done, 0..1; ``stage`` a short machine id."""
        ...


# --------------------------------------------------------------------------- language model


class ChatError(Exception):
    """A chat completion could not be had (timeout, refused, HTTP error, an answer without text).
    The message says why in a few words and never holds the API key."""


class ChatModel(Protocol):
    """An OpenAI-compatible chat model (``/v1/chat/completions``), for the LLM checker."""

    @property
    def model(self) -> str: ...

    def complete(self, messages: Sequence[Mapping[str, str]]) -> str:
        """The text of the first choice's message; ``ChatError`` when there is none."""
        ...
