"""Container and stream metadata with PyAV (no full decode).

``open_media`` is also the one place that turns "cannot open this file" into ``MediaError``, so
the decoders (``decode.py``) raise exactly the same error for the same broken file.
"""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dualrec.errors import MediaError
from dualrec.i18n import msg
from dualrec.media.ports import AudioStreamInfo, MediaInfo, VideoStreamInfo

if TYPE_CHECKING:
    from av.container import InputContainer

__all__ = ["PyAVProbe", "open_media", "timeline_origin"]

logger = logging.getLogger(__name__)


def _scrub(exc: BaseException, path: Path) -> str:
    """The library's error text without the file's directory (server scratch paths stay private)."""
    return str(exc).replace(str(path), path.name)


def open_media(path: Path) -> InputContainer:
    """Open ``path`` for demuxing, or raise ``MediaError`` with a zh-CN/English reason."""
    import av

    path = Path(path)
    if not path.exists():
        raise MediaError(
            msg("media.media_file_found", name=path.name),
            details={"path": str(path), "reason": "missing"},
        )
    if not path.is_file():
        raise MediaError(
            msg("media.regular_file", name=path.name),
            details={"path": str(path), "reason": "not_a_file"},
        )
    if path.stat().st_size == 0:
        raise MediaError(
            msg("media.cannot_open_media_file_empty", name=path.name),
            details={"path": str(path), "reason": "empty"},
        )
    try:
        return av.open(str(path), mode="r")
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise MediaError(
            msg("media.cannot_open_media_file_unrecognised", name=path.name, scrub_exc=_scrub(exc, path)),
            details={"path": str(path), "reason": "unreadable", "error": _scrub(exc, path)},
        ) from exc


def timeline_origin(container: InputContainer) -> float:
    """Seconds to subtract from stream times so the recording's own timeline starts at 0."""
    start = container.start_time
    return float(start) / 1_000_000 if start is not None else 0.0


def _seconds(value: int | None, time_base: Fraction | None) -> float | None:
    if value is None or time_base is None:
        return None
    return float(value * time_base)


def _positive(value: Any) -> int | None:
    return int(value) if value else None


class PyAVProbe:
    """``MediaProbe`` on PyAV: reads the container header and the first video/audio stream."""

    def probe(self, path: Path) -> MediaInfo:
        path = Path(path)
        container = open_media(path)
        try:
            return self._info(path, container)
        except (AttributeError, TypeError, ValueError, ZeroDivisionError) as exc:  # pragma: no cover
            raise MediaError(
                msg("media.cannot_read_media_metadata", name=path.name, scrub_exc=_scrub(exc, path)),
                details={"path": str(path), "reason": "metadata", "error": _scrub(exc, path)},
            ) from exc
        finally:
            container.close()

    def _info(self, path: Path, container: InputContainer) -> MediaInfo:
        video: VideoStreamInfo | None = None
        audio: AudioStreamInfo | None = None
        if container.streams.video:
            vs = container.streams.video[0]
            ctx = vs.codec_context
            rate = vs.average_rate or vs.guessed_rate or vs.base_rate
            video = VideoStreamInfo(
                codec=ctx.name,
                width=int(ctx.width),
                height=int(ctx.height),
                fps=float(rate) if rate else 0.0,
                duration=_seconds(vs.duration, vs.time_base),
                bit_rate=_positive(ctx.bit_rate),
                frame_count=_positive(vs.frames),
            )
        if container.streams.audio:
            aus = container.streams.audio[0]
            actx = aus.codec_context
            audio = AudioStreamInfo(
                codec=actx.name,
                sample_rate=int(actx.sample_rate),
                channels=int(actx.channels),
                duration=_seconds(aus.duration, aus.time_base),
                bit_rate=_positive(actx.bit_rate),
            )
        duration = float(container.duration) / 1_000_000 if container.duration else None
        if video is None and audio is None:
            logger.info("media file %s has neither a video nor an audio stream", path)
        return MediaInfo(
            path=str(path),
            format_name=container.format.name,
            size_bytes=path.stat().st_size,
            duration=duration,
            bit_rate=_positive(container.bit_rate),
            video=video,
            audio=audio,
        )
