"""Deterministic fakes for every port in ``dualrec.media.ports`` (unit tests only; never "real").

Synthetic scenes encode what the fakes "see":
- a face is a rectangle painted with red=255, green=0 and blue=the person id (1..250); the fake
  face analyser finds these rectangles and returns an embedding that depends on the id only
  (same person → distance 0, different persons → distance √2);
- an ID card is a rectangle painted with red=0, green=255 and blue=a card id; the fake OCR returns
  the lines registered for that card id.
"""

from __future__ import annotations

import io
import math
import wave
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from dualrec.errors import MediaError
from dualrec.media.ports import (
    AudioBlocks,
    DecodeReport,
    Face,
    Image,
    MediaInfo,
    Samples,
    TextLine,
    TranscriptSegment,
    VideoFrame,
)

__all__ = [
    "FakeAudioSource",
    "FakeFaceAnalyzer",
    "FakeFrameSource",
    "FakeProbe",
    "FakeProgress",
    "FakeScene",
    "FakeSpeechRecognizer",
    "FakeSpeechSynthesizer",
    "FakeTextRecognizer",
    "FakeVoiceActivityDetector",
    "FakeVoiceprintEncoder",
    "paint_card",
    "paint_face",
]


def paint_face(image: Image, person: int, box: tuple[int, int, int, int]) -> Image:
    """Paint a fake face of ``person`` (1..250) into ``image`` (in place) and return it."""
    left, top, right, bottom = box
    image[top:bottom, left:right] = (255, 0, person)
    return image


def paint_card(image: Image, card: int, box: tuple[int, int, int, int]) -> Image:
    left, top, right, bottom = box
    image[top:bottom, left:right] = (0, 255, card)
    return image


def _regions(image: Image, r: int, g: int) -> dict[int, tuple[int, int, int, int]]:
    mask = (image[:, :, 0] == r) & (image[:, :, 1] == g)
    out: dict[int, tuple[int, int, int, int]] = {}
    if not mask.any():
        return out
    for value in np.unique(image[:, :, 2][mask]):
        ys, xs = np.nonzero(mask & (image[:, :, 2] == value))
        if len(xs) >= 16:
            out[int(value)] = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    return out


class FakeProbe:
    def __init__(self, info: MediaInfo | None = None, *, error: str | None = None) -> None:
        self.info, self.error = info, error

    def probe(self, path: Path) -> MediaInfo:
        if self.error is not None or self.info is None:
            raise MediaError(self.error or "fake: unreadable")
        return self.info


@dataclass
class FakeFrameSource:
    """Renders ``render(t)`` at ``native_fps`` for ``duration`` seconds; ``stop_at`` simulates a
    decode error (truncation); ``gaps`` are reported as given; ``open_error`` raises MediaError."""

    render: Callable[[float], Image]
    duration: float
    native_fps: float = 10.0
    stop_at: float | None = None
    gaps: tuple[tuple[float, float], ...] = ()
    open_error: str | None = None
    scans: int = 0
    seeks: int = 0

    def scan(
        self,
        path: Path,
        *,
        fps: float,
        max_width: int = 640,
        on_frame: Callable[[VideoFrame], None],
        gap_threshold: float = 1.0,
    ) -> DecodeReport:
        self.scans += 1
        if self.open_error is not None:
            raise MediaError(self.open_error)
        n = round(self.duration * self.native_fps)
        step = max(1, round(self.native_fps / fps))
        last = None
        for i in range(n):
            t = i / self.native_fps
            if self.stop_at is not None and t >= self.stop_at:
                return DecodeReport(i, 0.0, last, self.gaps, (f"fake decode error at {t:.2f}s",), False)
            last = t
            if i % step == 0:
                on_frame(VideoFrame(t, self.render(t)))
        return DecodeReport(n, 0.0 if n else None, last, self.gaps, (), True)

    def frames_at(self, path: Path, times: Sequence[float], *, max_width: int = 640) -> list[VideoFrame]:
        self.seeks += len(times)
        end = self.duration if self.stop_at is None else self.stop_at
        shown = sorted({math.floor(t * self.native_fps) / self.native_fps for t in times if 0 <= t < end})
        return [VideoFrame(t, self.render(t)) for t in shown]


