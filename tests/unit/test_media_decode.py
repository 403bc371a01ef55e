"""PyAV probe and streamed decoding on small clips generated with the ffmpeg CLI."""

from __future__ import annotations

import itertools
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from dualrec.errors import MediaError
from dualrec.media.decode import DecodeMode, DecodeOptions, PyAVAudioSource, PyAVFrameSource
from dualrec.media.ports import DecodeReport, Samples, VideoFrame
from dualrec.media.probe import PyAVProbe

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg CLI not installed")

X264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


def _video(seconds: float, rate: int = 25, size: str = "320x240") -> list[str]:
    return ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={seconds}"]


def _audio(path: Path, sample_rate: int = 16000, block_seconds: float = 10.0) -> tuple[Samples, DecodeReport]:
    """The whole track, read block by block, and the report."""
    blocks = PyAVAudioSource().stream(path, sample_rate=sample_rate, block_seconds=block_seconds)
    samples = np.concatenate([np.zeros(0, dtype=np.float32), *blocks])
    assert blocks.report is not None
    return samples, blocks.report


def _tone(seconds: float, rate: int = 48000) -> list[str]:
    return ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate={rate}:duration={seconds}"]


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("clips")
    p = {name: d / name for name in ("fs.mp4", "end.mp4", "audio.m4a", "video.mp4", "gap.mp4", "vfr.mp4")}
    av = [*_video(4), *_tone(4), *X264, "-c:a", "aac", "-shortest"]
    _ffmpeg(*av, "-movflags", "+faststart", str(p["fs.mp4"]))  # moov at the start
    _ffmpeg(*av, str(p["end.mp4"]))  # moov at the end (ffmpeg's default)
    _ffmpeg(*_tone(3, 16000), "-c:a", "aac", str(p["audio.m4a"]))
    _ffmpeg(*_video(3), *X264, str(p["video.mp4"]))
    # timestamps jump from 2 s to 5 s: an interruption of the recording
    jump = "setpts='if(gte(T,2),PTS+3/TB,PTS)'"
    _ffmpeg(*_video(4), "-vf", jump, "-fps_mode", "passthrough", *X264, str(p["gap.mp4"]))
    # variable frame rate: 30 fps for 2 s, then one frame in three (10 fps)
    keep = "select='lt(t,2)+not(mod(n,3))'"
    _ffmpeg(*_video(4, rate=30), "-vf", keep, "-fps_mode", "vfr", *X264, str(p["vfr.mp4"]))
    # audio with a 2-s hole in its timestamps, and audio that starts 1 s after the video
    p["agap.mkv"] = d / "agap.mkv"
    _ffmpeg(
        *_tone(4, 16000),
        "-af",
        "asetpts='if(gte(T,2),PTS+2/TB,PTS)'",
        "-c:a",
        "pcm_s16le",
        str(p["agap.mkv"]),
    )
    p["late.mp4"] = d / "late.mp4"
    _ffmpeg(*_video(3), "-itsoffset", "1", *_tone(2), *X264, "-c:a", "aac", str(p["late.mp4"]))
    for name, fraction in (("fs.mp4", 0.5), ("end.mp4", 0.5), ("fs.mp4", 0.8)):
        data = p[name].read_bytes()
        cut = d / f"cut{int(fraction * 100)}_{name}"
        cut.write_bytes(data[: int(len(data) * fraction)])
        p[cut.name] = cut
    p["empty.mp4"] = d / "empty.mp4"
    p["empty.mp4"].write_bytes(b"")
    p["text.mp4"] = d / "text.mp4"
    p["text.mp4"].write_text("这不是视频 / not a video\n" * 20)
    return p


def _scan(
    path: Path,
    fps: float = 2.0,
    *,
    mode: DecodeMode = "all",
    max_width: int = 640,
    gap_threshold: float = 1.0,
) -> tuple[DecodeReport, list[VideoFrame]]:
    frames: list[VideoFrame] = []
    report = PyAVFrameSource(DecodeOptions(mode=mode)).scan(
        path, fps=fps, max_width=max_width, on_frame=frames.append, gap_threshold=gap_threshold
    )
    return report, frames


def test_probe_reads_container_and_streams(clips: dict[str, Path]) -> None:
    info = PyAVProbe().probe(clips["fs.mp4"])
    assert info.format_name.startswith("mov,mp4")
    assert info.size_bytes == clips["fs.mp4"].stat().st_size
    assert info.duration == pytest.approx(4.0, abs=0.1)
    assert info.bit_rate and info.bit_rate > 0
    assert info.video is not None and info.audio is not None
    assert (info.video.codec, info.video.width, info.video.height) == ("h264", 320, 240)
    assert info.video.fps == pytest.approx(25.0)
    assert info.video.frame_count == 100
    assert info.video.duration == pytest.approx(4.0, abs=0.05)
    assert (info.audio.codec, info.audio.sample_rate, info.audio.channels) == ("aac", 48000, 1)


