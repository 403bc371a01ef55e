"""The blob store port: where recordings, ID-card images and reports live.

Keys are **random** (32 lowercase hex characters, made by ``put``), not content addresses:

* deleting one recording under a retention rule must never delete another record's identical bytes;
* a key must not reveal anything about the content (a hash of an ID-card photo would);
* with per-blob envelope encryption (planned) identical plaintexts no longer share ciphertext anyway.

The SHA-256 of the content is computed while streaming and returned in ``BlobRef``/``BlobStat`` so
callers store it next to the key (evidence hash chain, integrity checks on read).

Ranges are half-open byte intervals ``[start, end)`` like Python slices; an HTTP ``Range: bytes=a-b``
header (inclusive) maps to ``read_range(key, a, b + 1)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO, Protocol

from dualrec.errors import ConflictError, InvalidInputError
from dualrec.i18n import msg

__all__ = [
    "AppendOnlyLog",
    "BlobRef",
    "BlobStat",
    "BlobStore",
    "LogEntryExistsError",
    "Readable",
    "check_content_type",
    "check_key",
    "check_log_name",
]

KEY_PATTERN = re.compile(r"^[0-9a-f]{32}$")
LOG_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_CONTENT_TYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,62}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,62}$")


class Readable(Protocol):
    """Anything with ``read(size) -> bytes``: a file, an upload's spooled file, a socket wrapper."""

    def read(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True, slots=True)
class BlobRef:
    key: str
    sha256: str  # lowercase hex digest of the stored bytes
    size: int


@dataclass(frozen=True, slots=True)
class BlobStat:
    key: str
    sha256: str
    size: int
    content_type: str
    created_at: datetime


def check_key(key: object) -> str:
    """Only keys made by ``put`` are accepted: this also shuts out path traversal."""
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        raise InvalidInputError(msg("storage.invalid_blob_key"), details={"key": repr(key)[:80]})
    return key


def check_content_type(content_type: object) -> str:
    if not isinstance(content_type, str) or not _CONTENT_TYPE.match(content_type):
        raise InvalidInputError(
            msg("storage.invalid_content_type"), details={"content_type": repr(content_type)[:80]}
        )
    return content_type.lower()


class BlobStore(Protocol):
    def put(self, data: bytes | Readable, *, content_type: str, max_bytes: int | None = None) -> BlobRef:
        """Store the bytes (read in chunks, bounded memory) under a new key, atomically: the blob
        is either complete or absent. More than ``max_bytes`` → InvalidInputError, nothing kept."""
        ...

    def open(self, key: str) -> BinaryIO:
        """A binary stream of the whole blob (the caller closes it). NotFoundError if absent."""
        ...

    def read_range(self, key: str, start: int, end: int) -> bytes:
        """Bytes ``[start, end)``; ``end`` is clamped to the size; ``start`` past the end or
        ``end < start`` → InvalidInputError."""
        ...

    def exists(self, key: str) -> bool: ...

    def stat(self, key: str) -> BlobStat: ...

    def delete(self, key: str) -> bool:
        """Remove the blob; False when it was not there."""
        ...


class LogEntryExistsError(ConflictError):
    """An append-only log already holds an entry of that name: it is never overwritten."""


def check_log_name(name: object) -> str:
    if not isinstance(name, str) or not LOG_NAME_PATTERN.match(name) or ".." in name:
        raise InvalidInputError(msg("storage.invalid_log_entry_name"), details={"name": repr(name)[:80]})
    return name


class AppendOnlyLog(Protocol):
    """A write-once log outside the database (the evidence checkpoint log, docs/evidence.md): one
    object per entry under a fixed prefix/folder, named by the caller, never overwritten or deleted
    through this port. Entries are plain (not encrypted): they hold hashes and signatures only, and
    auditors read them with ordinary tools."""

    @property
    def location(self) -> str:
        """Where the log lives, for messages (a folder, ``s3://bucket/prefix``)."""
        ...

    def append(self, name: str, data: bytes) -> None:
        """Write a new entry; LogEntryExistsError when ``name`` exists (whatever its content)."""
        ...

    def read(self, name: str) -> bytes | None:
        """The entry's bytes, None when there is none."""
        ...

    def names(self) -> list[str]:
        """Every entry name, sorted."""
        ...

    def rewritten(self) -> list[str]:
        """Names stored more than once (a versioned S3 bucket keeps every write): [] where the store
        cannot overwrite at all."""
        ...
