"""The filesystem blob store: hashes, ranges, atomic writes, bounded memory, no path traversal."""

from __future__ import annotations

import hashlib
import os
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dualrec.errors import InvalidInputError, NotFoundError
from dualrec.storage import BlobStore, FilesystemBlobStore


class ChunkedSource:
    """A stream of ``total`` deterministic bytes produced chunk by chunk; can fail part-way."""

    def __init__(self, total: int, *, fail_after: int | None = None) -> None:
        self.total = total
        self.sent = 0
        self.fail_after = fail_after
        self.largest_request = 0
        self.digest = hashlib.sha256()

    def read(self, size: int = -1, /) -> bytes:
        if size < 0:
            raise AssertionError("the store asked for everything at once")
        self.largest_request = max(self.largest_request, size)
        if self.fail_after is not None and self.sent >= self.fail_after:
            raise ConnectionResetError("client went away mid-upload")
        n = min(size, self.total - self.sent)
        chunk = bytes([(self.sent // 4096) % 251]) * n
        self.sent += n
        self.digest.update(chunk)
        return chunk


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


@pytest.fixture
def store(tmp_path: Path) -> FilesystemBlobStore:
    return FilesystemBlobStore(tmp_path / "blobs")


def test_put_returns_the_content_hash_and_the_bytes_come_back(store: FilesystemBlobStore) -> None:
    data = "客户身份证正面 ID card front".encode() * 100
    ref = store.put(data, content_type="image/JPEG")
    assert ref.sha256 == hashlib.sha256(data).hexdigest()
    assert ref.size == len(data)
    with store.open(ref.key) as stream:
        assert stream.read() == data
    stat = store.stat(ref.key)
    assert (stat.sha256, stat.size, stat.content_type) == (ref.sha256, len(data), "image/jpeg")
    assert abs((datetime.now(UTC) - stat.created_at).total_seconds()) < 60
    assert store.exists(ref.key)


def test_same_content_twice_gets_two_keys_and_deleting_one_keeps_the_other(
    store: FilesystemBlobStore,
) -> None:
    first = store.put(b"same bytes", content_type="application/octet-stream")
    second = store.put(b"same bytes", content_type="application/octet-stream")
    assert first.key != second.key and first.sha256 == second.sha256
    assert store.delete(first.key) is True
    assert store.delete(first.key) is False
    assert not store.exists(first.key)
    with pytest.raises(NotFoundError):
        store.open(first.key)
    with pytest.raises(NotFoundError):
        store.stat(first.key)
    assert store.read_range(second.key, 0, 4) == b"same"


def test_large_stream_is_hashed_in_chunks_with_bounded_memory(store: FilesystemBlobStore) -> None:
    total = 48 * 1024 * 1024 + 123
    source = ChunkedSource(total)
    tracemalloc.start()
    try:
        ref = store.put(source, content_type="video/mp4")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert ref.size == total
    assert ref.sha256 == source.digest.hexdigest()
    assert source.largest_request <= 1024 * 1024
    assert peak < 8 * 1024 * 1024, f"peak {peak} bytes while storing {total} bytes"
    assert store.stat(ref.key).size == total


def test_failing_input_stream_leaves_no_partial_file(store: FilesystemBlobStore) -> None:
    store.put(b"already there", content_type="text/plain")
    before = files_under(store.root)
    with pytest.raises(ConnectionResetError):
        store.put(ChunkedSource(10 * 1024 * 1024, fail_after=3 * 1024 * 1024), content_type="video/mp4")
    assert files_under(store.root) == before


def test_content_over_the_limit_is_refused_and_nothing_is_kept(store: FilesystemBlobStore) -> None:
    with pytest.raises(InvalidInputError):
        store.put(ChunkedSource(5 * 1024 * 1024), content_type="video/mp4", max_bytes=2 * 1024 * 1024)
    assert files_under(store.root) == []
    ref = store.put(b"x" * 100, content_type="text/plain", max_bytes=100)
    assert ref.size == 100


def test_byte_ranges_are_half_open_and_clamped(store: FilesystemBlobStore) -> None:
    data = bytes(range(256)) * 10
    key = store.put(data, content_type="application/octet-stream").key
    assert store.read_range(key, 10, 20) == data[10:20]
    assert store.read_range(key, 0, 1) == data[:1]
    assert store.read_range(key, 2500, 10_000) == data[2500:]
    assert store.read_range(key, 7, 7) == b""
    with pytest.raises(InvalidInputError):
        store.read_range(key, 2560, 2600)  # starts past the end
    with pytest.raises(InvalidInputError):
        store.read_range(key, 20, 10)
    with pytest.raises(InvalidInputError):
        store.read_range(key, -1, 10)


def test_no_temporary_files_remain_and_layout_is_fanned_out(store: FilesystemBlobStore) -> None:
    ref = store.put(b"abc", content_type="text/plain")
    names = [p.relative_to(store.root).as_posix() for p in files_under(store.root)]
    k = ref.key
    assert names == [f"{k[:2]}/{k[2:4]}/{k}", f"{k[:2]}/{k[2:4]}/{k}.json"]


@pytest.mark.parametrize(
    "key",
    [
        "../secret",
        "../../../../etc/passwd",
        "/etc/passwd",
        "ab/../../../etc/passwd",
        "..",
        "",
        "0123456789abcdef0123456789abcde\x00",
        "0123456789ABCDEF0123456789ABCDEF",
        "0123456789abcdef0123456789abcdef/../x",
        "..%2f..%2fetc%2fpasswd",
        "0123456789abcdef0123456789abcdef.json",
    ],
)
def test_keys_that_could_escape_the_store_are_refused(
    store: FilesystemBlobStore, tmp_path: Path, key: str
) -> None:
    outside = tmp_path / "secret"
    outside.write_bytes(b"do not read")
    for call in (
        lambda: store.open(key),
        lambda: store.exists(key),
        lambda: store.stat(key),
        lambda: store.read_range(key, 0, 5),
        lambda: store.delete(key),
    ):
        with pytest.raises(InvalidInputError):
            call()
    assert outside.read_bytes() == b"do not read"


@pytest.mark.parametrize("content_type", ["", "video", "text/plain; charset=utf-8\nX: y", "../x", "a/b/c"])
def test_bad_content_types_are_refused(store: FilesystemBlobStore, content_type: str) -> None:
    with pytest.raises(InvalidInputError):
        store.put(b"x", content_type=content_type)
    assert files_under(store.root) == []


def test_the_filesystem_store_satisfies_the_port(tmp_path: Path) -> None:
    port: BlobStore = FilesystemBlobStore(tmp_path / "b")
    ref = port.put(b"", content_type="application/octet-stream")
    assert ref.size == 0 and ref.sha256 == hashlib.sha256(b"").hexdigest()
    assert port.read_range(ref.key, 0, 10) == b""
    assert (tmp_path / "b" / ref.key[:2] / ref.key[2:4] / ref.key).stat().st_size == 0


def test_leftovers_of_interrupted_writes_are_cleaned_but_fresh_ones_and_blobs_kept(
    store: FilesystemBlobStore,
) -> None:
    ref = store.put(b"keep me", content_type="text/plain")
    folder = store.root / ref.key[:2] / ref.key[2:4]
    old_tmp = folder / ".tmp-0123456789abcdef0123456789abcdef.part"
    fresh_tmp = folder / ".tmp-fedcba9876543210fedcba9876543210.part"
    orphan_meta = folder / f"{ref.key[:4]}{'0' * 28}.json"
    for path in (old_tmp, fresh_tmp, orphan_meta):
        path.write_bytes(b"partial")
    two_days_ago = time.time() - 2 * 86400
    for path in (old_tmp, orphan_meta):
        os.utime(path, (two_days_ago, two_days_ago))
    old_blob = folder / ref.key
    os.utime(old_blob, (two_days_ago, two_days_ago))

    assert store.remove_stale_temp_files(timedelta(hours=1)) == 2
    assert not old_tmp.exists() and not orphan_meta.exists() and fresh_tmp.exists()
    with store.open(ref.key) as stream:
        assert stream.read() == b"keep me"
    assert store.stat(ref.key).size == 7
