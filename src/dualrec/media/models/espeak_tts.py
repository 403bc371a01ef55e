"""Mandarin speech synthesis with the ``espeak-ng`` binary (Debian package ``espeak-ng``, GPL-3).

Real and offline, robotic in quality; the customer's browser voice is usually better and is
preferred there. Text is passed on stdin (never as an argument, so a leading ``-`` cannot be
read as an option). ``espeak-ng --stdout`` writes a WAV header with placeholder sizes (it cannot
seek a pipe); the header is rewritten so the result is a complete, valid WAV file.
"""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import wave
from dataclasses import dataclass
from typing import Literal

from dualrec.errors import EngineUnavailableError, InvalidInputError
from dualrec.i18n import msg
from dualrec.media.ports import Device

__all__ = ["EspeakOptions", "EspeakSynthesizer"]

_VOICES = {"female": "cmn+f3", "male": "cmn"}


@dataclass(frozen=True)
class EspeakOptions:
    binary: str = "espeak-ng"
    timeout: float = 60.0
    device: Device = "cpu"


class EspeakSynthesizer:
    """``SpeechSynthesizer`` running ``espeak-ng -v cmn`` in a subprocess."""

    def __init__(self, options: EspeakOptions | None = None) -> None:
        self.options = options or EspeakOptions()
        if self.options.device == "cuda":
            raise EngineUnavailableError(
                msg("media.espeak_ng_runs_cpu_only"),
                details={"engine": "espeak-ng", "device": "cuda"},
            )
        found = shutil.which(self.options.binary)
        if found is None:
            raise EngineUnavailableError(
                msg("media.speech_synthesiser_binary_found_path", binary=self.options.binary),
                details={"engine": "espeak-ng", "binary": self.options.binary},
            )
        self._binary = found

    def synthesize(self, text: str, *, voice: Literal["female", "male"] = "female", rate: int = 170) -> bytes:
        text = text.strip()
        if not text:
            raise InvalidInputError(msg("media.nothing_synthesise_empty_text"))
        if not 80 <= rate <= 450:
            raise InvalidInputError(msg("media.speech_rate_out_range_80", rate=rate))
        cmd = [self._binary, "-v", _VOICES[voice], "-s", str(rate), "--stdout"]
        try:
            done = subprocess.run(
                cmd,
                input=text.encode("utf-8"),
                capture_output=True,
                timeout=self.options.timeout,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise EngineUnavailableError(
                msg("media.speech_synthesis_failed", exc=exc), details={"engine": "espeak-ng"}
            ) from exc
        if done.returncode != 0 or not done.stdout:
            raise EngineUnavailableError(
                "语音合成失败 / speech synthesis failed: " + done.stderr.decode("utf-8", "replace").strip(),
                details={"engine": "espeak-ng", "returncode": done.returncode},
            )
        return _complete_wav(done.stdout)


def _complete_wav(data: bytes) -> bytes:
    """Re-emit a streamed WAV (placeholder chunk sizes) as a WAV with the real sizes."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise EngineUnavailableError(msg("media.synthesiser_output_wav_file"))
    pos, fmt, pcm = 12, b"", b""
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        body = data[pos + 8 : pos + 8 + size]
        if cid == b"fmt ":
            fmt = body
        elif cid == b"data":
            pcm = body  # a placeholder size runs past the end: the slice stops at the real end
            break
        pos += 8 + size + (size & 1)
    if len(fmt) < 16:
        raise EngineUnavailableError(msg("media.synthesiser_wav_fmt_chunk"))
    _tag, channels, sample_rate, _byte_rate, block_align, bits = struct.unpack("<HHIIHH", fmt[:16])
    pcm = pcm[: len(pcm) - len(pcm) % block_align] if block_align else pcm
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(bits // 8)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm)
    return out.getvalue()
