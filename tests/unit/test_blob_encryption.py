"""Encryption at rest: nothing readable on disk, every alteration detected, rotation, SM4, memory."""

from __future__ import annotations

import hashlib
import json
import os
import random
import tracemalloc
from pathlib import Path

import pytest

from dualrec.errors import ConfigurationError, MediaError, NotFoundError
from dualrec.storage import FilesystemBlobStore
from dualrec.storage.encryption import EncryptedBlobStore, rewrap_blobs
from dualrec.storage.envelope import BlobIntegrityError
from dualrec.storage.keys import Keyring, new_key_text

K1 = Keyring.from_json(new_key_text("k1"))
SMALL_RECORDS = 1024  # many records in a small object: tamper tests stay fast
ID_CARD_TEXT = "姓名 张三 公民身份号码 110101199003071234 住址 北京市东城区".encode()


def stored_path(store: EncryptedBlobStore, key: str) -> Path:
    inner = store.inner
    assert isinstance(inner, FilesystemBlobStore)
    return inner.root / key[:2] / key[2:4] / key


def read_all(store: EncryptedBlobStore, key: str) -> bytes:
    with store.open(key) as stream:
        return stream.read()


@pytest.fixture
def store(tmp_path: Path) -> EncryptedBlobStore:
    return EncryptedBlobStore(FilesystemBlobStore(tmp_path / "blobs"), K1, chunk_size=SMALL_RECORDS)


@pytest.mark.parametrize("algorithm", ["aes-256-gcm", "sm4-gcm"])
def test_nothing_readable_is_stored(tmp_path: Path, algorithm: str) -> None:
    store = EncryptedBlobStore(FilesystemBlobStore(tmp_path / "b"), K1, algorithm=algorithm)
    data = ID_CARD_TEXT * 3000
    ref = store.put(data, content_type="image/jpeg")
    everything = b"".join(p.read_bytes() for p in (tmp_path / "b").rglob("*") if p.is_file())
    for needle in (b"110101199003071234", "张三".encode(), ID_CARD_TEXT[:12], ref.sha256.encode()):
        assert needle not in everything
    assert read_all(store, ref.key) == data


def test_identical_plaintext_never_gives_identical_ciphertext(store: EncryptedBlobStore) -> None:
    """A repeated (key, nonce) pair would leak equal blocks and break GCM: every record differs,
    within one object and between two objects with the same content."""
    data = b"\x00" * (4 * SMALL_RECORDS)
    step = SMALL_RECORDS + 16
    records = []
    for _ in range(2):
        raw = stored_path(store, store.put(data, content_type="video/mp4").key).read_bytes()
        body = raw[len(raw) - 4 * step - 56 : len(raw) - 56]
        records += [body[i * step : i * step + SMALL_RECORDS] for i in range(4)]  # without the tags
    assert len(set(records)) == 8


def test_any_single_changed_byte_is_detected(store: EncryptedBlobStore) -> None:
    data = os.urandom(5 * SMALL_RECORDS + 300)  # header, 6 records, trailer
    ref = store.put(data, content_type="video/mp4")
    path = stored_path(store, ref.key)
    original = path.read_bytes()
    rng = random.Random(20261123)
    positions = {0, 7, 8, 20, len(original) - 1, len(original) - 40} | {
        rng.randrange(len(original)) for _ in range(150)
    }
    for pos in sorted(positions):
        altered = bytearray(original)
        altered[pos] ^= 1 << rng.randrange(8)
        path.write_bytes(bytes(altered))
        # an altered key id that names no known key is reported as such (ConfigurationError)
        with pytest.raises((BlobIntegrityError, ConfigurationError)):
            read_all(store, ref.key)
    path.write_bytes(original)
    assert read_all(store, ref.key) == data


def test_range_reads_and_stat_also_refuse_altered_records(store: EncryptedBlobStore) -> None:
    data = os.urandom(4 * SMALL_RECORDS)
    ref = store.put(data, content_type="video/mp4")
    path = stored_path(store, ref.key)
    original = path.read_bytes()
    header_len = len(original) - 4 * (SMALL_RECORDS + 16) - 56
    second_record = header_len + (SMALL_RECORDS + 16) + 5
    altered = bytearray(original)
    altered[second_record] ^= 0x80
    path.write_bytes(bytes(altered))
    assert store.read_range(ref.key, 0, SMALL_RECORDS) == data[:SMALL_RECORDS]  # record 0 is intact
    with pytest.raises(BlobIntegrityError):
        store.read_range(ref.key, SMALL_RECORDS - 1, SMALL_RECORDS + 1)
    altered = bytearray(original)
    altered[-3] ^= 0x01  # the trailer holds the size and hash
    path.write_bytes(bytes(altered))
    with pytest.raises(BlobIntegrityError):
        store.stat(ref.key)


