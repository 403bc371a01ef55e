"""bench/_rtc_stats.py: what the aiortc load generator calls a carried call, its set-up time, the VP8
key frame size it reports (the generator itself needs Janus and aiortc: bench only)."""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

import av
import pytest
from bench._rtc_stats import Arrivals, carried, percentile, set_up_time, vp8_keyframe_size


def _stream(rate: float, start: float, end: float, size: int = 100) -> Arrivals:
    out = Arrivals()
    n = int((end - start) * rate)
    for i in range(n):
        out.add(start + i / rate, size)
    return out


def test_a_call_receiving_video_and_audio_to_the_end_is_carried() -> None:
    video, audio = _stream(25, 0, 30), _stream(50, 0, 30)
    assert carried(video, audio, end=30)
    assert video.rate(30) == pytest.approx(25, abs=0.3)
    assert video.kbps(30) == pytest.approx(25 * 100 * 8 / 1000, rel=0.02)


def test_video_that_slowed_below_10_fps_at_the_end_is_not_carried() -> None:
    video = _stream(25, 0, 24)
    for t in range(240, 300, 2):  # 5 fps over the last six seconds
        video.add(t / 10)
    audio = _stream(50, 0, 30)
    assert video.rate(30) < 10
    assert not carried(video, audio, end=30)
    # the same stream judged before it slowed down was carried
    assert carried(video, audio, end=23)


def test_video_that_stopped_or_audio_that_stopped_is_not_carried() -> None:
    assert not carried(_stream(25, 0, 20), _stream(50, 0, 30), end=30)  # video stopped at 20 s
    assert not carried(_stream(25, 0, 30), _stream(50, 0, 20), end=30)  # audio stopped
    assert not carried(_stream(25, 0, 30), _stream(20, 0, 30), end=30)  # 20 packets/s: lossy audio
    assert not carried(Arrivals(), Arrivals(), end=30)


def test_set_up_time_waits_for_every_stream_of_both_sides() -> None:
    assert set_up_time(10.0, [11.0, 11.5, 12.25, 11.1]) == pytest.approx(2.25)
    assert set_up_time(10.0, [11.0, None, 12.0, 11.0]) is None
    assert set_up_time(10.0, []) is None


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 21)]
    assert percentile(values, 0.5) == 11.0
    assert percentile(values, 0.95) == 19.0
    assert percentile([3.0], 0.95) == 3.0
    assert math.isnan(percentile([], 0.5))


def test_vp8_key_frame_size_of_real_libvpx_output(tmp_path: Path) -> None:
    """Real FFmpeg/libvpx frames: the first is a key frame of the encoded size, the next is not."""
    out = tmp_path / "v.webm"
    subprocess.run(
        [
            *("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x176:rate=10", "-t", "0.5"),
            *("-c:v", "libvpx", "-g", "100", str(out)),
        ],
        check=True,
        timeout=60,
    )
    with av.open(str(out)) as container:
        frames = [bytes(p) for p in container.demux(video=0) if p.size]
    assert vp8_keyframe_size(frames[0]) == (320, 176)
    assert vp8_keyframe_size(frames[1]) is None
    assert vp8_keyframe_size(b"\x00" * 4) is None