def test_probe_audio_only_and_video_only(clips: dict[str, Path]) -> None:
    audio = PyAVProbe().probe(clips["audio.m4a"])
    assert audio.video is None and audio.audio is not None and audio.audio.sample_rate == 16000
    video = PyAVProbe().probe(clips["video.mp4"])
    assert video.audio is None and video.video is not None


@pytest.mark.parametrize("name", ["empty.mp4", "text.mp4", "cut50_end.mp4", "missing.mp4"])
def test_unreadable_files_raise_media_error(clips: dict[str, Path], name: str) -> None:
    path = clips.get(name, clips["fs.mp4"].parent / name)
    for call in (
        lambda: PyAVProbe().probe(path),
        lambda: _scan(path),
        lambda: PyAVAudioSource().stream(path),  # raises at once, before the first block
    ):
        with pytest.raises(MediaError) as info:
            call()
        assert "/" in info.value.message and str(path.name) in info.value.message  # zh-CN / English


def test_full_scan_samples_by_time_and_reports_integrity(clips: dict[str, Path]) -> None:
    report, frames = _scan(clips["fs.mp4"], fps=2.0, max_width=160)
    assert report.complete and report.errors == () and report.gaps == ()
    assert report.frames_decoded == 100
    assert report.first_pts == pytest.approx(0.0) and report.last_pts == pytest.approx(3.96)
    assert len(frames) == pytest.approx(4.0 * 2.0, abs=1)
    times = [f.t for f in frames]
    assert all(b - a == pytest.approx(0.5, abs=0.05) for a, b in itertools.pairwise(times))
    image = frames[0].image
    assert image.shape == (120, 160, 3) and image.dtype == np.uint8  # aspect kept, RGB
    # testsrc2 has colour bars: the picture is not a flat grey
    assert image.std() > 20


def test_small_frames_are_not_upscaled(clips: dict[str, Path]) -> None:
    _, frames = _scan(clips["fs.mp4"], fps=1.0, max_width=640)
    assert frames[0].image.shape == (240, 320, 3)


def test_nonref_mode_keeps_sampling_and_truncation_evidence(clips: dict[str, Path]) -> None:
    full, full_frames = _scan(clips["fs.mp4"], fps=1.0, mode="all")
    fast, fast_frames = _scan(clips["fs.mp4"], fps=1.0, mode="nonref")
    assert fast.complete and len(fast_frames) == len(full_frames)
    assert fast.frames_decoded <= full.frames_decoded
    cut, _ = _scan(clips["cut50_fs.mp4"], fps=1.0, mode="nonref")
    assert not cut.complete


def test_skipping_the_loop_filter_still_decodes_every_frame(clips: dict[str, Path]) -> None:
    frames: list[VideoFrame] = []
    options = DecodeOptions(mode="all", skip_loop_filter=True)
    report = PyAVFrameSource(options).scan(clips["fs.mp4"], fps=1.0, on_frame=frames.append)
    assert report.complete and report.frames_decoded == 100 and len(frames) == 4


def test_timestamp_jump_is_reported_as_a_gap(clips: dict[str, Path]) -> None:
    report, frames = _scan(clips["gap.mp4"], fps=1.0)
    assert report.complete
    assert len(report.gaps) == 1
    start, end = report.gaps[0]
    assert start == pytest.approx(1.96, abs=0.05) and end == pytest.approx(5.0, abs=0.05)
    assert not any(2.0 < f.t < 5.0 for f in frames)
    assert _scan(clips["gap.mp4"], fps=1.0, gap_threshold=5.0)[0].gaps == ()


def test_variable_frame_rate_is_sampled_by_time(clips: dict[str, Path]) -> None:
    report, frames = _scan(clips["vfr.mp4"], fps=2.0)
    assert report.complete and report.gaps == ()
    assert 60 + 20 - 2 <= report.frames_decoded <= 60 + 20 + 2
    assert len(frames) == pytest.approx(8, abs=1)
    assert frames[-1].t == pytest.approx(3.5, abs=0.15)  # by index it would stop near 2.6 s


@pytest.mark.parametrize("name", ["cut50_fs.mp4", "cut80_fs.mp4"])
def test_truncated_faststart_file_is_incomplete(clips: dict[str, Path], name: str) -> None:
    # the header still describes 4 s, the data stops early: the scan says so instead of raising
    report, frames = _scan(clips[name], fps=1.0)
    assert not report.complete
    assert report.errors and all(e.split("s:", 1)[0].replace(".", "").isdigit() for e in report.errors)
    assert report.last_pts is not None and report.last_pts < 3.8
    assert frames
    samples, audio = _audio(clips[name])
    assert not audio.complete
    assert len(samples) / 16000 < 3.8