@pytest.mark.parametrize("cut", ["trailer", "last record", "half a record", "all but header", "one byte"])
def test_truncation_is_detected(store: EncryptedBlobStore, cut: str) -> None:
    ref = store.put(os.urandom(3 * SMALL_RECORDS + 10), content_type="video/mp4")
    path = stored_path(store, ref.key)
    raw = path.read_bytes()
    keep = {
        "trailer": len(raw) - 56,
        "last record": len(raw) - 56 - 26,
        "half a record": len(raw) - 56 - 26 - 500,
        "all but header": 60,
        "one byte": len(raw) - 1,
    }[cut]
    path.write_bytes(raw[:keep])
    with pytest.raises(BlobIntegrityError):
        read_all(store, ref.key)
    path.write_bytes(raw + b"\0" * 10)  # appended bytes too
    with pytest.raises(BlobIntegrityError):
        read_all(store, ref.key)


def test_swapping_two_objects_files_is_detected(store: EncryptedBlobStore) -> None:
    a = store.put(b"A" * 3000, content_type="video/mp4")
    b = store.put(b"B" * 3000, content_type="video/mp4")
    path_a, path_b = stored_path(store, a.key), stored_path(store, b.key)
    raw_a, raw_b = path_a.read_bytes(), path_b.read_bytes()
    path_a.write_bytes(raw_b)
    path_b.write_bytes(raw_a)
    for key in (a.key, b.key):
        with pytest.raises(BlobIntegrityError):
            read_all(store, key)


def test_records_moved_between_objects_are_detected(store: EncryptedBlobStore) -> None:
    ref = store.put(os.urandom(3 * SMALL_RECORDS), content_type="video/mp4")
    path = stored_path(store, ref.key)
    raw = path.read_bytes()
    header_len = len(raw) - 3 * (SMALL_RECORDS + 16) - 56
    step = SMALL_RECORDS + 16
    r0, r1 = raw[header_len : header_len + step], raw[header_len + step : header_len + 2 * step]
    path.write_bytes(raw[:header_len] + r1 + r0 + raw[header_len + 2 * step :])  # reordered
    with pytest.raises(BlobIntegrityError):
        read_all(store, ref.key)


def test_a_wrong_or_missing_master_key_is_a_clear_error(tmp_path: Path) -> None:
    inner = FilesystemBlobStore(tmp_path / "b")
    ref = EncryptedBlobStore(inner, K1).put(b"secret", content_type="text/plain")
    impostor = Keyring.from_json(new_key_text("k1"))  # same id, other bytes
    with pytest.raises(BlobIntegrityError) as caught:
        EncryptedBlobStore(inner, impostor).open(ref.key)
    assert isinstance(caught.value, MediaError) and "wrong key" in caught.value.message
    with pytest.raises(ConfigurationError, match="master key id"):
        EncryptedBlobStore(inner, Keyring.from_json(new_key_text("other"))).stat(ref.key)


