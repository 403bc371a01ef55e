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

__all__ = ["concat_mp4", "remux_to_mp4", "transcode_to_h265", "transcode_to_mp4"]

logger = logging.getLogger(__name__)


def _ffmpeg() -> str:
    found = shutil.which("ffmpeg")
    if found is None:
        raise EngineUnavailableError(
            "找不到 ffmpeg 程序 / ffmpeg not found on PATH (apt-get install ffmpeg)",
            details={"engine": "ffmpeg"},
        )
    return found


def _run(
    src: Path, dst: Path, args: list[str], timeout: float | None, *, before_input: list[str] | None = None
) -> Path:
    src, dst = Path(src), Path(dst)
    if not src.is_file():
        raise MediaError(f"媒体文件不存在: {src} / media file not found", details={"path": str(src)})
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
                f"转码失败: {src} / transcoding failed: {tail}",
                details={"path": str(src), "returncode": done.returncode},
            )
        tmp_path.replace(dst)
    except subprocess.TimeoutExpired as exc:
        raise MediaError(f"转码超时: {src} / transcoding timed out", details={"path": str(src)}) from exc
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
    """Re-encode ``src`` to H.264 (yuv420p) + AAC MP4 with faststart; optionally cap the height."""
    video = ["-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-pix_fmt", "yuv420p"]
    if max_height is not None:
        # keep the aspect ratio, never upscale, even dimensions for yuv420p
        video += ["-vf", f"scale=-2:'min({int(max_height)},ih)'"]
    audio = ["-c:a", "aac", "-b:a", audio_bitrate]
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
        raise MediaError("没有可拼接的片段 / nothing to join")
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
