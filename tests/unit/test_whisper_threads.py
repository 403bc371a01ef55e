"""CTranslate2 threads: an explicit count is kept; 0 shares the usable cores among the workers."""

from __future__ import annotations

import os

from dualrec.media.models.whisper_asr import _threads


def test_explicit_thread_counts_are_kept() -> None:
    assert _threads(1) == 1 and _threads(6) == 6


def test_zero_shares_the_usable_cores_among_the_workers() -> None:
    cores = len(os.sched_getaffinity(0))
    assert _threads(0) == max(1, min(4, cores))
    assert _threads(0, workers=2) == max(1, min(4, cores // 2))
    assert _threads(0, workers=64) == 1