def test_audio_is_mono_float32_at_the_requested_rate(clips: dict[str, Path]) -> None:
    assert PyAVAudioSource().stream(clips["fs.mp4"], sample_rate=16000).sample_rate == 16000
    samples, report = _audio(clips["fs.mp4"], sample_rate=16000)
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert len(samples) / 16000 == pytest.approx(4.0, abs=0.05)
    assert report.complete and report.gaps == ()
    spectrum = np.abs(np.fft.rfft(samples[16000:32000]))
    assert np.argmax(spectrum) == pytest.approx(440, abs=2)  # 1-s window: bin = Hz
    assert 0.05 < float(np.abs(samples).max()) <= 1.0
    other, _ = _audio(clips["fs.mp4"], sample_rate=8000)
    assert len(other) / 8000 == pytest.approx(4.0, abs=0.05)


def test_audio_blocks_have_the_requested_length_and_cut_nothing(clips: dict[str, Path]) -> None:
    blocks = list(PyAVAudioSource().stream(clips["agap.mkv"], block_seconds=0.37))
    assert {len(b) for b in blocks[:-1]} == {round(0.37 * 16000)} and 0 < len(blocks[-1]) <= 5920
    assert all(b.dtype == np.float32 and b.ndim == 1 for b in blocks)
    whole, report = _audio(clips["agap.mkv"], block_seconds=600)
    assert np.array_equal(np.concatenate(blocks), whole)  # the hole is padded the same way
    assert report == _audio(clips["agap.mkv"], block_seconds=0.37)[1]


def test_audio_blocks_report_only_at_the_end_and_close_early(clips: dict[str, Path]) -> None:
    blocks = PyAVAudioSource().stream(clips["fs.mp4"], block_seconds=1.0)
    first = next(blocks)
    assert len(first) == 16000 and blocks.report is None
    report = blocks.finish()  # the rest is read and dropped: the evidence of the whole stream
    assert report is not None and report.complete and report is blocks.report
    with PyAVAudioSource().stream(clips["fs.mp4"], block_seconds=1.0) as early:
        next(early)
    assert early.report is None and list(early) == []  # closed: the file is released


def test_audio_only_file_and_video_only_file(clips: dict[str, Path]) -> None:
    samples, report = _audio(clips["audio.m4a"])
    assert len(samples) / 16000 == pytest.approx(3.0, abs=0.05) and report.complete
    with pytest.raises(MediaError, match="no audio stream"):
        PyAVAudioSource().stream(clips["video.mp4"])
    with pytest.raises(MediaError, match="no video stream"):
        _scan(clips["audio.m4a"])


def test_audio_stays_on_the_recording_timeline(clips: dict[str, Path]) -> None:
    late, _ = _audio(clips["late.mp4"], block_seconds=0.25)
    assert np.abs(late[: int(0.9 * 16000)]).max() == 0.0  # before the audio starts: silence
    assert np.abs(late[int(1.1 * 16000) : int(2.9 * 16000)]).max() > 0.05
    s, holed = _audio(clips["agap.mkv"], block_seconds=0.25)
    assert len(holed.gaps) == 1
    assert holed.gaps[0][1] == pytest.approx(4.0, abs=0.1)
    assert len(s) / 16000 == pytest.approx(6.0, abs=0.1)
    assert np.abs(s[int(2.2 * 16000) : int(3.8 * 16000)]).max() == 0.0
    assert np.abs(s[int(4.2 * 16000) : int(5.8 * 16000)]).max() > 0.05


def test_scan_memory_is_bounded_by_the_consumer(clips: dict[str, Path]) -> None:
    # frames are handed over one at a time: a consumer that keeps nothing sees every sample
    seen = 0

    def count(frame: VideoFrame) -> None:
        nonlocal seen
        seen += 1
        assert frame.image.flags.c_contiguous

    report = PyAVFrameSource().scan(clips["fs.mp4"], fps=25.0, on_frame=count)
    assert seen == report.frames_decoded == 100


def test_invalid_arguments(clips: dict[str, Path]) -> None:
    with pytest.raises(ValueError, match="positive"):
        _scan(clips["fs.mp4"], fps=0.0)
    with pytest.raises(ValueError, match="positive"):
        PyAVAudioSource().stream(clips["fs.mp4"], sample_rate=0)
    with pytest.raises(ValueError, match="positive"):
        PyAVAudioSource().stream(clips["fs.mp4"], block_seconds=0)
