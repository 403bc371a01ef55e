"""Blob store on a local (or network-mounted) filesystem directory.

Layout: ``ROOT/ab/cd/abcd…`` holds the bytes and ``ROOT/ab/cd/abcd….json`` the metadata (SHA-256,
size, content type, creation time). ``put`` streams into a temporary file in the same directory,
hashing as it goes, fsyncs, then ``os.replace``s it into place and fsyncs the directory — a crash or
a failing input stream leaves no partial blob under any key.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from dualrec.errors import ConflictError, InvalidInputError, NotFoundError
from dualrec.i18n import msg
from dualrec.storage.ports import (
    BlobRef,
    BlobStat,
    LogEntryExistsError,
    Readable,
    check_content_type,
    check_key,
    check_log_name,
)

__all__ = ["FilesystemAppendLog", "FilesystemBlobStore"]

logger = logging.getLogger(__name__)

CHUNK_BYTES = 1024 * 1024
MAX_RANGE_BYTES = 64 * 1024 * 1024
TEMP_PREFIX = ".tmp-"


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # some platforms/filesystems cannot open directories
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_file(path: Path, chunks: Readable, *, max_bytes: int | None) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("xb") as out:
        while True:
            chunk = chunks.read(CHUNK_BYTES)
            if not chunk:
                break
            if not isinstance(chunk, (bytes, bytearray, memoryview)):
                raise InvalidInputError("blob input must yield bytes")
            size += len(chunk)
            if max_bytes is not None and size > max_bytes:
                raise InvalidInputError(msg("storage.content_too_large"), details={"limit_bytes": max_bytes})
            digest.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest(), size


class FilesystemBlobStore:
    def __init__(self, root: Path) -> None:
        self._root = root.resolve()
        self._root.mkdir(parents=True, exist_ok=True)

    @property
    def root(self) -> Path:
        return self._root

    def _path(self, key: str) -> Path:
        key = check_key(key)
        path = self._root / key[:2] / key[2:4] / key
        if not path.resolve().is_relative_to(self._root):  # defence in depth (symlinked dirs)
            raise InvalidInputError(msg("storage.invalid_blob_key"), details={"key": key})
        return path

    @staticmethod
    def _meta_path(path: Path) -> Path:
        return path.with_name(path.name + ".json")

    def put(self, data: bytes | Readable, *, content_type: str, max_bytes: int | None = None) -> BlobRef:
        return self.put_as(uuid.uuid4().hex, data, content_type=content_type, max_bytes=max_bytes)

    def put_as(
        self,
        key: str,
        data: bytes | Readable,
        *,
        content_type: str,
        max_bytes: int | None = None,
        replace: bool = False,
    ) -> BlobRef:
        """``put`` under a key chosen by the caller (encryption binds the key into the ciphertext).
        An existing blob is a ConflictError unless ``replace``: then it is swapped atomically."""
        content_type = check_content_type(content_type)
        stream: Readable = io.BytesIO(data) if isinstance(data, (bytes, bytearray)) else data
        path = self._path(key)
        if not replace and path.exists():
            raise ConflictError(msg("storage.blob_key_exists"), details={"key": key})
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp_data = path.with_name(f"{TEMP_PREFIX}{key}.{uuid.uuid4().hex[:8]}.part")
        tmp_meta = path.with_name(f"{TEMP_PREFIX}{key}.{uuid.uuid4().hex[:8]}.json.part")
        try:
            sha256, size = _write_file(tmp_data, stream, max_bytes=max_bytes)
            meta = {
                "sha256": sha256,
                "size": size,
                "content_type": content_type,
                "created_at": datetime.now(UTC).isoformat(),
            }
            _write_file(tmp_meta, io.BytesIO(json.dumps(meta).encode()), max_bytes=None)
            tmp_meta.replace(self._meta_path(path))  # atomic rename (os.replace)
            tmp_data.replace(path)
        except BaseException:
            leftovers = [tmp_data, tmp_meta] + ([] if replace else [self._meta_path(path)])
            for leftover in leftovers:
                with contextlib.suppress(FileNotFoundError):
                    leftover.unlink()
            raise
        _fsync_dir(path.parent)
        logger.debug("stored blob %s (%d bytes)", key, size)
        return BlobRef(key=key, sha256=sha256, size=size)

    def open(self, key: str) -> BinaryIO:
        path = self._path(key)
        try:
            return path.open("rb")
        except FileNotFoundError:
            raise NotFoundError(msg("storage.blob_found"), details={"key": key}) from None

    def read_range(self, key: str, start: int, end: int) -> bytes:
        if start < 0 or end < start:
            raise InvalidInputError(msg("storage.invalid_byte_range"), details={"start": start, "end": end})
        with self.open(key) as stream:
            size = os.fstat(stream.fileno()).st_size
            if start >= size and not (start == 0 and size == 0):
                raise InvalidInputError(
                    msg("storage.byte_range_beyond_end"), details={"start": start, "size": size}
                )
            end = min(end, size)
            if end - start > MAX_RANGE_BYTES:
                raise InvalidInputError(
                    msg("storage.byte_range_too_large"), details={"limit_bytes": MAX_RANGE_BYTES}
                )
            stream.seek(start)
            return stream.read(end - start)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def stat(self, key: str) -> BlobStat:
        path = self._path(key)
        if not path.is_file():
            raise NotFoundError(msg("storage.blob_found"), details={"key": key})
        meta = json.loads(self._meta_path(path).read_text())
        return BlobStat(
            key=key,
            sha256=str(meta["sha256"]),
            size=int(meta["size"]),
            content_type=str(meta["content_type"]),
            created_at=datetime.fromisoformat(meta["created_at"]),
        )

    def remove_stale_temp_files(self, older_than: timedelta) -> int:
        """Delete what interrupted writes left behind (``.tmp-*`` files, metadata without data)
        older than ``older_than`` — writes in progress are younger. Returns how many were removed."""
        cutoff = time.time() - older_than.total_seconds()
        removed = 0
        for path in self._root.glob("??/??/*"):
            orphan_meta = path.suffix == ".json" and not path.with_suffix("").exists()
            if not (path.name.startswith(TEMP_PREFIX) or orphan_meta):
                continue
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
        if removed:
            logger.info("removed %d leftover temporary blob file(s)", removed)
        return removed

    def delete(self, key: str) -> bool:
        path = self._path(key)
        existed = path.is_file()
        for target in (path, self._meta_path(path)):
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
        if existed:
            _fsync_dir(path.parent)
        return existed


class FilesystemAppendLog:
    """``AppendOnlyLog`` in a folder: ``DIR/<name>``, read-only (0444) once written.

    An entry is written to a temporary file, fsynced, then hard-linked to its name: the link fails
    when the name exists, so no process ever overwrites an entry (no check-then-write race). Where
    hard links are not supported, the name is created with ``O_EXCL`` instead. Put the folder on
    another machine or a WORM mount to keep it out of reach of whoever can write the database.
    """

    def __init__(self, root: Path) -> None:
        self._root = root.resolve()
        self._root.mkdir(parents=True, exist_ok=True)

    @property
    def location(self) -> str:
        return str(self._root)

    def append(self, name: str, data: bytes) -> None:
        path = self._root / check_log_name(name)
        tmp = self._root / f"{TEMP_PREFIX}{name}.{uuid.uuid4().hex[:8]}"
        try:
            _write_file(tmp, io.BytesIO(data), max_bytes=None)
            tmp.chmod(0o444)
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise LogEntryExistsError(
                    msg("storage.log_entry_exists_never_overwritten"),
                    details={"name": name, "log": self.location},
                ) from None
            except OSError:  # no hard links here: exclusive create
                self._create_exclusive(path, data)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        _fsync_dir(self._root)

    def _create_exclusive(self, path: Path, data: bytes) -> None:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
        except FileExistsError:
            raise LogEntryExistsError(
                msg("storage.log_entry_exists_never_overwritten"),
                details={"name": path.name, "log": self.location},
            ) from None
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())

    def read(self, name: str) -> bytes | None:
        try:
            return (self._root / check_log_name(name)).read_bytes()
        except FileNotFoundError:
            return None

    def names(self) -> list[str]:
        return sorted(
            p.name for p in self._root.iterdir() if not p.name.startswith(TEMP_PREFIX) and p.is_file()
        )

    def rewritten(self) -> list[str]:
        return []
