"""Blob storage: encryption at rest vs the plain filesystem store, measured in the same run.

Prints write/read throughput of the plain filesystem store, AES-256-GCM and SM4-GCM envelope
encryption on the same 256 MiB stream, each as a ratio to the plain store, and the latency of
random range reads (what video seeking asks for). Runnable alone: ``python bench/storage.py [MiB]``.
"""

from __future__ import annotations

import hashlib
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from dualrec.storage.encryption import EncryptedBlobStore
from dualrec.storage.filesystem import FilesystemBlobStore
from dualrec.storage.keys import Keyring, new_key_text
from dualrec.storage.ports import BlobStore

MiB = 1024 * 1024


class Source:
    def __init__(self, total: int, block: bytes) -> None:
        self.total, self.block, self.sent = total, block, 0

    def read(self, size: int = -1, /) -> bytes:
        offset = self.sent % len(self.block)
        n = min(size, self.total - self.sent, len(self.block) - offset)
        self.sent += n
        return self.block[offset : offset + n]


def measure(store: BlobStore, total: int, block: bytes) -> dict[str, float]:
    started = time.perf_counter()
    ref = store.put(Source(total, block), content_type="video/mp4")
    put_s = time.perf_counter() - started
    started = time.perf_counter()
    digest = hashlib.sha256()
    with store.open(ref.key) as stream:
        while chunk := stream.read(MiB):
            digest.update(chunk)
    read_s = time.perf_counter() - started
    assert digest.hexdigest() == ref.sha256
    rng = random.Random(1)
    latencies: dict[int, list[float]] = {64 * 1024: [], MiB: []}
    for length, samples in latencies.items():
        for _ in range(200):
            start = rng.randrange(total - length)
            t0 = time.perf_counter()
            store.read_range(ref.key, start, start + length)
            samples.append((time.perf_counter() - t0) * 1000)
    store.delete(ref.key)
    return {
        "put_mbs": total / MiB / put_s,
        "read_mbs": total / MiB / read_s,
        "range64k_p50_ms": statistics.median(latencies[64 * 1024]),
        "range1m_p50_ms": statistics.median(latencies[MiB]),
        "range1m_p95_ms": statistics.quantiles(latencies[MiB], n=20)[18],
    }


def main() -> int:
    total = int(sys.argv[1]) * MiB if len(sys.argv) > 1 else 256 * MiB
    block = os.urandom(MiB)
    keyring = Keyring.from_json(new_key_text("bench"))
    with tempfile.TemporaryDirectory(prefix="dualrec-bench-storage-") as tmp:
        root = Path(tmp)
        variants: dict[str, BlobStore] = {
            "filesystem (plain)": FilesystemBlobStore(root / "plain"),
            "aes-256-gcm": EncryptedBlobStore(FilesystemBlobStore(root / "aes"), keyring),
            "sm4-gcm": EncryptedBlobStore(FilesystemBlobStore(root / "sm4"), keyring, algorithm="sm4-gcm"),
        }
        results = {name: measure(store, total, block) for name, store in variants.items()}
    base = results["filesystem (plain)"]
    print(
        f"{total // MiB} MiB streamed through each store (write includes fsync), cpu count {os.cpu_count()}"
    )
    print(
        f"{'store':<20}{'write MB/s':>12}{'x plain':>9}{'read MB/s':>11}{'x plain':>9}"
        f"{'64K range p50 ms':>18}{'1M range p50/p95 ms':>22}{'x plain':>9}"
    )
    for name, r in results.items():
        print(
            f"{name:<20}{r['put_mbs']:>12.0f}{r['put_mbs'] / base['put_mbs']:>9.2f}"
            f"{r['read_mbs']:>11.0f}{r['read_mbs'] / base['read_mbs']:>9.2f}"
            f"{r['range64k_p50_ms']:>18.2f}{r['range1m_p50_ms']:>13.2f}/{r['range1m_p95_ms']:<8.2f}"
            f"{r['range1m_p50_ms'] / base['range1m_p50_ms']:>9.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
