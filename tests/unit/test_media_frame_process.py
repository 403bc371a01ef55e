"""The decoder in a child process gives the same frames and integrity evidence as the in-process
one, carries its errors across, and never outlives a scan (the analysis gave up, the child died)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from dualrec.errors import MediaError
from dualrec.media.decode import DecodeOptions, PyAVFrameSource
from dualrec.media.frame_process import ProcessFrameSource
from dualrec.media.ports import DecodeReport, VideoFrame

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg CLI not installed")


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("process_clips")
    p = {"av.mp4": d / "av.mp4", "audio.m4a": d / "audio.m4a", "long.mp4": d / "long.mp4"}
    src = ["-f", "lavfi", "-i", "testsrc2=size=800x448:rate=25:duration=4"]
    tone = ["-f", "lavfi", "-i", "sine=frequency=440:duration=4"]
    x264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    _ffmpeg(*src, *tone, *x264, "-c:a", "aac", "-shortest", "-movflags", "+faststart", str(p["av.mp4"]))
    _ffmpeg(*tone, "-c:a", "aac", str(p["audio.m4a"]))
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=120", *x264, str(p["long.mp4"]))
    cut = d / "cut.mp4"
    cut.write_bytes(p["av.mp4"].read_bytes()[: p["av.mp4"].stat().st_size // 2])
    p["cut.mp4"] = cut
    p["text.mp4"] = d / "text.mp4"
    p["text.mp4"].write_text("这不是视频 / not a video\n" * 20)
    return p


def _frames(
    source: PyAVFrameSource | ProcessFrameSource, path: Path
) -> tuple[list[VideoFrame], DecodeReport]:
    frames: list[VideoFrame] = []
    report = source.scan(path, fps=2.0, max_width=640, on_frame=frames.append)
    return frames, report


@pytest.mark.parametrize("name", ["av.mp4", "cut.mp4"])
def test_same_frames_and_report_as_decoding_in_process(clips: dict[str, Path], name: str) -> None:
    options = DecodeOptions(mode="all", threads=1)  # the same decoder on both sides
    here, here_report = _frames(PyAVFrameSource(options), clips[name])
    there, there_report = _frames(ProcessFrameSource(options, buffer_frames=2), clips[name])
    assert there_report == here_report
    assert [f.t for f in there] == [f.t for f in here] and len(here) >= 3
    assert all(np.array_equal(a.image, b.image) for a, b in zip(here, there, strict=True))
    assert there[0].image.shape == (358, 640, 3) and there[0].image.flags.writeable


def test_a_cut_file_reports_its_truncation_through_the_process(clips: dict[str, Path]) -> None:
    _, report = _frames(ProcessFrameSource(), clips["cut.mp4"])
    assert not report.complete and report.errors


@pytest.mark.parametrize(("name", "reason"), [("audio.m4a", "no_video"), ("text.mp4", None)])
def test_media_errors_come_back_with_their_message(
    clips: dict[str, Path], name: str, reason: str | None
) -> None:
    with pytest.raises(MediaError) as here:
        _frames(PyAVFrameSource(), clips[name])
    with pytest.raises(MediaError) as there:
        _frames(ProcessFrameSource(), clips[name])
    assert there.value.message == here.value.message
    if reason:
        assert there.value.details["reason"] == reason


def test_analysis_giving_up_stops_the_child_at_once(clips: dict[str, Path]) -> None:
    seen: list[float] = []

    def give_up(frame: VideoFrame) -> None:
        seen.append(frame.t)
        if len(seen) == 3:
            raise RuntimeError("analysis stopped")

    started = time.perf_counter()
    with pytest.raises(RuntimeError, match="analysis stopped"):
        ProcessFrameSource(buffer_frames=2).scan(clips["long.mp4"], fps=2.0, on_frame=give_up)
    assert len(seen) == 3 and time.perf_counter() - started < 20


def test_a_child_that_dies_mid_scan_is_a_media_error_not_a_hang(
    clips: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a "python" that writes half a frame and dies, as a decoder killed by the OOM killer would
    fake = tmp_path / "python"
    fake.write_text(
        "#!/bin/sh\n"
        "printf 'F' ; head -c 16 /dev/zero ; head -c 1000 /dev/zero\n"
        "echo 'killed while decoding' >&2 ; exit 137\n"
    )
    fake.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(fake))
    with pytest.raises(MediaError) as err:
        ProcessFrameSource().scan(clips["av.mp4"], fps=2.0, on_frame=lambda f: None)
    assert err.value.details["reason"] == "decoder_died"
    assert err.value.details["exit_code"] == 137
    assert "killed while decoding" in err.value.details["stderr"]


def test_a_child_that_hangs_is_stopped_and_reported_not_waited_for(
    clips: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\nprintf 'F'\nexec sleep 60\n")  # half a message, then nothing
    fake.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(fake))
    started = time.perf_counter()
    with pytest.raises(MediaError) as err:
        ProcessFrameSource(stall_seconds=1.0).scan(clips["av.mp4"], fps=2.0, on_frame=lambda f: None)
    assert err.value.details["reason"] == "decoder_stalled"
    assert time.perf_counter() - started < 10


def test_without_a_process_it_decodes_in_this_one(
    clips: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")
    frames, report = _frames(ProcessFrameSource(), clips["av.mp4"])
    assert len(frames) == 8 and report.complete


def test_frames_at_seeks_to_the_frame_shown_at_each_time(clips: dict[str, Path]) -> None:
    every: dict[float, VideoFrame] = {}
    PyAVFrameSource(DecodeOptions(mode="all")).scan(
        clips["av.mp4"], fps=25.0, on_frame=lambda f: every.setdefault(round(f.t, 3), f)
    )
    got = ProcessFrameSource().frames_at(clips["av.mp4"], [3.5, 0.51, 2.0, 99.0])
    assert [round(f.t, 2) for f in got] == [0.52, 2.0, 3.52]  # nothing at 99 s: past the end
    for frame in got:
        assert abs(frame.t - min((0.51, 2.0, 3.5), key=lambda t: abs(t - frame.t))) <= 0.021
        assert np.array_equal(frame.image, every[round(frame.t, 3)].image)
