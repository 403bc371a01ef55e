"""Transcode/remux to web-playable MP4 with the ffmpeg CLI."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import av
import pytest

from dualrec.errors import MediaError
from dualrec.media.probe import PyAVProbe
from dualrec.media.transcode import concat_mp4, remux_to_mp4, transcode_to_mp4
from tests.conftest import TEST_DATA

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg CLI not installed")


@pytest.fixture(scope="module")
def webm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What a browser's MediaRecorder produces: VP8 + Opus in WebM."""
    path = tmp_path_factory.mktemp("src") / "browser.webm"
    video = ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=15:duration=2"]
    audio = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=2"]
    codecs = ["-c:v", "libvpx", "-deadline", "realtime", "-b:v", "300k", "-c:a", "libopus"]
    subprocess.run(["ffmpeg", "-v", "error", "-y", *video, *audio, *codecs, str(path)], check=True)
    return path


def _moov_before_mdat(path: Path) -> bool:
    data = path.read_bytes()
    return 0 <= data.find(b"moov") < data.find(b"mdat")


def test_webm_becomes_h264_aac_faststart_mp4(webm: Path, tmp_path: Path) -> None:
    out = transcode_to_mp4(webm, tmp_path / "out" / "rec.mp4")
    info = PyAVProbe().probe(out)
    assert info.video is not None and info.audio is not None
    assert (info.video.codec, info.audio.codec) == ("h264", "aac")
    assert (info.video.width, info.video.height) == (320, 240)
    assert info.duration == pytest.approx(2.0, abs=0.15)
    assert _moov_before_mdat(out)
    assert [p.name for p in out.parent.iterdir()] == ["rec.mp4"]  # no temporary file left


def test_height_is_capped_keeping_the_aspect_ratio(webm: Path, tmp_path: Path) -> None:
    info = PyAVProbe().probe(transcode_to_mp4(webm, tmp_path / "small.mp4", max_height=120))
    assert info.video is not None and (info.video.width, info.video.height) == (160, 120)
    info = PyAVProbe().probe(transcode_to_mp4(webm, tmp_path / "same.mp4", max_height=1080))
    assert info.video is not None and info.video.height == 240  # never upscaled


def test_remux_copies_streams(webm: Path, tmp_path: Path) -> None:
    h264 = transcode_to_mp4(webm, tmp_path / "a.mp4")
    moved = remux_to_mp4(h264, tmp_path / "b.mp4")
    assert PyAVProbe().probe(moved).video == PyAVProbe().probe(h264).video
    assert _moov_before_mdat(moved)


def test_broken_input_raises_and_leaves_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.webm"
    bad.write_text("not a recording")
    with pytest.raises(MediaError, match="transcoding failed"):
        transcode_to_mp4(bad, tmp_path / "out" / "x.mp4")
    assert list((tmp_path / "out").iterdir()) == []
    with pytest.raises(MediaError, match="not found"):
        transcode_to_mp4(tmp_path / "missing.webm", tmp_path / "y.mp4")


def _video_frames(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for p in container.demux(video=0) if p.size)


def test_a_browser_segment_with_an_uneven_start_keeps_its_frames_and_joins_on_one_timeline(
    webm: Path, tmp_path: Path
) -> None:
    """A real MediaRecorder segment whose first seconds are uneven (FFmpeg guesses 1000 fps): it
    keeps its own frames (no copies up to 1000 per second), and joined after another segment the
    recording is as long as both, its picture as long as its sound."""
    uneven = TEST_DATA / "browser" / "uneven_start.webm"
    recorded = _video_frames(uneven)
    out = transcode_to_mp4(uneven, tmp_path / "uneven.mp4")
    assert _video_frames(out) <= recorded + 2, (_video_frames(out), recorded)
    first = transcode_to_mp4(webm, tmp_path / "first.mp4")
    joined = concat_mp4([first, out], tmp_path / "joined.mp4")
    parts = [PyAVProbe().probe(p).duration or 0.0 for p in (first, out)]
    info = PyAVProbe().probe(joined)
    assert info.duration == pytest.approx(sum(parts), abs=0.2), (info.duration, parts)
    assert info.duration == pytest.approx(2.0 + 11.8, abs=0.5)
    with av.open(str(joined)) as container:
        v, a = container.streams.video[0], container.streams.audio[0]
        video_s = float((v.duration or 0) * v.time_base)
        audio_s = float((a.duration or 0) * a.time_base)
    assert abs(video_s - audio_s) < 1.5, (video_s, audio_s)
