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

import hashlib
import io
import struct
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO, Protocol

from cryptography.exceptions import InvalidTag

from dualrec.errors import InvalidInputError, NotFoundError
from dualrec.storage.envelope import (
    CHUNK_BYTES,
    MAX_HEADER_BYTES,
    TAG_BYTES,
    TRAILER_BYTES,
    Aead,
    BlobIntegrityError,
    Header,
    Layout,
    aead_for,
    integrity_error,
    record_aad,
    record_nonce,
)
from dualrec.storage.keys import Keyring
from dualrec.storage.ports import BlobRef, BlobStat, BlobStore, Readable, check_content_type, check_key

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


def _read_full(source: Readable, size: int) -> bytes:
    parts: list[bytes] = []
    missing = size
    while missing > 0:
        part = source.read(missing)
        if not part:
            break
        if not isinstance(part, (bytes, bytearray, memoryview)):
            raise InvalidInputError("blob input must yield bytes")
        parts.append(bytes(part))
        missing -= len(part)
    return b"".join(parts)


class _EncryptingReader:
    """Reads plaintext from ``source`` and yields header | encrypted chunks | trailer."""

    def __init__(self, source: Readable, header: Header, aead: Aead, key: str, max_bytes: int | None) -> None:
        self._source, self._header, self._aead, self._key = source, header, aead, key
        self._max_bytes = max_bytes
        self._buf = bytearray(header.encode())
        self._index = 0
        self.done = False
        self.sha256 = hashlib.sha256()
        self.size = 0

    def _seal(self, plain: bytes, *, last: bool) -> None:
        nonce = record_nonce(self._header, self._index)
        aad = record_aad(self._header, self._key, self._index, last=last)
        self._buf += self._aead.encrypt(nonce, plain, aad)
        self._index += 1

    def _fill(self) -> None:
        cs = self._header.chunk_size
        plain = _read_full(self._source, cs)
        if plain:
            self.size += len(plain)
            if self._max_bytes is not None and self.size > self._max_bytes:
                raise InvalidInputError(
                    "文件过大 / content too large", details={"limit_bytes": self._max_bytes}
                )
            self.sha256.update(plain)
            self._seal(plain, last=False)
        if len(plain) < cs:
            self._seal(struct.pack(">Q", self.size) + self.sha256.digest(), last=True)
            self.done = True

    def read(self, size: int = -1, /) -> bytes:
        want = size if size >= 0 else 1 << 62
        while len(self._buf) < want and not self.done:
            self._fill()
        out = bytes(self._buf[:want])
        del self._buf[:want]
        return out


class _CopyWithNewHeader:
    """For rewrap: a new header, then the stored records copied byte for byte (not re-encrypted)."""

    def __init__(self, header: bytes, stored: BinaryIO, skip: int) -> None:
        self._head = header
        self._stored = stored
        self._skip = skip

    def read(self, size: int = -1, /) -> bytes:
        if self._skip:
            _read_full(self._stored, self._skip)
            self._skip = 0
        if self._head:
            out, self._head = self._head[:size], self._head[size:]
            return out
        return self._stored.read(size)


@dataclass(frozen=True)
class _Envelope:
    key: str
    header: Header
    aead: Aead
    layout: Layout
    sha256: str
    inner: BlobStat

    def open_record(self, index: int, sealed: bytes | memoryview) -> bytes:
        last = index == self.layout.chunks
        aad = record_aad(self.header, self.key, index, last=last)
        try:
            return self.aead.decrypt(record_nonce(self.header, index), sealed, aad)
        except (InvalidTag, ValueError):
            raise integrity_error("record failed authentication", key=self.key, record=index) from None


def _stored_range(inner: BlobStore, key: str, start: int, end: int) -> bytes:
    """A range of the stored bytes; the inner store refusing it means the object is shorter."""
    try:
        return inner.read_range(key, start, end)
    except InvalidInputError:
        raise integrity_error("stored object truncated", key=key) from None


