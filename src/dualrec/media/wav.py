"""Spoken answers as the pages send them: 16-bit PCM WAV, decoded to 16 kHz mono samples."""

from __future__ import annotations

import io
import wave

from dualrec.errors import InvalidInputError
from dualrec.i18n import msg

__all__ = ["MAX_ANSWER_SECONDS", "decode_wav"]

MAX_ANSWER_SECONDS = 60.0


def decode_wav(data: bytes) -> tuple[object, int]:
    """16-bit PCM WAV (any rate, mono or stereo) → float32 mono samples at 16 kHz."""
    import numpy as np

    try:
        with wave.open(io.BytesIO(data)) as w:
            if w.getsampwidth() != 2:
                raise InvalidInputError(msg("bootstrap.audio_must_16_bit_pcm"))
            rate, channels, frames = w.getframerate(), w.getnchannels(), w.getnframes()
            if not 8000 <= rate <= 48000 or channels not in (1, 2):
                raise InvalidInputError(msg("bootstrap.unsupported_audio_format"))
            if frames / rate > MAX_ANSWER_SECONDS:
                raise InvalidInputError(
                    msg("bootstrap.answer_audio_too_long", MAX_ANSWER_SECONDS=MAX_ANSWER_SECONDS)
                )
            pcm = np.frombuffer(w.readframes(frames), dtype="<i2").astype(np.float32) / 32768.0
    except (wave.Error, EOFError) as exc:
        raise InvalidInputError(msg("bootstrap.valid_wav_file")) from exc
    if channels == 2:
        pcm = pcm.reshape(-1, 2).mean(axis=1)
    if rate != 16000 and pcm.size:
        n = round(pcm.size * 16000 / rate)
        pcm = np.interp(np.linspace(0, pcm.size - 1, n), np.arange(pcm.size), pcm).astype(np.float32)
    return pcm, 16000