def test_key_rotation_then_rewrap_without_reencrypting(tmp_path: Path) -> None:
    inner = FilesystemBlobStore(tmp_path / "b")
    old = EncryptedBlobStore(inner, K1, chunk_size=SMALL_RECORDS)
    data = [os.urandom(n) for n in (0, 100, 5000)]
    refs = [old.put(d, content_type="video/mp4") for d in data]
    rotated_ring = K1.with_new_active_key("k2")
    rotated = EncryptedBlobStore(inner, rotated_ring, chunk_size=SMALL_RECORDS)
    new_ref = rotated.put(b"written after rotation", content_type="text/plain")
    assert rotated.key_id_of(new_ref.key) == "k2"
    assert [rotated.key_id_of(r.key) for r in refs] == ["k1"] * 3
    assert [read_all(rotated, r.key) for r in refs] == data  # old objects stay readable

    def records(key: str, size: int) -> bytes:  # everything after the header
        stored = size + -(-size // SMALL_RECORDS) * 16 + 56
        return stored_path(rotated, key).read_bytes()[-stored:]

    before = [records(r.key, len(d)) for r, d in zip(refs, data, strict=True)]
    assert rewrap_blobs(rotated, [r.key for r in refs] + [new_ref.key]) == 3
    assert rotated.rewrap(refs[0].key) is False  # already under the active key
    assert [rotated.key_id_of(r.key) for r in refs] == ["k2"] * 3
    # the encrypted records are the very same bytes: only the header (wrapped data key) changed
    assert [records(r.key, len(d)) for r, d in zip(refs, data, strict=True)] == before

    only_new = Keyring(active="k2", keys={"k2": rotated_ring.keys["k2"]})
    after = EncryptedBlobStore(inner, only_new)
    assert [read_all(after, r.key) for r in refs] == data
    assert [after.stat(r.key).sha256 for r in refs] == [hashlib.sha256(d).hexdigest() for d in data]
    assert read_all(after, new_ref.key) == b"written after rotation"


def test_sm4_objects_are_readable_by_a_store_configured_for_aes(tmp_path: Path) -> None:
    inner = FilesystemBlobStore(tmp_path / "b")
    data = os.urandom(200_000)
    sm4 = EncryptedBlobStore(inner, K1, algorithm="sm4-gcm")
    ref = sm4.put(data, content_type="video/mp4")
    aes = EncryptedBlobStore(inner, K1)
    aes_ref = aes.put(data, content_type="video/mp4")
    for key in (ref.key, aes_ref.key):
        assert read_all(aes, key) == data
        assert aes.read_range(key, 65_000, 140_000) == data[65_000:140_000]
    raw_sm4 = stored_path(sm4, ref.key).read_bytes()
    raw_aes = stored_path(sm4, aes_ref.key).read_bytes()
    assert raw_sm4[7] == 2 and raw_aes[7] == 1  # the algorithm byte in each header
    stored_path(sm4, ref.key).write_bytes(raw_sm4[:7] + b"\x01" + raw_sm4[8:])
    with pytest.raises(BlobIntegrityError):  # the algorithm is authenticated: no downgrade by flipping it
        read_all(aes, ref.key)


def test_random_ranges_and_seeks_match_python_slicing(tmp_path: Path) -> None:
    store = EncryptedBlobStore(FilesystemBlobStore(tmp_path / "b"), K1)  # default 64 KiB records
    data = os.urandom(40 * 65_536 + 777)
    key = store.put(data, content_type="video/mp4").key
    with store.open(key) as stream:  # a jump first, then a long read across read-ahead windows
        stream.seek(65_536 * 3 + 5)
        assert stream.read(30 * 65_536) == data[65_536 * 3 + 5 : 65_536 * 33 + 5]
        assert stream.read() == data[65_536 * 33 + 5 :]
    rng = random.Random(7)
    with store.open(key) as stream:
        for _ in range(150):
            start = rng.randrange(len(data))
            end = start + rng.choice([1, 15, 65_535, 65_536, 65_537, 200_000, rng.randrange(1, 300_000)])
            assert store.read_range(key, start, end) == data[start:end]
            stream.seek(start)
            assert stream.read(end - start) == data[start:end]


def test_64_mib_streams_in_and_out_with_bounded_memory(tmp_path: Path) -> None:
    store = EncryptedBlobStore(FilesystemBlobStore(tmp_path / "b"), K1)
    total = 64 * 1024 * 1024
    block = os.urandom(1024 * 1024)

    class Source:
        sent = 0

        def read(self, size: int = -1, /) -> bytes:
            offset = self.sent % len(block)
            n = min(size, total - self.sent, len(block) - offset)
            self.sent += n
            return block[offset : offset + n]

    tracemalloc.start()
    try:
        ref = store.put(Source(), content_type="video/mp4")
        _, put_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        digest = hashlib.sha256()
        with store.open(ref.key) as stream:
            while chunk := stream.read(1024 * 1024):
                digest.update(chunk)
        _, read_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert ref.size == total and digest.hexdigest() == ref.sha256 == hashlib.sha256(block * 64).hexdigest()
    assert put_peak < 8 * 1024 * 1024, f"put peak {put_peak} bytes for {total}"
    assert read_peak < 8 * 1024 * 1024, f"read peak {read_peak} bytes for {total}"


def test_keyring_refuses_malformed_keys() -> None:
    for text in (
        "not json",
        json.dumps({"active": "k1", "keys": {"k1": "!!!"}}),
        json.dumps({"active": "k1", "keys": {"k1": "c2hvcnQ="}}),  # 5 bytes
        json.dumps({"active": "k9", "keys": json.loads(new_key_text("k1"))["keys"]}),
        json.dumps({"active": "../x", "keys": {"../x": json.loads(new_key_text("k1"))["keys"]["k1"]}}),
    ):
        with pytest.raises(ConfigurationError):
            Keyring.from_json(text)
    shown = repr(K1)
    assert K1.keys["k1"].hex() not in shown and json.loads(K1.to_json())["keys"]["k1"] not in shown


def test_range_reads_stay_right_when_another_process_rewraps_or_deletes(tmp_path: Path) -> None:
    inner = FilesystemBlobStore(tmp_path / "b")
    ring = K1.with_new_active_key("k2-after-rotation")  # a longer key id: the header grows
    EncryptedBlobStore(inner, K1).put(b"unrelated", content_type="text/plain")
    ref = EncryptedBlobStore(inner, K1).put(bytes(range(256)) * 1000, content_type="video/mp4")
    data = bytes(range(256)) * 1000
    player = EncryptedBlobStore(inner, ring)
    assert player.read_range(ref.key, 70_000, 70_100) == data[70_000:70_100]  # envelope now cached
    other_process = EncryptedBlobStore(inner, ring)
    assert other_process.rewrap(ref.key) is True
    assert player.read_range(ref.key, 70_000, 70_100) == data[70_000:70_100]
    assert player.key_id_of(ref.key) == "k2-after-rotation"
    assert other_process.delete(ref.key) is True
    with pytest.raises(NotFoundError):
        player.read_range(ref.key, 0, 10)
