"""Transcode/remux to web-playable MP4 with the ffmpeg CLI."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from dualrec.errors import MediaError
from dualrec.media.probe import PyAVProbe
from dualrec.media.transcode import remux_to_mp4, transcode_to_mp4

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
