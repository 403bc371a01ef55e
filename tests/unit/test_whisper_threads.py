"""CTranslate2 threads: an explicit count is kept; 0 shares the usable cores among the workers.
A window's decoded tokens are held to what its speech can hold."""

from __future__ import annotations

import os
from pathlib import Path

from dualrec.media.models.whisper_asr import WhisperOptions, _threads, max_new_tokens


def test_explicit_thread_counts_are_kept() -> None:
    assert _threads(1) == 1 and _threads(6) == 6


def test_zero_shares_the_usable_cores_among_the_workers() -> None:
    cores = len(os.sched_getaffinity(0))
    assert _threads(0) == max(1, min(4, cores))
    assert _threads(0, workers=2) == max(1, min(4, cores // 2))
    assert _threads(0, workers=64) == 1


def test_a_short_window_may_decode_only_what_its_speech_can_hold() -> None:
    opts = WhisperOptions(model_dir=Path("/nonexistent"))
    # 3 s of speech: at most ~7 characters a second of ~1.6 tokens, not the 224 of a 30 s window
    assert 60 <= max_new_tokens(3.0, opts) <= 80
    assert max_new_tokens(8.0, opts) == 24 + 120
    assert max_new_tokens(30.0, opts) == opts.max_new_tokens == 224  # long audio: the fixed maximum
    assert max_new_tokens(0.0, opts) == 24
