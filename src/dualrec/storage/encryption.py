"""Envelope encryption at rest for any blob store: ``EncryptedBlobStore(inner, keyring)``.

Every object gets its own random data key, wrapped by the active master key; the payload is
encrypted in 64 KiB AEAD records (AES-256-GCM, or SM4-GCM for 国密), streamed in and out with
bounded memory. Range reads decrypt only the records they touch. The format is described in
``dualrec.storage.envelope``. Any failed check raises ``BlobIntegrityError`` (a ``MediaError``),
never returns unauthenticated bytes.

The inner store must be able to write under a key chosen by the caller (``put_as``): the object
key is bound into every record, so the key has to be known before the first byte is encrypted.
"""

from __future__ import annotations

import io
import struct
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from typing import BinaryIO, Protocol

from dualrec.errors import InvalidInputError, NotFoundError
from dualrec.i18n import msg
from dualrec.storage.envelope import (
    CHUNK_BYTES,
    MAX_HEADER_BYTES,
    TAG_BYTES,
    BlobIntegrityError,
    Header,
    Layout,
    aead_for,
    integrity_error,
)
from dualrec.storage.keys import Keyring
from dualrec.storage.ports import BlobRef, BlobStat, BlobStore, Readable, check_content_type, check_key
from dualrec.storage.sealed_streams import (
    CopyWithNewHeader,
    DecryptingRaw,
    EncryptingReader,
    Envelope,
    stored_range,
)

__all__ = ["EncryptedBlobStore", "KeyedBlobStore", "rewrap_blobs"]

MAX_RANGE_BYTES = 60 * 1024 * 1024  # leaves room for the tags under the inner stores' 64 MiB range cap
RECENT_ENVELOPES = 256  # headers/data keys of recently range-read blobs, kept for playback seeks


class KeyedBlobStore(BlobStore, Protocol):
    def put_as(
        self,
        key: str,
        data: bytes | Readable,
        *,
        content_type: str,
        max_bytes: int | None = None,
        replace: bool = False,
    ) -> BlobRef:
        """Like ``put`` under a given key; ConflictError if it exists unless ``replace``."""
        ...