@dataclass
class FakeAudioSource:
    """Streams ``samples`` (taken to be at the requested rate) in blocks that are views of it.

    ``samples=None``: no audio stream (``MediaError``); ``stop_at`` simulates a decode error at that
    time (the blocks end there, the report says so); ``report`` replaces a complete decode's report.
    """

    samples: Samples | None
    sample_rate: int = 16000
    report: DecodeReport | None = None
    stop_at: float | None = None
    streams: int = 0

    def stream(self, path: Path, *, sample_rate: int = 16000, block_seconds: float = 10.0) -> AudioBlocks:
        if self.samples is None:
            raise MediaError("fake: no audio stream")
        self.streams += 1
        size = max(1, round(block_seconds * sample_rate))
        return AudioBlocks(self._blocks(self.samples, sample_rate, size), sample_rate)

    def _blocks(self, samples: Samples, rate: int, size: int) -> Generator[Samples, None, DecodeReport]:
        end = len(samples)
        if self.stop_at is not None:
            end = min(end, int(self.stop_at * rate))
        for i in range(0, end, size):
            yield samples[i : min(i + size, end)]
        if end < len(samples):
            t = end / rate
            return DecodeReport(end // 1024, 0.0, t, (), (f"{t:.3f}s: fake decode error",), False)
        return self.report or DecodeReport(end // 1024, 0.0, end / rate, (), (), True)


def _shifted(seg: TranscriptSegment, dt: float) -> TranscriptSegment:
    words = tuple(replace(w, start=w.start + dt, end=w.end + dt) for w in seg.words)
    return replace(seg, start=seg.start + dt, end=seg.end + dt, words=words)


def _find(track: Samples, audio: Samples) -> int:
    """Where ``audio`` (a copy of a slice of ``track``) starts in ``track``; it must occur once."""
    n = len(audio)
    if n == 0 or n > len(track):
        raise ValueError(f"fake ASR: {n} samples cannot be a slice of the {len(track)}-sample track")
    nonzero = np.flatnonzero(audio)
    j = int(nonzero[0]) if len(nonzero) else 0  # start from a sample rarer than silence
    found = np.flatnonzero(track[j : len(track) - n + 1 + j] == audio[j])
    probes = np.unique(np.concatenate([np.arange(min(n, 16)), np.linspace(0, n - 1, 64).astype(int)]))
    for j in probes:  # narrow down on a few samples before comparing whole slices
        found = found[track[found + j] == audio[j]]
    hits = [int(p) for p in found if np.array_equal(track[p : p + n], audio)]
    if len(hits) != 1:
        raise ValueError(f"fake ASR: the audio occurs {len(hits)} times in the track, not once")
    return hits[0]


@dataclass
class FakeSpeechRecognizer:
    """Hears the scripted segments (times on the whole track) that start inside the audio it is given,
    and returns them relative to that audio, as a real recogniser would.

    The pipeline transcribes copies of slices of the track; the fake finds each in ``track`` (the
    samples the audio source streams; the slice must occur there once). Without a track, a numpy
    view is placed by its position in the array it views, and anything else starts at 0 s."""

    segments: Sequence[TranscriptSegment] = ()
    track: Samples | None = None
    calls: int = 0

    def transcribe(
        self, audio: Samples, *, sample_rate: int = 16000, language: str = "zh", prompt: str | None = None
    ) -> list[TranscriptSegment]:
        self.calls += 1
        base = audio.base
        offset = 0.0
        if self.track is not None:
            offset = _find(self.track, audio) / sample_rate
        elif isinstance(base, np.ndarray) and base.dtype == audio.dtype:
            offset = (audio.ctypes.data - base.ctypes.data) / audio.itemsize / sample_rate
        end = offset + len(audio) / sample_rate
        return [_shifted(s, -offset) for s in self.segments if offset <= s.start < end]


class FakeVoiceActivityDetector:
    """Energy threshold over 30 ms frames (a deterministic stand-in for a real VAD)."""

    def __init__(self, threshold_db: float = -40.0) -> None:
        self.threshold_db = threshold_db

    def speech_segments(self, audio: Samples, *, sample_rate: int = 16000) -> list[tuple[float, float]]:
        hop = int(sample_rate * 0.03)
        out: list[tuple[float, float]] = []
        for i in range(0, len(audio) - hop + 1, hop):
            rms = float(np.sqrt(np.mean(np.square(audio[i : i + hop], dtype=np.float64))))
            if 20 * math.log10(max(rms, 1e-9)) > self.threshold_db:
                t0, t1 = i / sample_rate, (i + hop) / sample_rate
                if out and t0 - out[-1][1] < 0.3:
                    out[-1] = (out[-1][0], t1)
                else:
                    out.append((t0, t1))
        return out


class FakeFaceAnalyzer:
    """Finds the painted faces. Like a real detector it has a smallest face it finds at the scale it
    searches at: ``native_px`` (0: any) in a copy scaled like dlib's (``detect_width`` wide by
    default, or so that ``min_face`` is ``native_px`` wide); ``searches`` lists (height, width,
    min_face) of every search, ``searched_pixels`` adds up the pixels of those scaled copies (the
    cost a real detector would have)."""

    def __init__(self, *, native_px: int = 0, detect_width: int = 640) -> None:
        self.detect_calls = 0
        self.embed_calls = 0
        self.native_px = native_px
        self.detect_width = detect_width
        self.searched_pixels = 0
        self.searches: list[tuple[int, int, int | None]] = []

    def detect(self, image: Image, *, min_face: int | None = None) -> list[Face]:
        self.detect_calls += 1
        h, w = image.shape[:2]
        self.searches.append((h, w, min_face))
        if min_face is None:
            scale = min(1.0, self.detect_width / w)
        else:
            scale = self.native_px / min_face if self.native_px else 1.0
        self.searched_pixels += round(w * h * scale * scale)
        faces = [Face(box) for box in _regions(image, 255, 0).values()]
        faces = [f for f in faces if f.width * scale >= self.native_px]
        return sorted(faces, key=lambda f: f.width * f.height, reverse=True)

    def embed(self, image: Image, face: Face) -> npt.NDArray[np.float64]:
        self.embed_calls += 1
        left, top, right, bottom = face.box
        person = int(np.median(image[top:bottom, left:right, 2]))
        vec = np.zeros(128, dtype=np.float64)
        vec[person % 128] = 1.0
        return vec


@dataclass
class FakeTextRecognizer:
    cards: Mapping[int, Sequence[str]] = field(default_factory=dict)
    calls: int = 0

    def recognize(self, image: Image) -> list[TextLine]:
        self.calls += 1
        lines: list[TextLine] = []
        for card, (left, top, right, _bottom) in _regions(image, 0, 255).items():
            for i, text in enumerate(self.cards.get(card, ())):
                y = top + i * 10
                lines.append(TextLine(text, 0.99, ((left, y), (right, y), (right, y + 9), (left, y + 9))))
        return lines


class FakeSpeechSynthesizer:
    """A WAV of a 440 Hz tone, 0.2 s per character (timing tests only)."""

    def synthesize(self, text: str, *, voice: Literal["female", "male"] = "female", rate: int = 170) -> bytes:
        sr = 16000
        n = int(sr * 0.2 * max(1, len(text)))
        tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(n) / sr) * 32767).astype(np.int16)
        buf = io.BytesIO()
        with wave.open(buf, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(sr)
            w.writeframes(tone.tobytes())
        return buf.getvalue()


class FakeVoiceprintEncoder:
    """A 16-bin normalised amplitude histogram: equal audio → equal vector."""

    def embed(self, audio: Samples, *, sample_rate: int = 16000) -> npt.NDArray[np.float32]:
        hist, _ = np.histogram(np.abs(audio), bins=16, range=(0.0, 1.0))
        vec = hist.astype(np.float32)
        norm = float(np.linalg.norm(vec))
        return vec / norm if norm else vec


@dataclass
class FakeProgress:
    updates: list[tuple[str, float]] = field(default_factory=list)

    def update(self, stage: str, fraction: float) -> None:
        self.updates.append((stage, fraction))


Span = tuple[float, float]


def _inside(t: float, spans: Sequence[Span]) -> bool:
    return any(a <= t < b for a, b in spans)


@dataclass
class FakeScene:
    """A synthetic recording for unit tests: a moving bar on grey (so the picture is never frozen),
    the customer's fake face, a steady tone as audio; each defect is a list of time spans."""

    duration: float = 20.0
    width: int = 640
    height: int = 360
    fps: float = 25.0
    person: int = 1
    black: Sequence[Span] = ()
    frozen: Sequence[Span] = ()
    no_face: Sequence[Span] = ()
    extra_face: Sequence[Span] = ()
    second_person: Sequence[Span] = ()  # the second person of a human interview is visible
    swap: Sequence[Span] = ()  # another person (id person+200) replaces the customer
    card: Sequence[Span] = ()  # fake ID card (card id 1) held up
    silence: Sequence[Span] = ()

    def render(self, t: float) -> Image:
        for a, b in self.frozen:
            if a <= t < b:
                t = a
        img = np.full((self.height, self.width, 3), 90, dtype=np.uint8)
        if _inside(t, self.black):
            return np.zeros_like(img)
        x = int(t * 40) % (self.width - 40)
        img[:, x : x + 40] = 200
        if not _inside(t, self.no_face):
            who = self.person + 200 if _inside(t, self.swap) else self.person
            paint_face(img, who, (260, 80, 380, 240))
        if _inside(t, self.extra_face):
            paint_face(img, 50, (480, 100, 560, 200))
        if _inside(t, self.second_person):
            paint_face(img, 60, (60, 100, 160, 220))
        if _inside(t, self.card):
            paint_card(img, 1, (40, 250, 200, 350))
        return img

    def samples(self, sample_rate: int = 16000) -> Samples:
        n = int(self.duration * sample_rate)
        t = np.arange(n) / sample_rate
        audio = (0.1 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
        for a, b in self.silence:
            audio[int(a * sample_rate) : int(b * sample_rate)] = 0.0
        return audio

    def media_info(self, *, audio: bool = True, video: bool = True) -> MediaInfo:
        from dualrec.media.ports import AudioStreamInfo, VideoStreamInfo

        return MediaInfo(
            path="scene.mp4",
            format_name="mov,mp4",
            size_bytes=1_000_000,
            duration=self.duration,
            bit_rate=800_000,
            video=VideoStreamInfo("h264", self.width, self.height, self.fps, self.duration, 700_000)
            if video
            else None,
            audio=AudioStreamInfo("aac", 16000, 1, self.duration, 64_000) if audio else None,
        )

    def frame_source(self, **kwargs: object) -> FakeFrameSource:
        return FakeFrameSource(self.render, self.duration, self.fps, **kwargs)  # type: ignore[arg-type]

    def id_photo(self, person: int | None = None) -> Image:
        img = np.full((300, 240, 3), 230, dtype=np.uint8)
        return paint_face(img, person or self.person, (60, 60, 180, 220))
