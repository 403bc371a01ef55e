"""One contract for every BlobStore: filesystem, encrypted filesystem (AES-256-GCM and SM4-GCM)
here; S3 on a real SeaweedFS server and encrypted S3 run the same tests in
tests/integration/test_blobstore_contract_s3.py. What callers rely on must hold for each."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dualrec.errors import InvalidInputError, NotFoundError
from dualrec.storage import BlobStore, FilesystemBlobStore
from dualrec.storage.encryption import EncryptedBlobStore
from dualrec.storage.keys import Keyring, new_key_text
from dualrec.storage.s3 import S3BlobStore

KEYRING = Keyring.from_json(new_key_text("contract"))
MiB = 1024 * 1024


class Source:
    """``total`` deterministic bytes, served in pieces of at most ``piece`` bytes; can fail part-way."""

    def __init__(self, total: int, *, fail_after: int | None = None, piece: int = 300_000) -> None:
        self.total, self.fail_after, self.piece = total, fail_after, piece
        self.sent = 0
        self.digest = hashlib.sha256()

    def read(self, size: int = -1, /) -> bytes:
        assert size > 0, "the store asked for everything at once"
        if self.fail_after is not None and self.sent >= self.fail_after:
            raise ConnectionResetError("client went away mid-upload")
        n = min(size, self.piece, self.total - self.sent)
        chunk = bytes((self.sent + i) % 253 for i in range(min(n, 253))) * (n // 253 + 1)
        chunk = chunk[:n]
        self.sent += n
        self.digest.update(chunk)
        return chunk


@dataclass
class Variant:
    name: str
    store: BlobStore
    stored_names: Callable[[], list[str]]  # everything the backend holds, to prove nothing is left


def wrapped(
    name: str, inner: FilesystemBlobStore | S3BlobStore, stored_names: Callable[[], list[str]]
) -> Variant:
    """``inner`` as it is, or wrapped in encryption when ``name`` starts with "encrypted"."""
    if name.startswith("encrypted"):
        algorithm = "sm4-gcm" if "sm4" in name else "aes-256-gcm"
        return Variant(name, EncryptedBlobStore(inner, KEYRING, algorithm=algorithm), stored_names)
    return Variant(name, inner, stored_names)


@pytest.fixture(params=["filesystem", "encrypted-filesystem", "encrypted-sm4-filesystem"])
def variant(request: pytest.FixtureRequest, tmp_path: Path) -> Variant:
    root = tmp_path / "blobs"

    def names() -> list[str]:
        return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())

    return wrapped(request.param, FilesystemBlobStore(root), names)


def test_bytes_come_back_with_their_hash_size_and_type(variant: Variant) -> None:
    store = variant.store
    data = "客户身份证正面 ID card front".encode() * 5000
    ref = store.put(data, content_type="image/JPEG")
    assert (ref.sha256, ref.size) == (hashlib.sha256(data).hexdigest(), len(data))
    with store.open(ref.key) as stream:
        assert stream.read(10) == data[:10]
        assert stream.read() == data[10:]
    stat = store.stat(ref.key)
    assert (stat.key, stat.sha256, stat.size, stat.content_type) == (
        ref.key,
        ref.sha256,
        len(data),
        "image/jpeg",
    )
    assert abs((datetime.now(UTC) - stat.created_at).total_seconds()) < 60
    assert store.exists(ref.key)


@pytest.mark.parametrize("size", [0, 1, 65_535, 65_536, 65_537, 3 * 65_536])
def test_sizes_around_record_boundaries_round_trip(variant: Variant, size: int) -> None:
    data = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
    ref = variant.store.put(data, content_type="application/octet-stream")
    with variant.store.open(ref.key) as stream:
        assert stream.read() == data
    assert variant.store.stat(ref.key).size == size
    assert variant.store.read_range(ref.key, 0, size + 10) == data


def test_same_content_twice_gets_two_keys_and_deleting_one_keeps_the_other(variant: Variant) -> None:
    store = variant.store
    first = store.put(b"same bytes", content_type="application/octet-stream")
    second = store.put(b"same bytes", content_type="application/octet-stream")
    assert first.key != second.key and first.sha256 == second.sha256
    assert store.delete(first.key) is True
    assert store.delete(first.key) is False
    assert not store.exists(first.key)
    for call in (
        lambda: store.open(first.key),
        lambda: store.stat(first.key),
        lambda: store.read_range(first.key, 0, 1),
    ):
        with pytest.raises(NotFoundError):
            call()
    assert store.read_range(second.key, 0, 4) == b"same"


def test_byte_ranges_are_half_open_and_clamped(variant: Variant) -> None:
    data = bytes(range(256)) * 1000
    key = variant.store.put(data, content_type="application/octet-stream").key
    read = variant.store.read_range
    assert read(key, 10, 20) == data[10:20]
    assert read(key, 0, 1) == data[:1]
    assert read(key, 65_530, 65_545) == data[65_530:65_545]  # across an encryption record boundary
    assert read(key, 255_000, 10**9) == data[255_000:]
    assert read(key, 7, 7) == b""
    for start, end in [(256_000, 256_010), (20, 10), (-1, 10)]:
        with pytest.raises(InvalidInputError):
            read(key, start, end)
    empty = variant.store.put(b"", content_type="text/plain").key
    assert read(empty, 0, 10) == b""


def test_a_large_stream_is_stored_in_pieces_with_its_hash(variant: Variant) -> None:
    source = Source(11 * MiB + 123)  # three multipart parts on S3
    ref = variant.store.put(source, content_type="video/mp4")
    assert (ref.size, ref.sha256) == (source.total, source.digest.hexdigest())
    stat = variant.store.stat(ref.key)
    assert (stat.size, stat.sha256) == (ref.size, ref.sha256)
    digest = hashlib.sha256()
    with variant.store.open(ref.key) as stream:
        while chunk := stream.read(MiB):
            digest.update(chunk)
    assert digest.hexdigest() == ref.sha256


def test_a_failing_input_stream_leaves_nothing(variant: Variant) -> None:
    variant.store.put(b"already there", content_type="text/plain")
    before = variant.stored_names()
    with pytest.raises(ConnectionResetError):
        variant.store.put(Source(12 * MiB, fail_after=7 * MiB), content_type="video/mp4")
    with pytest.raises(ConnectionResetError):
        variant.store.put(Source(MiB, fail_after=100_000), content_type="video/mp4")
    assert variant.stored_names() == before


def test_content_over_the_limit_is_refused_and_nothing_is_kept(variant: Variant) -> None:
    with pytest.raises(InvalidInputError):
        variant.store.put(Source(7 * MiB), content_type="video/mp4", max_bytes=6 * MiB)
    with pytest.raises(InvalidInputError):
        variant.store.put(b"x" * 101, content_type="text/plain", max_bytes=100)
    assert variant.stored_names() == []
    assert variant.store.put(b"x" * 100, content_type="text/plain", max_bytes=100).size == 100


@pytest.mark.parametrize(
    "key",
    [
        "../secret",
        "/etc/passwd",
        "",
        "0123456789ABCDEF0123456789ABCDEF",
        "0123456789abcdef0123456789abcdef.json",
    ],
)
def test_keys_not_made_by_put_are_refused(variant: Variant, key: str) -> None:
    store = variant.store
    for call in (
        lambda: store.open(key),
        lambda: store.exists(key),
        lambda: store.stat(key),
        lambda: store.read_range(key, 0, 5),
        lambda: store.delete(key),
    ):
        with pytest.raises(InvalidInputError):
            call()


def test_a_valid_but_unknown_key_is_not_found(variant: Variant) -> None:
    key = uuid.uuid4().hex
    assert variant.store.exists(key) is False
    assert variant.store.delete(key) is False
    with pytest.raises(NotFoundError):
        variant.store.stat(key)
    with pytest.raises(NotFoundError):
        variant.store.open(key)


@pytest.mark.parametrize("content_type", ["", "video", "text/plain; charset=utf-8\nX: y", "a/b/c"])
def test_bad_content_types_are_refused(variant: Variant, content_type: str) -> None:
    with pytest.raises(InvalidInputError):
        variant.store.put(b"x", content_type=content_type)
    assert variant.stored_names() == []
