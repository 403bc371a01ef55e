"""The ledger on PostgreSQL and MariaDB: concurrent appends and checkpoints keep one unbroken chain
(and one unbroken chain of checkpoints, each written once to the outside log)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from dualrec.core.evidence import GENESIS_HASH, MerkleTree, canonical_json, verify_chain
from dualrec.db.engine import make_engine, make_session_factory
from dualrec.db.migrate import upgrade
from dualrec.db.uow import UnitOfWorkFactory
from dualrec.services.evidence import ledger
from dualrec.services.evidence.integrity import run_audit
from dualrec.services.evidence.signing_key import generate_key_file, verify_signature
from dualrec.storage.filesystem import FilesystemAppendLog
from tests.services import isolated_database_url

THREADS = 6
PER_THREAD = 25


@pytest.fixture(params=["postgresql", "mysql"])
def uows(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[UnitOfWorkFactory]:
    with isolated_database_url(request.param, str(tmp_path)) as url:
        upgrade(url)
        engine = make_engine(url)
        try:
            yield UnitOfWorkFactory(make_session_factory(engine))
        finally:
            engine.dispose()


def test_concurrent_appends_keep_one_chain(uows: UnitOfWorkFactory, tmp_path: Path) -> None:
    log = FilesystemAppendLog(tmp_path / "checkpoint-log")
    notary = ledger.Notary(generate_key_file(tmp_path / "k.pem", "ed25519"), log)
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(PER_THREAD):
                with uows() as uow:
                    ledger.record_event(
                        uow,
                        subject_type="recording",
                        subject_id=f"rec-{n % 3}",
                        kind="blob.stored",
                        payload={"writer": n, "i": i, "sha256": "ab" * 32, "size": i},
                    )
                    uow.commit()
                if i % 10 == 9:
                    ledger.make_checkpoint(uows, notary)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    total = THREADS * PER_THREAD

    with uows() as uow:
        head_seq, head_hash = uow.evidence.head()
        events = list(uow.evidence.events(0, head_seq))
        checkpoints = [ledger.covering_checkpoint(uow, s) for s in range(1, head_seq + 1)]
    assert head_seq == total and [e.seq for e in events] == list(range(1, total + 1))
    assert events[0].prev_hash == GENESIS_HASH and events[-1].hash == head_hash
    assert verify_chain(events, subject_chain=False) == []
    for sid in ("rec-0", "rec-1", "rec-2"):
        mine = [e for e in events if e.subject_id == sid]
        assert len(mine) == 2 * PER_THREAD and verify_chain(mine, subject_chain=True) == []
    assert sorted((e.payload["writer"], e.payload["i"]) for e in events) == [
        (n, i) for n in range(THREADS) for i in range(PER_THREAD)
    ]

    hashes = [e.hash for e in events]
    signed = {cp.payload["seq"]: cp for cp in checkpoints if cp is not None}
    assert len(signed) >= 2  # several checkpoints were taken while appends went on
    for seq, cp in signed.items():
        assert cp.payload["merkle_root"] == MerkleTree(hashes[:seq]).root()
        assert cp.payload["head_hash"] == hashes[seq - 1]
        assert verify_signature("ed25519", cp.public_key, canonical_json(cp.payload), cp.signature)
    # the checkpoints raced each other for the outside log: each is there once, as in the database
    with uows() as uow:
        rows = uow.evidence.checkpoints(0)
        documents = {r.number: ledger.checkpoint_from_row(r).document() for r in rows}
    assert sorted(documents) == list(range(1, len(documents) + 1))
    assert {n: log.read(ledger.log_name(n)) for n in documents} == documents
    result = run_audit(uows, notary, trigger="test")
    assert result.ok, result.problems
