"""The S3 blob store against a real SeaweedFS S3 server: multipart streaming, ranged GETs, aborted
uploads leave nothing, encryption on top, and the app's settings selecting the backend."""

from __future__ import annotations

import hashlib
import os
import random
import tracemalloc
import uuid
from pathlib import Path

import pytest

from dualrec.bootstrap.storage import build_encrypted_blob_store
from dualrec.settings import Settings
from dualrec.storage.encryption import EncryptedBlobStore, rewrap_blobs
from dualrec.storage.keys import Keyring, new_key_text
from dualrec.storage.s3 import MIN_PART_BYTES, S3BlobStore
from tests.seaweedfs import SeaweedS3

MiB = 1024 * 1024


@pytest.fixture
def prefix() -> str:
    return f"it-{uuid.uuid4().hex}/"


def make_store(server: SeaweedS3, prefix: str) -> S3BlobStore:
    return S3BlobStore(
        server.bucket,
        endpoint_url=server.endpoint_url,
        access_key=server.access_key,
        secret_key=server.secret_key,
        prefix=prefix,
        part_bytes=MIN_PART_BYTES,
    )


class Source:
    def __init__(self, total: int, *, fail_after: int | None = None) -> None:
        self.total, self.fail_after, self.sent = total, fail_after, 0
        self.block = os.urandom(MiB)
        self.digest = hashlib.sha256()

    def read(self, size: int = -1, /) -> bytes:
        if self.fail_after is not None and self.sent >= self.fail_after:
            raise ConnectionResetError("client went away mid-upload")
        offset = self.sent % MiB
        n = min(size, self.total - self.sent, MiB - offset)
        chunk = self.block[offset : offset + n]
        self.sent += n
        self.digest.update(chunk)
        return chunk


def test_a_large_upload_is_multipart_with_bounded_memory(s3_server: SeaweedS3, prefix: str) -> None:
    store = make_store(s3_server, prefix)
    source = Source(48 * MiB + 17)
    tracemalloc.start()
    try:
        ref = store.put(source, content_type="video/mp4")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (ref.size, ref.sha256) == (source.total, source.digest.hexdigest())
    assert peak < 24 * MiB, f"peak {peak} bytes while uploading {source.total}"
    head = s3_server.client().head_object(Bucket=s3_server.bucket, Key=prefix + ref.key)
    assert head["ContentLength"] == source.total
    assert head["ETag"].strip('"').endswith("-10")  # ten 5 MiB parts: a multipart upload
    assert store.stat(ref.key).sha256 == ref.sha256
    data = source.block * 48 + source.block[:17]
    rng = random.Random(3)
    for _ in range(20):
        start = rng.randrange(ref.size)
        end = start + rng.randrange(1, 3 * MiB)
        assert store.read_range(ref.key, start, end) == data[start:end]


def test_an_aborted_multipart_upload_leaves_no_object_and_no_open_upload(
    s3_server: SeaweedS3, prefix: str
) -> None:
    store = make_store(s3_server, prefix)
    with pytest.raises(ConnectionResetError):
        store.put(Source(30 * MiB, fail_after=12 * MiB), content_type="video/mp4")
    assert s3_server.list_names(prefix) == []
    uploads = s3_server.client().list_multipart_uploads(Bucket=s3_server.bucket, Prefix=prefix)
    assert uploads.get("Uploads", []) == []


def test_encrypted_s3_keeps_no_plaintext_and_reads_ranges(s3_server: SeaweedS3, prefix: str) -> None:
    keyring = Keyring.from_json(new_key_text("k1"))
    store = EncryptedBlobStore(make_store(s3_server, prefix), keyring)
    marker = "客户 李四 身份证 110101199003071234 ".encode()
    data = marker * 400_000  # about 17 MiB: a multipart upload of ciphertext
    ref = store.put(data, content_type="video/mp4")
    raw = s3_server.client().get_object(Bucket=s3_server.bucket, Key=prefix + ref.key)["Body"].read()
    assert marker not in raw and b"110101199003071234" not in raw
    assert len(raw) > len(data)
    assert store.read_range(ref.key, 5 * MiB - 3, 5 * MiB + 70_000) == data[5 * MiB - 3 : 5 * MiB + 70_000]
    with store.open(ref.key) as stream:
        stream.seek(len(data) - 100)
        assert stream.read() == data[-100:]
        stream.seek(MiB + 5)  # records come by ranged GETs, 1 MiB at a time, after a jump
        assert stream.read(3 * MiB) == data[MiB + 5 : 4 * MiB + 5]

    rotated = EncryptedBlobStore(make_store(s3_server, prefix), keyring.with_new_active_key("k2"))
    assert rewrap_blobs(rotated, [ref.key]) == 1
    assert rotated.key_id_of(ref.key) == "k2"
    assert rotated.stat(ref.key).sha256 == hashlib.sha256(data).hexdigest()


def test_settings_select_the_s3_backend(s3_server: SeaweedS3, prefix: str, tmp_path: Path) -> None:
    settings = Settings(
        env="test",
        data_dir=tmp_path,
        blob_backend="s3",
        s3_bucket=s3_server.bucket,
        s3_endpoint_url=s3_server.endpoint_url,
        s3_access_key=s3_server.access_key,
        s3_secret_key=s3_server.secret_key,  # type: ignore[arg-type]
        s3_prefix=prefix,
    )
    store = build_encrypted_blob_store(settings)
    ref = store.put(b"report.pdf bytes", content_type="application/pdf")
    assert s3_server.list_names(prefix) == [prefix + ref.key, prefix + ref.key + ".json"]
    assert not (tmp_path / "blobs").exists()
    assert store.stat(ref.key).content_type == "application/pdf"
    assert store.delete(ref.key) is True
    assert s3_server.list_names(prefix) == []
