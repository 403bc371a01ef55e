"""Streamed decoding with PyAV: sampled RGB frames and a mono float32 audio track.

Both sources make one pass over the file, keep memory bounded (only the frame being handled and,
for audio, a block of samples) and return a ``DecodeReport`` with the integrity evidence: frame
count, first/last time, forward timestamp gaps, decode errors, and whether the stream reached the
end that the container declares (a file cut short gives ``complete=False``).

Times are on the recording's own timeline: stream time minus the container's start time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from dualrec.errors import MediaError
from dualrec.i18n import msg
from dualrec.media.ports import AudioBlocks, DecodeReport, Samples, VideoFrame
from dualrec.media.probe import open_media, timeline_origin

if TYPE_CHECKING:
    from av.container import InputContainer

__all__ = ["DecodeMode", "DecodeOptions", "PyAVAudioSource", "PyAVFrameSource"]

logger = logging.getLogger(__name__)

DecodeMode = Literal["all", "nonref", "auto"]


@dataclass(frozen=True)
class DecodeOptions:
    """How much of the video the scan decodes.

    - ``all``: every frame is decoded (strongest integrity evidence: every frame went through
      the decoder; ``frames_decoded`` is the stream's frame count).
    - ``nonref``: the decoder skips non-reference frames (``skip_frame="NONREF"``); for H.264
      with B-frames about 40 % fewer frames are decoded. Gaps, truncation and errors in reference
      frames are still found; damage inside a skipped frame is not, and ``frames_decoded``
      counts only the decoded frames.
    - ``auto``: ``nonref`` when the stream's frame rate is at least ``nonref_ratio`` times the
      sampling rate, else ``all``.
    """

    mode: DecodeMode = "auto"
    nonref_ratio: float = 4.0
    threads: int = 0  # 0: FFmpeg picks (one per core)
    # H.264/HEVC: skip the in-loop deblocking filter. Every frame is still decoded (same integrity
    # evidence); pictures get slightly blocky. Saved ~10 % CPU on a 720p30 clip.
    skip_loop_filter: bool = False


class _Integrity:
    """Accumulates the evidence for one stream's ``DecodeReport``."""

    def __init__(self, gap_threshold: float) -> None:
        self.gap_threshold = gap_threshold
        self.count = 0
        self.first: float | None = None
        self.last: float | None = None
        self.gaps: list[tuple[float, float]] = []
        self.errors: list[str] = []
        self.complete = True

    def see(self, t: float) -> None:
        self.count += 1
        if self.first is None:
            self.first = t
        if self.last is not None and t - self.last > self.gap_threshold:
            self.gaps.append((round(self.last, 3), round(t, 3)))
        if self.last is None or t > self.last:
            self.last = t

    def fail(self, message: str) -> None:
        at = self.last if self.last is not None else 0.0
        self.errors.append(f"{at:.3f}s: {message}")
        self.complete = False

    def check_end(self, declared_end: float | None, frame_span: float) -> None:
        """Flag a stream that stops well before the end its container declares."""
        if declared_end is None:
            return
        reached = (self.last if self.last is not None else 0.0) + frame_span
        if declared_end - reached > max(0.5, 3 * frame_span):
            self.fail(
                f"流在 {reached:.3f}s 提前结束, 文件声明时长 {declared_end:.3f}s(文件可能被截断) / "
                f"stream ends at {reached:.3f}s but the file declares {declared_end:.3f}s (truncated?)"
            )

    def report(self) -> DecodeReport:
        return DecodeReport(
            frames_decoded=self.count,
            first_pts=self.first,
            last_pts=self.last,
            gaps=tuple(self.gaps),
            errors=tuple(self.errors),
            complete=self.complete,
        )


def _declared_end(container: InputContainer, stream: Any, origin: float) -> float | None:
    """End time of ``stream`` on the recording timeline as the container header states it."""
    if stream.duration is not None and stream.time_base is not None:
        start = float(stream.start_time * stream.time_base) if stream.start_time is not None else origin
        return start - origin + float(stream.duration * stream.time_base)
    if container.duration:
        return float(container.duration) / 1_000_000
    return None


def _frames(container: InputContainer, stream: Any, track: _Integrity) -> Iterator[Any]:
    """Decoded frames of ``stream``; a demux/decode error is recorded in ``track`` and ends it."""
    import av

    try:
        for packet in container.demux(stream):
            if packet.is_corrupt:
                track.fail("数据包损坏 / corrupt packet")
            yield from packet.decode()
    except av.FFmpegError as exc:
        track.fail(f"解码错误 / decode error: {exc}")


class PyAVFrameSource:
    """``FrameSource`` on PyAV."""

    def __init__(self, options: DecodeOptions | None = None) -> None:
        self.options = options or DecodeOptions()

    def scan(
        self,
        path: Path,
        *,
        fps: float,
        max_width: int = 640,
        on_frame: Callable[[VideoFrame], None],
        gap_threshold: float = 1.0,
    ) -> DecodeReport:
        if fps <= 0 or max_width <= 0:
            raise ValueError("fps and max_width must be positive")
        container = open_media(Path(path))
        try:
            if not container.streams.video:
                raise MediaError(
                    msg("media.video_stream", path=path), details={"path": str(path), "reason": "no_video"}
                )
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            if self.options.threads:
                stream.codec_context.thread_count = self.options.threads
            if self.options.skip_loop_filter and stream.codec_context.name in ("h264", "hevc"):
                stream.codec_context.options = {"skip_loop_filter": "all"}
            rate = stream.average_rate or stream.guessed_rate
            stream_fps = float(rate) if rate else 0.0
            mode = self.options.mode
            if mode == "auto":
                mode = "nonref" if stream_fps >= self.options.nonref_ratio * fps else "all"
            if mode == "nonref":
                stream.codec_context.skip_frame = "NONREF"
            origin = timeline_origin(container)
            frame_span = 1.0 / stream_fps if stream_fps else 0.0
            track = _Integrity(gap_threshold)
            interval = 1.0 / fps
            next_sample: float | None = None
            for frame in _frames(container, stream, track):
                if frame.time is not None:
                    t = float(frame.time) - origin
                else:  # no timestamp: assume the nominal rate
                    t = (track.last if track.last is not None else 0.0) + frame_span
                track.see(t)
                if next_sample is None:
                    next_sample = t
                if t + 1e-6 >= next_sample:
                    on_frame(VideoFrame(t=t, image=_rgb(frame, max_width)))
                    while next_sample <= t + 1e-6:
                        next_sample += interval
            if track.complete:
                track.check_end(_declared_end(container, stream, origin), frame_span)
            return track.report()
        finally:
            container.close()

    def frames_at(self, path: Path, times: Sequence[float], *, max_width: int = 640) -> list[VideoFrame]:
        import av

        container = open_media(Path(path))
        out: list[VideoFrame] = []
        try:
            if not container.streams.video:
                return out
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            origin = timeline_origin(container)
            rate = stream.average_rate or stream.guessed_rate
            half = 0.5 / float(rate) if rate else 0.02
            base = float(stream.time_base) if stream.time_base else 1e-6
            for t in sorted(times):
                try:
                    # the key frame at or before t, then decode forward to the frame shown at t
                    container.seek(max(0, int((t + origin) / base)), stream=stream, backward=True)
                    shown, followed = None, False
                    for frame in container.decode(stream):
                        if frame.time is None:
                            continue
                        if float(frame.time) - origin > t + half:
                            followed = True
                            break
                        shown = frame
                    # past the last frame (by more than its own duration) nothing is shown at t
                    if shown is not None and (followed or t - (float(shown.time) - origin) <= 4 * half):
                        out.append(VideoFrame(t=float(shown.time) - origin, image=_rgb(shown, max_width)))
                except av.FFmpegError as exc:  # the file's damage: one line (the traceback at DEBUG)
                    logger.info("no frame decoded at %.2fs in %s: %s", t, path, exc)
                    logger.debug("no frame decoded at %.2fs: the traceback", t, exc_info=True)
            return out
        finally:
            container.close()


def _rgb(frame: Any, max_width: int) -> np.ndarray[Any, np.dtype[np.uint8]]:
    width, height = int(frame.width), int(frame.height)
    if width > max_width:
        height = max(1, round(height * max_width / width))
        width = max_width
    # area averaging: the right filter for a downscale, and half the cost of the default bicubic
    # (measured 2.5 vs 5.0 ms for 1280×720 → 640×360)
    image: np.ndarray[Any, np.dtype[np.uint8]] = frame.reformat(
        width=width, height=height, format="rgb24", interpolation="AREA"
    ).to_ndarray()
    return image


class _Blocks:
    """Cuts the decoded samples into blocks of ``size``; ``written`` counts every sample so far."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.block = np.empty(size, dtype=np.float32)
        self.fill = 0
        self.written = 0

    def _put(self, n: int, samples: np.ndarray[Any, Any] | None) -> Iterator[Samples]:
        """Add ``n`` samples (silence when ``samples`` is None), yielding each block filled."""
        done = 0
        while done < n:
            k = min(self.size - self.fill, n - done)
            self.block[self.fill : self.fill + k] = 0.0 if samples is None else samples[done : done + k]
            self.fill += k
            self.written += k
            done += k
            if self.fill == self.size:
                yield self.block
                self.block = np.empty(self.size, dtype=np.float32)
                self.fill = 0

    def append(self, samples: np.ndarray[Any, Any]) -> Iterator[Samples]:
        return self._put(len(samples), samples)

    def pad_to(self, n: int) -> Iterator[Samples]:
        return self._put(max(0, n - self.written), None)

    def flush(self) -> Iterator[Samples]:
        if self.fill:
            yield self.block[: self.fill]


class PyAVAudioSource:
    """``AudioSource`` on PyAV: the first audio track, mono float32, resampled with ``AudioResampler``.

    The samples stay aligned with the recording's timeline: a track that starts late or has a
    hole is padded with silence, so sample ``i`` is at ``i / sample_rate`` seconds. Only the block
    being filled is held.
    """

    def __init__(self, *, gap_threshold: float = 1.0) -> None:
        self.gap_threshold = gap_threshold

    def stream(self, path: Path, *, sample_rate: int = 16000, block_seconds: float = 10.0) -> AudioBlocks:
        if sample_rate <= 0 or block_seconds <= 0:
            raise ValueError("sample_rate and block_seconds must be positive")
        blocks = self._decode(Path(path), sample_rate, max(1, round(block_seconds * sample_rate)))
        next(blocks)  # opens the file now: MediaError here, and close() releases it from now on
        return AudioBlocks(blocks, sample_rate)

    def _decode(self, path: Path, sample_rate: int, block: int) -> Generator[Samples, None, DecodeReport]:
        import av

        container = open_media(path)
        try:
            if not container.streams.audio:
                raise MediaError(
                    msg("media.audio_stream", path=path), details={"path": str(path), "reason": "no_audio"}
                )
            yield np.zeros(0, dtype=np.float32)  # opened (read by stream())
            stream = container.streams.audio[0]
            origin = timeline_origin(container)
            declared = _declared_end(container, stream, origin)
            out = _Blocks(block)
            resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
            track = _Integrity(self.gap_threshold)
            span = 0.0
            for frame in _frames(container, stream, track):
                if frame.time is not None:
                    t = float(frame.time) - origin
                    # Keep sample index == time: fill a late start or a hole with silence.
                    if t * sample_rate - out.written > 0.02 * sample_rate:
                        yield from out.pad_to(round(t * sample_rate))
                else:
                    t = out.written / sample_rate
                track.see(t)
                span = frame.samples / frame.sample_rate if frame.sample_rate else 0.0
                for resampled in resampler.resample(frame):
                    yield from out.append(resampled.to_ndarray().reshape(-1))
            for resampled in resampler.resample(None):
                yield from out.append(resampled.to_ndarray().reshape(-1))
            yield from out.flush()
            if track.complete:
                track.check_end(declared, span)
            return track.report()
        finally:
            container.close()
