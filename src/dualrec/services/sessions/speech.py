"""Server-side speech for the customer's page, for browsers without a Mandarin voice.

``SpeechAudioCache.audio_for(text, voice, rate)`` returns a WAV file and its SHA-256. Flows speak the
same texts to every customer, so results are kept under ``cache_key(text, voice, rate)`` — in a
directory (one file per key, written atomically, the oldest files removed beyond ``max_bytes``) and
in a small in-memory LRU. Concurrent requests for one key synthesise it once.

Texts can carry personal data (a greeting with the customer's name): the file names are hashes, but
the audio itself speaks the text, so the cache directory belongs under the data directory with the
same protection as the rest of it.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from collections import OrderedDict
from pathlib import Path
from typing import Literal

from dualrec.errors import InvalidInputError
from dualrec.i18n import msg
from dualrec.media.ports import SpeechSynthesizer

__all__ = ["MAX_TEXT_CHARS", "SpeechAudioCache", "cache_key"]

logger = logging.getLogger(__name__)

Voice = Literal["female", "male"]
MAX_TEXT_CHARS = 2000
_KEY_VERSION = "1"


def cache_key(text: str, voice: Voice, rate: int) -> str:
    """SHA-256 of ``text|voice|rate`` (the text stripped): equal keys, equal audio."""
    return hashlib.sha256(f"{_KEY_VERSION}|{text.strip()}|{voice}|{rate}".encode()).hexdigest()


class SpeechAudioCache:
    def __init__(
        self,
        synth: SpeechSynthesizer,
        cache_dir: Path | None = None,
        *,
        max_bytes: int = 256 * 1024 * 1024,
        memory_entries: int = 32,
    ) -> None:
        self._synth = synth
        self._dir = cache_dir
        self._max_bytes = max_bytes
        self._memory: OrderedDict[str, tuple[bytes, str]] = OrderedDict()
        self._memory_entries = memory_entries
        self._lock = threading.Lock()
        self._key_locks: dict[str, tuple[threading.Lock, list[int]]] = {}  # lock, waiters
        if cache_dir is not None:
            cache_dir.mkdir(parents=True, exist_ok=True)

    def audio_for(self, text: str, voice: Voice = "female", rate: int = 170) -> tuple[bytes, str]:
        """(WAV bytes, SHA-256 of those bytes)."""
        text = text.strip()
        if not text:
            raise InvalidInputError(msg("sessions.nothing_synthesise_empty_text"))
        if len(text) > MAX_TEXT_CHARS:
            raise InvalidInputError(
                msg("sessions.text_longer_than_characters", MAX_TEXT_CHARS=MAX_TEXT_CHARS)
            )
        if voice not in ("female", "male"):
            raise InvalidInputError(msg("sessions.voice_must_female_male"))
        key = cache_key(text, voice, rate)
        with self._lock:
            entry = self._key_locks.setdefault(key, (threading.Lock(), [0]))
            entry[1][0] += 1
        try:
            with entry[0]:  # one synthesis per key at a time; the others wait and read the result
                found = self._lookup(key)
                if found is None:
                    wav = self._synth.synthesize(text, voice=voice, rate=rate)
                    found = (wav, hashlib.sha256(wav).hexdigest())
                    self._write(key, wav)
                self._remember(key, found)
                return found
        finally:
            with self._lock:
                entry[1][0] -= 1
                if entry[1][0] == 0:
                    del self._key_locks[key]

    def _lookup(self, key: str) -> tuple[bytes, str] | None:
        with self._lock:
            if key in self._memory:
                self._memory.move_to_end(key)
                return self._memory[key]
        path = self._path(key)
        if path is None:
            return None
        try:
            wav = path.read_bytes()
            path.touch()  # recently used: pruned last
        except FileNotFoundError:  # never written, or pruned meanwhile
            return None
        return wav, hashlib.sha256(wav).hexdigest()

    def _remember(self, key: str, found: tuple[bytes, str]) -> None:
        with self._lock:
            self._memory[key] = found
            self._memory.move_to_end(key)
            while len(self._memory) > self._memory_entries:
                self._memory.popitem(last=False)

    def _path(self, key: str) -> Path | None:
        return None if self._dir is None else self._dir / key[:2] / f"{key}.wav"

    def _write(self, key: str, wav: bytes) -> None:
        path = self._path(key)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{key}.{uuid.uuid4().hex[:8]}.part")
        tmp.write_bytes(wav)
        tmp.replace(path)
        self._prune()

    def _prune(self) -> None:
        """Remove the least recently used files until the directory fits in ``max_bytes``."""
        assert self._dir is not None
        files = []
        for p in self._dir.glob("*/*.wav"):
            try:
                st = p.stat()
            except FileNotFoundError:
                continue
            files.append((st.st_mtime, st.st_size, p))
        total = sum(size for _, size, _ in files)
        for _mtime, size, path in sorted(files):
            if total <= self._max_bytes:
                break
            path.unlink(missing_ok=True)
            total -= size
            logger.info("speech cache: removed %s", path.name)
