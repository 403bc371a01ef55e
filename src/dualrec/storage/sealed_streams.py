"""The streaming halves of envelope encryption: sealing a plaintext stream into records, and a
seekable plaintext view over the stored records (see ``dualrec.storage.envelope`` for the format)."""

from __future__ import annotations

import hashlib
import io
import struct
from dataclasses import dataclass
from typing import BinaryIO

from cryptography.exceptions import InvalidTag

from dualrec.errors import InvalidInputError
from dualrec.i18n import msg
from dualrec.storage.envelope import (
    TAG_BYTES,
    TRAILER_BYTES,
    Aead,
    Header,
    Layout,
    integrity_error,
    record_aad,
    record_nonce,
)
from dualrec.storage.ports import BlobStat, BlobStore, Readable

__all__ = ["CopyWithNewHeader", "DecryptingRaw", "EncryptingReader", "Envelope", "read_full", "stored_range"]


WINDOW_RECORDS = 16  # 1 MiB of records per range read when seeking without a seekable stream


def read_full(source: Readable, size: int) -> bytes:
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


class EncryptingReader:
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
        plain = read_full(self._source, cs)
        if plain:
            self.size += len(plain)
            if self._max_bytes is not None and self.size > self._max_bytes:
                raise InvalidInputError(
                    msg("storage.content_too_large"), details={"limit_bytes": self._max_bytes}
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


class CopyWithNewHeader:
    """For rewrap: a new header, then the stored records copied byte for byte (not re-encrypted)."""

    def __init__(self, header: bytes, stored: BinaryIO, skip: int) -> None:
        self._head = header
        self._stored = stored
        self._skip = skip

    def read(self, size: int = -1, /) -> bytes:
        if self._skip:
            read_full(self._stored, self._skip)
            self._skip = 0
        if size < 0:
            out, self._head = self._head + self._stored.read(), b""
            return out
        if self._head:
            out, self._head = self._head[:size], self._head[size:]
            return out
        return self._stored.read(size)


@dataclass(frozen=True)
class Envelope:
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


def stored_range(inner: BlobStore, key: str, start: int, end: int) -> bytes:
    """A range of the stored bytes; the inner store refusing it means the object is shorter."""
    try:
        return inner.read_range(key, start, end)
    except InvalidInputError:
        raise integrity_error("stored object truncated", key=key) from None


class DecryptingRaw(io.RawIOBase):
    """Seekable plaintext view of an encrypted blob; reads the inner stream record by record."""

    def __init__(self, inner: BlobStore, env: Envelope) -> None:
        super().__init__()
        self._inner, self._env = inner, env
        self._pos = 0
        self._stream: BinaryIO | None = None
        self._next = 0  # the record the inner stream is positioned at
        self._cached: tuple[int, bytes] | None = None
        self._end_checked = False
        self._window: tuple[int, bytes] = (0, b"")  # sealed records fetched by range after a jump

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
        offset = layout.chunk_offset(index)
        if index == self._next and (self._stream is not None or index == 0):
            if self._stream is None:
                self._stream = self._inner.open(key)
                if len(read_full(self._stream, layout.header_len)) != layout.header_len:
                    raise integrity_error("stored object truncated", key=key)
            sealed = read_full(self._stream, length)
            self._next = index + 1
        elif self._stream is not None and self._stream.seekable():
            self._stream.seek(offset)
            sealed = read_full(self._stream, length)
            self._next = index + 1
        else:  # a jump with no seekable stream (e.g. S3): read ahead a window of records by range
            first, window = self._window
            if not first <= index < first - (-len(window) // (layout.chunk_size + TAG_BYTES)):
                last = min(index + WINDOW_RECORDS, layout.chunks) - 1
                stop = layout.chunk_offset(last) + layout.chunk_plain_len(last) + TAG_BYTES
                first, window = index, stored_range(self._inner, key, offset, stop)
                self._window = (first, window)
            start = (index - first) * (layout.chunk_size + TAG_BYTES)
            sealed = window[start : start + length]
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
        tail = read_full(self._stream, TRAILER_BYTES + 1)
        if len(tail) != TRAILER_BYTES:
            raise integrity_error("stored object has missing or extra bytes at the end", key=self._env.key)
        self._env.open_record(self._next, tail)
        self._end_checked = True

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None
        super().close()
