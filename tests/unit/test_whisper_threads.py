"""CTranslate2 threads: an explicit count is kept; 0 means one per usable core, at most 4."""

from __future__ import annotations

import os

from dualrec.media.models.whisper_asr import _threads


def test_explicit_thread_counts_are_kept() -> None:
    assert _threads(1) == 1 and _threads(6) == 6


def test_zero_means_the_usable_cores_up_to_four() -> None:
    assert _threads(0) == max(1, min(4, len(os.sched_getaffinity(0))))