class EncryptedBlobStore:
    def __init__(
        self,
        inner: KeyedBlobStore,
        keyring: Keyring,
        *,
        algorithm: str = "aes-256-gcm",
        chunk_size: int = CHUNK_BYTES,
    ) -> None:
        aead_for(algorithm, b"\0" * (32 if algorithm == "aes-256-gcm" else 16))  # validates the name
        self._inner, self._keyring, self._algorithm, self._chunk_size = inner, keyring, algorithm, chunk_size
        self._recent: OrderedDict[str, Envelope] = OrderedDict()  # for range reads (video seeking)
        self._recent_lock = threading.Lock()

    @property
    def inner(self) -> KeyedBlobStore:
        return self._inner

    @property
    def algorithm(self) -> str:
        return self._algorithm

    def put(self, data: bytes | Readable, *, content_type: str, max_bytes: int | None = None) -> BlobRef:
        content_type = check_content_type(content_type)
        source: Readable = io.BytesIO(data) if isinstance(data, (bytes, bytearray)) else data
        key = uuid.uuid4().hex
        active = self._keyring.active
        header, data_key = Header.new(
            self._algorithm, active, self._keyring.key(active), key, self._chunk_size
        )
        reader = EncryptingReader(source, header, aead_for(self._algorithm, data_key), key, max_bytes)
        self._inner.put_as(key, reader, content_type=content_type)
        if not reader.done:  # the inner store stopped reading early: never keep a partial object
            self._inner.delete(key)
            raise InvalidInputError("blob input was not read to the end")
        return BlobRef(key=key, sha256=reader.sha256.hexdigest(), size=reader.size)

    def _envelope(self, key: str) -> Envelope:
        key = check_key(key)
        inner = self._inner.stat(key)
        header = Header.decode(stored_range(self._inner, key, 0, MAX_HEADER_BYTES) if inner.size else b"")
        data_key = header.unwrap(self._keyring.key(header.key_id), key)
        layout = Layout.from_stored_size(header.length, header.chunk_size, inner.size)
        env = Envelope(key, header, aead_for(header.algorithm, data_key), layout, "", inner)
        trailer = env.open_record(
            layout.chunks, stored_range(self._inner, key, layout.trailer_offset, layout.total)
        )
        size, digest = struct.unpack(">Q32s", trailer)
        if size != layout.plain_size:
            raise integrity_error("size in trailer does not match the stored size", key=key)
        return Envelope(key, header, env.aead, layout, digest.hex(), inner)

    def open(self, key: str) -> BinaryIO:
        env = self._envelope(key)
        return io.BufferedReader(DecryptingRaw(self._inner, env), buffer_size=env.layout.chunk_size)

    def read_range(self, key: str, start: int, end: int) -> bytes:
        if start < 0 or end < start:
            raise InvalidInputError(msg("storage.invalid_byte_range"), details={"start": start, "end": end})
        key = check_key(key)
        with self._recent_lock:
            env = self._recent.get(key)
        if env is None:
            return self._read_records(self._remember(self._envelope(key)), start, end)
        try:
            return self._read_records(env, start, end)
        except (BlobIntegrityError, NotFoundError):
            self._forget(key)  # changed since cached (re-wrapped, deleted): look again, from scratch
            return self._read_records(self._remember(self._envelope(key)), start, end)

    def _remember(self, env: Envelope) -> Envelope:
        with self._recent_lock:
            self._recent[env.key] = env
            self._recent.move_to_end(env.key)
            while len(self._recent) > RECENT_ENVELOPES:
                self._recent.popitem(last=False)
        return env

    def _forget(self, key: str) -> None:
        with self._recent_lock:
            self._recent.pop(key, None)

    def _read_records(self, env: Envelope, start: int, end: int) -> bytes:
        key = env.key
        layout = env.layout
        size = layout.plain_size
        if start >= size and not (start == 0 and size == 0):
            raise InvalidInputError(
                msg("storage.byte_range_beyond_end"), details={"start": start, "size": size}
            )
        end = min(end, size)
        if end - start > MAX_RANGE_BYTES:
            raise InvalidInputError(
                msg("storage.byte_range_too_large"), details={"limit_bytes": MAX_RANGE_BYTES}
            )
        if start == end:
            return b""
        first, last = start // layout.chunk_size, (end - 1) // layout.chunk_size
        stop = layout.chunk_offset(last) + layout.chunk_plain_len(last) + TAG_BYTES
        sealed = stored_range(self._inner, key, layout.chunk_offset(first), stop)
        if len(sealed) != stop - layout.chunk_offset(first):
            raise integrity_error("stored object truncated", key=key)
        step = layout.chunk_size + TAG_BYTES
        view = memoryview(sealed)
        out = bytearray()
        for i in range(first, last + 1):
            plain = env.open_record(i, view[(i - first) * step : (i - first + 1) * step])
            lo = max(start - i * layout.chunk_size, 0)
            hi = min(end - i * layout.chunk_size, len(plain))
            out += plain if (lo, hi) == (0, len(plain)) else plain[lo:hi]
        return bytes(out)

    def exists(self, key: str) -> bool:
        return self._inner.exists(key)

    def stat(self, key: str) -> BlobStat:
        env = self._envelope(key)
        return BlobStat(
            key=env.key,
            sha256=env.sha256,
            size=env.layout.plain_size,
            content_type=env.inner.content_type,
            created_at=env.inner.created_at,
        )

    def delete(self, key: str) -> bool:
        self._forget(check_key(key))
        return self._inner.delete(key)

    def key_id_of(self, key: str) -> str:
        """The master key id the blob's data key is wrapped under."""
        return self._envelope(key).header.key_id

    def rewrap(self, key: str) -> bool:
        """Re-wrap the blob's data key under the active master key; the encrypted records are
        copied unchanged (not re-encrypted). False when it already uses the active key."""
        env = self._envelope(key)
        active = self._keyring.active
        if env.header.key_id == active:
            return False
        data_key = env.header.unwrap(self._keyring.key(env.header.key_id), env.key)
        header = env.header.wrapped_with(data_key, active, self._keyring.key(active), env.key)
        with self._inner.open(env.key) as stored:
            copy = CopyWithNewHeader(header.encode(), stored, env.layout.header_len)
            self._inner.put_as(env.key, copy, content_type=env.inner.content_type, replace=True)
        self._forget(env.key)
        return True


def rewrap_blobs(store: EncryptedBlobStore, keys: Iterable[str]) -> int:
    """Re-wrap every listed blob under the active master key; returns how many changed."""
    return sum(1 for key in keys if store.rewrap(key))
