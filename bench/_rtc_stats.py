"""What the aiortc load generator (bench/_rtc_aiortc.py) decides from what one side of a call received:
no aiortc here, so the unit tests run without it.

A side "carries" the call when, over the last ``window`` seconds before the end of the hold, it still
received the other party's video at ≥ 10 frames per second (whole VP8 frames out of the jitter
buffer, counted without decoding them) and its audio at ≥ 25 Opus packets per second (20 ms packets:
50 a second when nothing is lost).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field

MIN_FPS = 10.0
MIN_AUDIO_PPS = 25.0
WINDOW_S = 5.0


@dataclass
class Arrivals:
    """Arrival times (monotonic seconds, ascending) of one received stream's frames or packets."""

    times: list[float] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)

    def add(self, at: float, size: int = 0) -> None:
        self.times.append(at)
        self.sizes.append(size)

    @property
    def first(self) -> float | None:
        return self.times[0] if self.times else None

    def rate(self, end: float, window: float = WINDOW_S) -> float:
        """Arrivals per second in (end - window, end]."""
        return self._count(end - window, end) / window

    def kbps(self, end: float, window: float = WINDOW_S) -> float:
        lo = bisect.bisect_right(self.times, end - window)
        hi = bisect.bisect_right(self.times, end)
        return sum(self.sizes[lo:hi]) * 8 / 1000 / window

    def _count(self, start: float, end: float) -> int:
        return bisect.bisect_right(self.times, end) - bisect.bisect_right(self.times, start)


def carried(video: Arrivals, audio: Arrivals, end: float, window: float = WINDOW_S) -> bool:
    """Whether this side still received the other's video (≥ MIN_FPS) and audio (≥ MIN_AUDIO_PPS)
    over the window before ``end``."""
    return video.rate(end, window) >= MIN_FPS and audio.rate(end, window) >= MIN_AUDIO_PPS


def set_up_time(started: float, firsts: Sequence[float | None]) -> float | None:
    """From the generator's first request of a call until every stream of both sides delivered its
    first frame/packet; None when one never did."""
    if not firsts or any(f is None for f in firsts):
        return None
    return max(f for f in firsts if f is not None) - started


def vp8_keyframe_size(payload: bytes) -> tuple[int, int] | None:
    """Width and height of a VP8 key frame (RFC 6386 §9.1: the frame tag's bit 0 clear, then the start
    code 9d 01 2a and two 14-bit little-endian sizes); None for an inter frame or anything else."""
    if len(payload) < 10 or payload[0] & 1 or payload[3:6] != b"\x9d\x01\x2a":
        return None
    width = int.from_bytes(payload[6:8], "little") & 0x3FFF
    height = int.from_bytes(payload[8:10], "little") & 0x3FFF
    return width, height


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank ``q`` quantile (NaN when empty)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]