class _DecryptingRaw(io.RawIOBase):
    """Seekable plaintext view of an encrypted blob; reads the inner stream record by record."""

    def __init__(self, inner: KeyedBlobStore, env: _Envelope) -> None:
        super().__init__()
        self._inner, self._env = inner, env
        self._pos = 0
        self._stream: BinaryIO | None = None
        self._next = 0  # the record the inner stream is positioned at
        self._cached: tuple[int, bytes] | None = None
        self._end_checked = False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._env.layout.plain_size}[whence]
        if base + offset < 0:
            raise OSError("negative seek position")
        self._pos = base + offset
        return self._pos

    def _record(self, index: int) -> bytes:
        layout, key = self._env.layout, self._env.key
        length = layout.chunk_plain_len(index) + TAG_BYTES
        if self._stream is None:
            self._stream = self._inner.open(key)
            if len(_read_full(self._stream, layout.header_len)) != layout.header_len:
                raise integrity_error("stored object truncated", key=key)
        offset = layout.chunk_offset(index)
        if index == self._next:
            sealed = _read_full(self._stream, length)
            self._next = index + 1
        elif self._stream.seekable():
            self._stream.seek(offset)
            sealed = _read_full(self._stream, length)
            self._next = index + 1
        else:  # e.g. an S3 body: fetch the record by range, leave the stream where it is
            sealed = _stored_range(self._inner, key, offset, offset + length)
        if len(sealed) != length:
            raise integrity_error("stored object truncated", key=key, record=index)
        return self._env.open_record(index, sealed)

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        layout = self._env.layout
        if self._pos >= layout.plain_size:
            self._check_end()
            return 0
        index = self._pos // layout.chunk_size
        if self._cached is None or self._cached[0] != index:
            self._cached = (index, self._record(index))
        plain = self._cached[1]
        offset = self._pos - index * layout.chunk_size
        n = min(len(buffer), len(plain) - offset)
        buffer[:n] = plain[offset : offset + n]
        self._pos += n
        return n

    def _check_end(self) -> None:
        """After a sequential read to the end: exactly the trailer must follow (nothing appended)."""
        if self._end_checked or self._stream is None or self._next != self._env.layout.chunks:
            return
        tail = _read_full(self._stream, TRAILER_BYTES + 1)
        if len(tail) != TRAILER_BYTES:
            raise integrity_error("stored object has missing or extra bytes at the end", key=self._env.key)
        self._env.open_record(self._next, tail)
        self._end_checked = True

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None
        super().close()


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
        self._recent: OrderedDict[str, _Envelope] = OrderedDict()  # for range reads (video seeking)
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
        reader = _EncryptingReader(source, header, aead_for(self._algorithm, data_key), key, max_bytes)
        self._inner.put_as(key, reader, content_type=content_type)
        if not reader.done:  # the inner store stopped reading early: never keep a partial object
            self._inner.delete(key)
            raise InvalidInputError("blob input was not read to the end")
        return BlobRef(key=key, sha256=reader.sha256.hexdigest(), size=reader.size)

    def _envelope(self, key: str) -> _Envelope:
        key = check_key(key)
        inner = self._inner.stat(key)
        header = Header.decode(_stored_range(self._inner, key, 0, MAX_HEADER_BYTES) if inner.size else b"")
        data_key = header.unwrap(self._keyring.key(header.key_id), key)
        layout = Layout.from_stored_size(header.length, header.chunk_size, inner.size)
        env = _Envelope(key, header, aead_for(header.algorithm, data_key), layout, "", inner)
        trailer = env.open_record(
            layout.chunks, _stored_range(self._inner, key, layout.trailer_offset, layout.total)
        )
        size, digest = struct.unpack(">Q32s", trailer)
        if size != layout.plain_size:
            raise integrity_error("size in trailer does not match the stored size", key=key)
        return _Envelope(key, header, env.aead, layout, digest.hex(), inner)

    def open(self, key: str) -> BinaryIO:
        env = self._envelope(key)
        return io.BufferedReader(_DecryptingRaw(self._inner, env), buffer_size=env.layout.chunk_size)

    def read_range(self, key: str, start: int, end: int) -> bytes:
        if start < 0 or end < start:
            raise InvalidInputError(
                "无效的字节范围 / invalid byte range", details={"start": start, "end": end}
            )
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

    def _remember(self, env: _Envelope) -> _Envelope:
        with self._recent_lock:
            self._recent[env.key] = env
            self._recent.move_to_end(env.key)
            while len(self._recent) > RECENT_ENVELOPES:
                self._recent.popitem(last=False)
        return env

    def _forget(self, key: str) -> None:
        with self._recent_lock:
            self._recent.pop(key, None)

    def _read_records(self, env: _Envelope, start: int, end: int) -> bytes:
        key = env.key
        layout = env.layout
        size = layout.plain_size
        if start >= size and not (start == 0 and size == 0):
            raise InvalidInputError(
                "字节范围超出文件 / byte range beyond the end", details={"start": start, "size": size}
            )
        end = min(end, size)
        if end - start > MAX_RANGE_BYTES:
            raise InvalidInputError(
                "字节范围过大 / byte range too large", details={"limit_bytes": MAX_RANGE_BYTES}
            )
        if start == end:
            return b""
        first, last = start // layout.chunk_size, (end - 1) // layout.chunk_size
        stop = layout.chunk_offset(last) + layout.chunk_plain_len(last) + TAG_BYTES
        sealed = _stored_range(self._inner, key, layout.chunk_offset(first), stop)
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
            copy = _CopyWithNewHeader(header.encode(), stored, env.layout.header_len)
            self._inner.put_as(env.key, copy, content_type=env.inner.content_type, replace=True)
        self._forget(env.key)
        return True


def rewrap_blobs(store: EncryptedBlobStore, keys: Iterable[str]) -> int:
    """Re-wrap every listed blob under the active master key; returns how many changed."""
    return sum(1 for key in keys if store.rewrap(key))
