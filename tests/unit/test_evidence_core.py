"""The pure ledger math: event hashes, the chains, RFC 6962 Merkle roots and inclusion proofs."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from dualrec.core.evidence import (
    GENESIS_HASH,
    EvidenceEvent,
    MerkleTree,
    canonical_json,
    event_hash,
    format_at,
    frontier_extend,
    frontier_root,
    parse_at,
    verify_chain,
    verify_inclusion,
)

T0 = datetime(2026, 11, 23, 9, 30, 0, 123456, tzinfo=UTC)


def _chain(n: int, subjects: tuple[str, ...] = ("r1",)) -> list[EvidenceEvent]:
    events: list[EvidenceEvent] = []
    last_of: dict[str, str] = {}
    prev = GENESIS_HASH
    for i in range(n):
        sid = subjects[i % len(subjects)]
        ev = EvidenceEvent(
            seq=i + 1,
            subject_type="recording",
            subject_id=sid,
            kind="blob.stored",
            payload={"name": f"f{i}.bin", "sha256": hashlib.sha256(bytes([i])).hexdigest(), "size": i},
            at=format_at(T0 + timedelta(seconds=i)),
            prev_hash=prev,
            subject_prev_hash=last_of.get(sid, GENESIS_HASH),
            hash="",
        )
        ev = replace(ev, hash=event_hash(ev.prev_hash, ev.body()))
        events.append(ev)
        prev = last_of[sid] = ev.hash
    return events


def _rehash(ev: EvidenceEvent) -> EvidenceEvent:
    return replace(ev, hash=event_hash(ev.prev_hash, ev.body()))


def test_canonical_json_is_stable_and_refuses_floats() -> None:
    assert canonical_json({"b": 1, "a": "张三"}) == '{"a":"张三","b":1}'.encode()
    assert canonical_json({"a": [1, {"d": 2, "c": 3}]}) == b'{"a":[1,{"c":3,"d":2}]}'
    with pytest.raises(ValueError, match="floats"):
        canonical_json({"score": 0.5})


def test_event_hash_is_sha256_of_prev_hash_text_and_canonical_body() -> None:
    ev = _chain(1)[0]
    expected = hashlib.sha256(GENESIS_HASH.encode() + canonical_json(ev.body())).hexdigest()
    assert ev.hash == expected
    assert parse_at(ev.at) == T0 and ev.at == "2026-11-23T09:30:00.123456Z"


def test_intact_chains_have_no_problems() -> None:
    events = _chain(12, subjects=("r1", "r2", "r3"))
    assert verify_chain(events, subject_chain=False) == []
    for sid in ("r1", "r2", "r3"):
        assert verify_chain([e for e in events if e.subject_id == sid], subject_chain=True) == []
    assert EvidenceEvent.from_json(events[3].to_json()) == events[3]


def _payload_altered(evs: list[EvidenceEvent]) -> list[EvidenceEvent]:
    evs[2] = replace(evs[2], payload={**evs[2].payload, "size": 999})
    return evs


def _kind_altered(evs: list[EvidenceEvent]) -> list[EvidenceEvent]:
    evs[1] = replace(evs[1], kind="status.changed")
    return evs


def _time_altered(evs: list[EvidenceEvent]) -> list[EvidenceEvent]:
    evs[3] = replace(evs[3], at=format_at(T0 - timedelta(days=1)))
    return evs


def _dropped(evs: list[EvidenceEvent]) -> list[EvidenceEvent]:
    del evs[2]
    return evs


def _swapped(evs: list[EvidenceEvent]) -> list[EvidenceEvent]:
    evs[1], evs[2] = evs[2], evs[1]
    return evs


def _rewritten_and_rehashed(evs: list[EvidenceEvent]) -> list[EvidenceEvent]:
    # An attacker who recomputes the altered event's own hash still breaks the link to the next one.
    evs[2] = _rehash(replace(evs[2], payload={**evs[2].payload, "sha256": "f" * 64}))
    return evs


def _first_not_genesis(evs: list[EvidenceEvent]) -> list[EvidenceEvent]:
    del evs[0]
    return evs


@pytest.mark.parametrize(
    ("tamper", "global_msg", "subject_msg"),
    [
        (_payload_altered, "event #3 (seq 3, blob.stored): content does not match", "content does not match"),
        (_kind_altered, "event #2 (seq 2, status.changed): content does not match", "content does not match"),
        (_time_altered, "event #4 (seq 4, blob.stored): content does not match", "content does not match"),
        (_dropped, "event #3 (seq 4, blob.stored): chain broken after seq 2", "chain broken"),
        (_swapped, "event #2 (seq 3, blob.stored): chain broken after seq 1", "out of order"),
        (_rewritten_and_rehashed, "event #4 (seq 4, blob.stored): chain broken after seq 3", "chain broken"),
    ],
)
def test_each_tampering_is_named(tamper: object, global_msg: str, subject_msg: str) -> None:
    assert callable(tamper)
    for subject_chain, msg in ((False, global_msg), (True, subject_msg)):
        problems = verify_chain(tamper(_chain(6)), subject_chain=subject_chain)
        assert any(msg in p for p in problems), (subject_chain, problems)


def test_a_subject_chain_must_start_at_genesis() -> None:
    events = [e for e in _chain(6, subjects=("r1", "r2")) if e.subject_id == "r1"]
    problems = verify_chain(_first_not_genesis(events), subject_chain=True)
    assert problems == [
        "event #1 (seq 3, blob.stored): first event does not start the subject chain "
        "(subject_prev_hash ≠ hash of the previous event)"
    ]


def _reference_mth(leaves: list[bytes]) -> bytes:
    """RFC 6962 §2.1 MTH, written directly from the definition (independent of MerkleTree)."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1 << ((n - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + _reference_mth(leaves[:k]) + _reference_mth(leaves[k:])).digest()


