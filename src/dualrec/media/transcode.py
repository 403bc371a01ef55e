"""Transcode or remux a recording to a web-playable MP4 (H.264 + AAC, moov atom first).

Browsers record WebM (VP8/VP9 + Opus) with MediaRecorder; the archive and the review player want
an MP4 that starts playing before it is fully downloaded. Both helpers run the ``ffmpeg`` CLI,
write to a temporary file beside the destination and rename it into place, so a failed or
interrupted run never leaves a half-written file under the final name.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

from dualrec.errors import EngineUnavailableError, MediaError
from dualrec.i18n import msg

__all__ = ["concat_mp4", "remux_to_mp4", "transcode_to_h265", "transcode_to_mp4"]

logger = logging.getLogger(__name__)


def _ffmpeg() -> str:
    found = shutil.which("ffmpeg")
    if found is None:
        raise EngineUnavailableError(
            msg("media.ffmpeg_found_path_apt_get"),
            details={"engine": "ffmpeg"},
        )
    return found


def _run(
    src: Path, dst: Path, args: list[str], timeout: float | None, *, before_input: list[str] | None = None
) -> Path:
    src, dst = Path(src), Path(dst)
    if not src.is_file():
        raise MediaError(msg("media.media_file_found_2", src=src), details={"path": str(src)})
    dst.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        dir=dst.parent, prefix=f".{dst.stem}.", suffix=".mp4", delete=False
    ) as tmp:
        tmp_path = Path(tmp.name)
    cmd = [
        _ffmpeg(),
        "-nostdin",
        "-v",
        "error",
        "-y",
        *(before_input or []),
        "-i",
        str(src),
        *args,
        "-f",
        "mp4",
        str(tmp_path),
    ]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            tail = done.stderr.strip()[-500:]
            raise MediaError(
                msg("media.transcoding_failed", src=src, tail=tail),
                details={"path": str(src), "returncode": done.returncode},
            )
        tmp_path.replace(dst)
    except subprocess.TimeoutExpired as exc:
        raise MediaError(msg("media.transcoding_timed_out", src=src), details={"path": str(src)}) from exc
    finally:
        tmp_path.unlink(missing_ok=True)
    logger.info("wrote %s from %s", dst, src)
    return dst


def transcode_to_mp4(
    src: Path,
    dst: Path,
    *,
    max_height: int | None = None,
    crf: int = 23,
    preset: str = "veryfast",
    audio_bitrate: str = "96k",
    timeout: float | None = None,
) -> Path:
    """Re-encode ``src`` to H.264 (yuv420p) + AAC MP4 with faststart; optionally cap the height.

    Frames keep their own timestamps (``-fps_mode vfr``): a browser's MediaRecorder writes
    variable-rate video, and when its first seconds are uneven (a busy phone) FFmpeg guesses
    1000 fps from the WebM time base — a constant-rate output then repeats every frame up to
    1000 times. The time scales are fixed (video 90 kHz, audio 48 kHz) so that pieces made here
    can be joined by ``concat_mp4`` without re-timing: pieces with different scales joined by
    stream copy give a wrong timeline (seen: 34.5 s of video for 22.8 s recorded)."""
    video = ["-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-pix_fmt", "yuv420p"]
    video += ["-fps_mode", "vfr", "-video_track_timescale", "90000"]
    if max_height is not None:
        # keep the aspect ratio, never upscale, even dimensions for yuv420p
        video += ["-vf", f"scale=-2:'min({int(max_height)},ih)'"]
    audio = ["-c:a", "aac", "-b:a", audio_bitrate, "-ar", "48000"]
    return _run(src, dst, [*video, *audio, "-movflags", "+faststart"], timeout)


def transcode_to_h265(
    src: Path, dst: Path, *, crf: int = 28, preset: str = "fast", timeout: float | None = None
) -> Path:
    """Re-encode the video to H.265 (tagged ``hvc1`` for players), audio copied, faststart MP4."""
    video = ["-c:v", "libx265", "-preset", preset, "-crf", str(crf), "-tag:v", "hvc1"]
    return _run(src, dst, [*video, "-c:a", "copy", "-movflags", "+faststart"], timeout)


def remux_to_mp4(src: Path, dst: Path, *, timeout: float | None = None) -> Path:
    """Copy the streams into an MP4 with the moov atom first (fails if MP4 cannot carry a codec)."""
    return _run(src, dst, ["-map", "0", "-c", "copy", "-movflags", "+faststart"], timeout)


def concat_mp4(parts: list[Path], dst: Path, *, timeout: float | None = None) -> Path:
    """Join MP4 files made by ``transcode_to_mp4`` with the same settings, one after another."""
    if not parts:
        raise MediaError(msg("media.nothing_join"))
    if len(parts) == 1:
        return _run(parts[0], dst, ["-map", "0", "-c", "copy", "-movflags", "+faststart"], timeout)
    dst.parent.mkdir(parents=True, exist_ok=True)
    listing = dst.parent / f".{dst.stem}.concat.txt"
    listing.write_text("".join(f"file '{p.resolve().as_posix()}'\n" for p in parts), encoding="utf-8")
    try:
        return _run(
            listing,
            dst,
            ["-map", "0", "-c", "copy", "-movflags", "+faststart"],
            timeout,
            before_input=["-f", "concat", "-safe", "0"],
        )
    finally:
        listing.unlink(missing_ok=True)
