"""Simplified Chinese for every transcript, whatever the recogniser wrote.

Whisper writes traditional characters for some speakers and topics (廣州市 for 广州市) even with a
simplified prompt. Every transcript is converted with OpenCC (the ``opencc`` wheel of the OpenCC
project, Apache-2.0, its dictionaries inside the wheel: nothing is downloaded) before anything
matches, shows or reports it: QC (``pipeline.transcribe``) and the live session's spoken answers
(``bootstrap.sessions.wav_transcriber``).

The ``t2s`` configuration is used: traditional characters and phrases to simplified, without
regional vocabulary changes (``tw2sp`` would also replace Taiwanese words with mainland ones, which
changes what was said). Simplified text passes through unchanged.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import replace
from typing import Any

from dualrec.errors import EngineUnavailableError
from dualrec.i18n import msg
from dualrec.media.ports import TranscriptSegment

__all__ = ["simplified_segment", "to_simplified"]

_lock = threading.Lock()  # one converter shared by the transcription threads


@functools.cache
def _converter() -> Any:
    try:
        import opencc
    except ImportError as exc:
        raise EngineUnavailableError(
            msg("media.traditional_simplified_converter_opencc_installed"),
            details={"engine": "opencc"},
        ) from exc
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """``text`` in simplified characters (raises ``EngineUnavailableError`` without OpenCC)."""
    if not text or text.isascii():
        return text
    converter = _converter()
    with _lock:
        return str(converter.convert(text))


def simplified_segment(segment: TranscriptSegment) -> TranscriptSegment:
    """The segment with its text and its words' texts in simplified characters (times and scores kept)."""
    words = tuple(replace(w, text=to_simplified(w.text)) for w in segment.words)
    return replace(segment, text=to_simplified(segment.text), words=words)