def _leaves(n: int) -> list[str]:
    return [hashlib.sha256(f"event {i}".encode()).hexdigest() for i in range(n)]


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, 6, 7, 8, 9, 13, 31, 32, 33, 100])
def test_merkle_root_matches_rfc6962_definition_for_odd_and_even_sizes(n: int) -> None:
    leaves = _leaves(n)
    expected = _reference_mth([bytes.fromhex(h) for h in leaves]).hex()
    assert MerkleTree(leaves).root() == expected
    assert frontier_root(frontier_extend([], leaves)) == expected
    for cut in {0, n // 3, n // 2, n}:  # a checkpoint continues from the previous compact range
        assert frontier_root(frontier_extend(frontier_extend([], leaves[:cut]), leaves[cut:])) == expected


@pytest.mark.parametrize("n", [1, 2, 3, 7, 10, 17])
def test_every_inclusion_proof_verifies_and_wrong_claims_do_not(n: int) -> None:
    leaves = _leaves(n)
    tree = MerkleTree(leaves)
    root = tree.root()
    for i, leaf in enumerate(leaves):
        proof = tree.proof(i)
        assert verify_inclusion(leaf, i, n, proof, root)
        assert not verify_inclusion(leaf, i, n, proof, "0" * 64)  # another root
        assert not verify_inclusion(leaf, i, 4 * n + 1, proof, root)  # a tree of another height
        if n > 1:
            assert not verify_inclusion(leaf, (i + 1) % n, n, proof, root)  # another position
            assert not verify_inclusion(leaves[(i + 1) % n], i, n, proof, root)  # another event
            bad = list(proof)
            bad[0] = hashlib.sha256(b"x").hexdigest()
            assert not verify_inclusion(leaf, i, n, bad, root)
            assert not verify_inclusion(leaf, i, n, proof[:-1], root)  # shortened path


def test_proof_of_missing_leaf_is_an_error() -> None:
    with pytest.raises(IndexError):
        MerkleTree(_leaves(3)).proof(3)
