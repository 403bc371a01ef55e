"""Voice activity detection with WebRTC's VAD (``webrtcvad``; model-free, BSD).

WebRTC classifies 30-ms frames of 16-bit PCM. Raw decisions flicker, so frames are smoothed:
frames quieter than an energy floor never count as speech (WebRTC alone calls hiss "speech"),
a region is kept when it lasts at least ``min_speech``, stays open through pauses shorter
than ``hangover`` (a breath inside a sentence does not split it), and is padded by ``padding``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from dualrec.errors import EngineUnavailableError
from dualrec.i18n import msg
from dualrec.media.ports import Device, Samples

__all__ = ["WebRtcVadOptions", "WebRtcVoiceActivityDetector"]

_RATES = (8000, 16000, 32000, 48000)
_FRAME_S = 0.03


@dataclass(frozen=True)
class WebRtcVadOptions:
    aggressiveness: int = 2  # 0 (keeps most) .. 3 (most aggressive at rejecting non-speech)
    hangover: float = 0.5  # seconds of non-speech that end a region
    min_speech: float = 0.15  # regions shorter than this are dropped
    padding: float = 0.06  # added on both sides of each region
    # WebRTC's decision ignores loudness and calls steady low hiss "speech"; frames quieter than
    # this (RMS, dBFS) are non-speech whatever it says. Room noise sits near -55, voice near -20.
    energy_floor_dbfs: float = -45.0
    device: Device = "cpu"


class WebRtcVoiceActivityDetector:
    """``VoiceActivityDetector`` on webrtcvad (CPU only, a few ms per minute of audio)."""

    def __init__(self, options: WebRtcVadOptions | None = None) -> None:
        self.options = options or WebRtcVadOptions()
        if not 0 <= self.options.aggressiveness <= 3:
            raise ValueError("aggressiveness must be 0..3")
        if self.options.device == "cuda":
            raise EngineUnavailableError(
                msg("media.webrtc_vad_runs_cpu_only"),
                details={"engine": "webrtcvad", "device": "cuda"},
            )
        try:
            import webrtcvad
        except ImportError as exc:
            raise EngineUnavailableError(
                msg("media.webrtcvad_installed_pip_install_webrtcvad"),
                details={"engine": "webrtcvad", "error": str(exc)},
            ) from exc
        self._vad: Any = webrtcvad.Vad(self.options.aggressiveness)
        self._lock = threading.Lock()

    def speech_segments(self, audio: Samples, *, sample_rate: int = 16000) -> list[tuple[float, float]]:
        pcm, rate = _pcm16(audio, sample_rate)
        frame_len = int(rate * _FRAME_S)
        n_frames = len(pcm) // frame_len
        frames = pcm[: n_frames * frame_len].reshape(n_frames, frame_len)
        floor = 10 ** (self.options.energy_floor_dbfs / 20)
        # per frame, 1000 frames at a time: float64 temporaries of 30 s, not of the whole call
        loud = np.concatenate(
            [np.zeros(0, dtype=bool)]
            + [
                np.sqrt(np.mean((frames[i : i + 1000].astype(np.float64) / 32768.0) ** 2, axis=1)) >= floor
                for i in range(0, n_frames, 1000)
            ]
        )
        with self._lock:
            voiced = [
                bool(loud[i]) and bool(self._vad.is_speech(frames[i].tobytes(), rate))
                for i in range(n_frames)
            ]
        return self._regions(voiced, duration=len(pcm) / rate)

    def _regions(self, voiced: list[bool], *, duration: float) -> list[tuple[float, float]]:
        opts = self.options
        hang = max(1, round(opts.hangover / _FRAME_S))
        regions: list[tuple[float, float]] = []
        start: int | None = None
        last_voiced = -1
        for i, is_speech in enumerate(voiced):
            if is_speech:
                if start is None:
                    start = i
                last_voiced = i
            elif start is not None and i - last_voiced >= hang:
                regions.append((start * _FRAME_S, (last_voiced + 1) * _FRAME_S))
                start = None
        if start is not None:
            regions.append((start * _FRAME_S, (last_voiced + 1) * _FRAME_S))
        out: list[tuple[float, float]] = []
        for begin, end in regions:
            if end - begin < opts.min_speech:
                continue
            begin, end = max(0.0, begin - opts.padding), min(duration, end + opts.padding)
            if out and begin <= out[-1][1]:
                out[-1] = (out[-1][0], end)
            else:
                out.append((round(begin, 3), round(end, 3)))
        return out


def _pcm16(audio: Samples, sample_rate: int) -> tuple[np.ndarray[Any, np.dtype[np.int16]], int]:
    """Mono float audio as int16 PCM at a rate WebRTC accepts (resampled to 16 kHz if needed)."""
    samples = np.asarray(audio, dtype=np.float32).reshape(-1)
    rate = sample_rate
    if rate not in _RATES:
        n_out = round(len(samples) * 16000 / rate)
        positions = np.arange(n_out, dtype=np.float64) * (rate / 16000)
        samples = np.interp(positions, np.arange(len(samples)), samples).astype(np.float32)
        rate = 16000
    pcm = (np.clip(samples, -1.0, 1.0) * 32767.0).astype(np.int16)
    return pcm, rate
