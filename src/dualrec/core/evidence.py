"""Evidence ledger math (存证): canonical events, the hash chain, Merkle trees, checkpoint payloads.

Pure and stdlib-only, so that the offline verifier can use exactly the same rules as the server.

* One **global chain**: every event has a global ``seq`` (1, 2, 3, ...) and
  ``hash = SHA-256(prev_hash_hex_ascii ‖ canonical_json(event))`` where ``prev_hash`` is the hash of
  event ``seq - 1`` (``GENESIS_HASH`` for seq 1). One chain means one head to sign in a checkpoint.
* Every event also carries ``subject_prev_hash``: the hash of the previous event of the *same subject*
  (``GENESIS_HASH`` for its first). An exported package therefore holds a complete per-subject chain
  that can be checked without the other subjects' events (which never leave the server).
* Checkpoints sign the global head and the RFC 6962 Merkle root over the event hashes 1..seq; an
  inclusion proof ties each exported event to that signed root.
* Checkpoints form a chain of their own (format 2): checkpoint ``number`` N signs the SHA-256 of
  checkpoint N-1's payload (``checkpoint_hash``), and the audit log's head (row count and hash), so
  a rewritten or removed checkpoint breaks every later one. Format 1 (before that) is still read.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "CHECKPOINT_FORMAT",
    "CHECKPOINT_FORMATS",
    "CHECKPOINT_FORMAT_V1",
    "GENESIS_HASH",
    "STATEMENT_FORMAT",
    "EvidenceEvent",
    "MerkleTree",
    "canonical_json",
    "checkpoint_chain_problems",
    "checkpoint_hash",
    "checkpoint_payload",
    "checkpoint_payload_v1",
    "event_hash",
    "event_problems",
    "format_at",
    "frontier_extend",
    "frontier_root",
    "inclusion_proof",
    "is_hash",
    "log_entry_name",
    "log_entry_number",
    "merkle_root",
    "parse_at",
    "statement_payload",
    "verify_chain",
    "verify_inclusion",
]

GENESIS_HASH = "0" * 64
_HEX = frozenset("0123456789abcdef")


def canonical_json(value: Any) -> bytes:
    """The one byte form that is hashed and signed: sorted keys, no spaces, UTF-8, no floats."""
    _refuse_floats(value)
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _refuse_floats(value: Any) -> None:
    # Floats do not round-trip identically through every database JSON column: keep them out.
    if isinstance(value, float):
        raise ValueError("floats are not allowed in evidence payloads (use integers or strings)")
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise ValueError("evidence payload keys must be strings")
            _refuse_floats(v)
    elif isinstance(value, list | tuple):
        for v in value:
            _refuse_floats(v)


def format_at(at: datetime) -> str:
    """UTC with microseconds, e.g. ``2026-11-23T11:41:50.123456Z`` (what every backend stores)."""
    if at.tzinfo is None:
        raise ValueError("naive datetime")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_at(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class EvidenceEvent:
    seq: int
    subject_type: str
    subject_id: str
    kind: str
    payload: dict[str, Any]
    at: str  # format_at()
    prev_hash: str
    subject_prev_hash: str
    hash: str

    def body(self) -> dict[str, Any]:
        """The hashed fields (all but ``prev_hash``, hashed as the prefix, and ``hash``)."""
        return {
            "seq": self.seq,
            "subject_type": self.subject_type,
            "subject_id": self.subject_id,
            "kind": self.kind,
            "payload": self.payload,
            "at": self.at,
            "subject_prev_hash": self.subject_prev_hash,
        }

    def to_json(self) -> dict[str, Any]:
        return {**self.body(), "prev_hash": self.prev_hash, "hash": self.hash}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EvidenceEvent:
        return cls(
            seq=int(data["seq"]),
            subject_type=str(data["subject_type"]),
            subject_id=str(data["subject_id"]),
            kind=str(data["kind"]),
            payload=dict(data["payload"]),
            at=str(data["at"]),
            prev_hash=str(data["prev_hash"]),
            subject_prev_hash=str(data["subject_prev_hash"]),
            hash=str(data["hash"]),
        )


def event_hash(prev_hash: str, body: dict[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + canonical_json(body)).hexdigest()


def is_hash(value: object) -> bool:
    return isinstance(value, str) and len(value) == 64 and set(value) <= _HEX


def event_problems(
    ev: EvidenceEvent, prev: EvidenceEvent | None, *, subject_chain: bool, where: str
) -> list[str]:
    """What is wrong with one event given the one before it (see ``verify_chain``)."""
    problems: list[str] = []
    if not is_hash(ev.hash) or not is_hash(ev.prev_hash) or not is_hash(ev.subject_prev_hash):
        return [f"{where}: malformed hash field"]
    try:
        recomputed = event_hash(ev.prev_hash, ev.body())
    except ValueError as exc:
        return [f"{where}: cannot be hashed: {exc}"]
    if recomputed != ev.hash:
        problems.append(f"{where}: content does not match its hash (altered event)")
    if subject_chain:
        expected = prev.hash if prev is not None else GENESIS_HASH
        if ev.subject_prev_hash != expected:
            what = "first event does not start the subject chain" if prev is None else "chain broken"
            problems.append(f"{where}: {what} (subject_prev_hash ≠ hash of the previous event)")
        if prev is not None and ev.seq <= prev.seq:
            problems.append(f"{where}: out of order (seq {ev.seq} after seq {prev.seq})")
    else:
        if prev is None and ev.seq == 1 and ev.prev_hash != GENESIS_HASH:
            problems.append(f"{where}: first event of the ledger does not start at the genesis hash")
        if prev is not None and (ev.seq != prev.seq + 1 or ev.prev_hash != prev.hash):
            problems.append(f"{where}: chain broken after seq {prev.seq}")
    return problems


def verify_chain(events: list[EvidenceEvent], *, subject_chain: bool) -> list[str]:
    """Problems in a list of events: recomputed hashes, increasing seq, and the links between them.

    ``subject_chain=True`` links events through ``subject_prev_hash`` (one subject's events, the
    first one pointing at the genesis hash); otherwise through ``prev_hash`` with consecutive seq.
    """
    problems: list[str] = []
    prev: EvidenceEvent | None = None
    for i, ev in enumerate(events):
        where = f"event #{i + 1} (seq {ev.seq}, {ev.kind})"
        problems.extend(event_problems(ev, prev, subject_chain=subject_chain, where=where))
        prev = ev
    return problems


# --- Merkle tree (RFC 6962 / RFC 9162 §2.1) over raw 32-byte event hashes --------------------------


def _leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (n ≥ 2)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


class MerkleTree:
    """All levels of perfect subtrees, so that roots and proofs cost O(log n) after an O(n) build."""

    def __init__(self, leaves_hex: list[str]) -> None:
        level = [_leaf(bytes.fromhex(h)) for h in leaves_hex]
        self.size = len(level)
        self._levels = [level]
        while len(level) > 1:
            level = [_node(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            self._levels.append(level)

    def _range(self, start: int, end: int) -> bytes:
        n = end - start
        if n & (n - 1) == 0 and start % n == 0:  # a perfect, aligned subtree: precomputed
            return self._levels[n.bit_length() - 1][start // n]
        k = _split(n)
        return _node(self._range(start, start + k), self._range(start + k, end))

    def root(self) -> str:
        if self.size == 0:
            return hashlib.sha256(b"").hexdigest()
        return self._range(0, self.size).hex()

    def proof(self, index: int) -> list[str]:
        """The audit path of leaf ``index`` (0-based), bottom-up, as RFC 9162 PATH(m, D[n])."""
        if not 0 <= index < self.size:
            raise IndexError(index)
        path: list[bytes] = []
        start, end, m = 0, self.size, index
        while end - start > 1:
            k = _split(end - start)
            if m < k:
                path.append(self._range(start + k, end))
                end = start + k
            else:
                path.append(self._range(start, start + k))
                start, m = start + k, m - k
        return [p.hex() for p in reversed(path)]


def merkle_root(leaves_hex: list[str]) -> str:
    return MerkleTree(leaves_hex).root()


def inclusion_proof(leaves_hex: list[str], index: int) -> list[str]:
    return MerkleTree(leaves_hex).proof(index)


def verify_inclusion(leaf_hex: str, index: int, tree_size: int, proof: list[str], root_hex: str) -> bool:
    """RFC 9162 §2.1.3.2: does ``proof`` put ``leaf_hex`` at ``index`` of a tree with root ``root_hex``?"""
    if not (0 <= index < tree_size) or not is_hash(leaf_hex) or not all(is_hash(p) for p in proof):
        return False
    fn, sn = index, tree_size - 1
    r = _leaf(bytes.fromhex(leaf_hex))
    for p_hex in proof:
        p = bytes.fromhex(p_hex)
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = _node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = _node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r.hex() == root_hex


def frontier_extend(frontier: list[tuple[int, str]], leaves_hex: list[str]) -> list[tuple[int, str]]:
    """Append leaves to a compact range: (size, hash) of the perfect subtrees, left to right."""
    out = list(frontier)
    for h in leaves_hex:
        size, node = 1, _leaf(bytes.fromhex(h))
        while out and out[-1][0] == size:
            left_size, left = out.pop()
            node, size = _node(bytes.fromhex(left), node), size + left_size
        out.append((size, node.hex()))
    return out


def frontier_root(frontier: list[tuple[int, str]]) -> str:
    """The RFC 6962 root of the tree whose compact range is ``frontier`` (same as merkle_root)."""
    if not frontier:
        return hashlib.sha256(b"").hexdigest()
    r = bytes.fromhex(frontier[-1][1])
    for _, h in reversed(frontier[:-1]):
        r = _node(bytes.fromhex(h), r)
    return r.hex()


# --- signed payloads ---------------------------------------------------------------------------------

CHECKPOINT_FORMAT_V1 = "dualrec-evidence-checkpoint/1"  # before the checkpoint chain (migration 0010)
CHECKPOINT_FORMAT = "dualrec-evidence-checkpoint/2"
CHECKPOINT_FORMATS = (CHECKPOINT_FORMAT_V1, CHECKPOINT_FORMAT)
STATEMENT_FORMAT = "dualrec-evidence-statement/1"


def checkpoint_payload(
    *,
    number: int,
    seq: int,
    head_hash: str,
    root: str,
    at: datetime,
    key_id: str,
    algorithm: str,
    prev_number: int,
    prev_hash: str,
    audit_seq: int,
    audit_hash: str,
    audited: bool,
) -> dict[str, Any]:
    """What a checkpoint signs (as ``canonical_json``): the ledger up to ``seq`` is fixed, and so are
    the previous checkpoint (``prev_hash`` = ``checkpoint_hash`` of its payload; 0 and the genesis
    hash for the first) and the audit log's first ``audit_seq`` rows (the last one's hash).
    ``audited``: signed right after a clean audit of the whole ledger and audit log."""
    return {
        "format": CHECKPOINT_FORMAT,
        "number": number,
        "seq": seq,
        "head_hash": head_hash,
        "merkle_root": root,
        "at": format_at(at),
        "key_id": key_id,
        "algorithm": algorithm,
        "prev_number": prev_number,
        "prev_hash": prev_hash,
        "audit_seq": audit_seq,
        "audit_head_hash": audit_hash,
        "audited": audited,
    }


def checkpoint_payload_v1(
    *, seq: int, head_hash: str, root: str, at: datetime, key_id: str, algorithm: str
) -> dict[str, Any]:
    """The payload of a checkpoint signed before checkpoints were chained (format 1)."""
    return {
        "format": CHECKPOINT_FORMAT_V1,
        "seq": seq,
        "head_hash": head_hash,
        "merkle_root": root,
        "at": format_at(at),
        "key_id": key_id,
        "algorithm": algorithm,
    }


_LOG_PREFIX, _LOG_SUFFIX = "checkpoint-", ".json"


def log_entry_name(number: int) -> str:
    """The outside checkpoint log's entry of checkpoint ``number``: ``checkpoint-000000000042.json``."""
    return f"{_LOG_PREFIX}{number:012d}{_LOG_SUFFIX}"


def log_entry_number(name: str) -> int | None:
    body = name[len(_LOG_PREFIX) : -len(_LOG_SUFFIX)]
    if name.startswith(_LOG_PREFIX) and name.endswith(_LOG_SUFFIX) and len(body) == 12 and body.isdigit():
        return int(body)
    return None


def checkpoint_hash(payload: dict[str, Any]) -> str:
    """What the next checkpoint signs as ``prev_hash``: SHA-256 of the canonical payload."""
    return hashlib.sha256(canonical_json(payload)).hexdigest()


def checkpoint_chain_problems(chain: list[tuple[int, dict[str, Any]]]) -> list[str]:
    """Problems in consecutive checkpoints ``(number, payload)`` (signatures are checked elsewhere).

    Numbers must follow each other; a format-2 payload must carry its own number and link to the
    payload before it (the first of the ledger to the genesis hash); ledger and audit positions never
    go back; format 1 (unlinked) may only come before format 2.
    """
    problems: list[str] = []
    prev: tuple[int, dict[str, Any]] | None = None
    for number, payload in chain:
        where = f"checkpoint {number}"
        fmt = payload.get("format")
        if fmt not in CHECKPOINT_FORMATS:
            problems.append(f"{where}: unknown format {fmt!r}")
        if prev is not None and number != prev[0] + 1:
            missing = f"{prev[0] + 1}" if number == prev[0] + 2 else f"{prev[0] + 1}..{number - 1}"
            problems.append(f"checkpoint {missing} missing (the chain goes from {prev[0]} to {number})")
        if fmt == CHECKPOINT_FORMAT:
            if payload.get("number") != number:
                problems.append(f"{where}: signed as number {payload.get('number')} (renumbered)")
            if prev is None and number == 1:
                if payload.get("prev_number") != 0 or payload.get("prev_hash") != GENESIS_HASH:
                    problems.append(f"{where}: the first checkpoint does not start at the genesis hash")
            elif prev is not None and number == prev[0] + 1:
                linked = payload.get("prev_number") == prev[0]
                linked = linked and payload.get("prev_hash") == checkpoint_hash(prev[1])
                if not linked:
                    problems.append(
                        f"{where}: does not link to checkpoint {prev[0]} "
                        f"(checkpoint {prev[0]} was rewritten or replaced)"
                    )
        elif prev is not None and prev[1].get("format") == CHECKPOINT_FORMAT:
            problems.append(f"{where}: format 1 after format 2 (an unlinked checkpoint was inserted)")
        if prev is not None:
            for key, what in (("seq", "ledger"), ("audit_seq", "audit log")):
                before, now = prev[1].get(key), payload.get(key)
                if isinstance(before, int) and isinstance(now, int) and now < before:
                    problems.append(f"{where}: the {what} position goes back ({before} → {now})")
        prev = (number, payload)
    return problems


def statement_payload(
    *,
    subject_type: str,
    subject_id: str,
    event_seqs: list[int],
    last_event_hash: str,
    subject_root: str,
    checkpoint_seq: int,
    documents: dict[str, str],
    at: datetime,
    key_id: str,
    algorithm: str,
) -> dict[str, Any]:
    """What an export signs: exactly these events (none dropped at the end) and the SHA-256 of the
    package's own documents (``manifest.json``, ``ledger/events.json``, ``ledger/proofs.json``)."""
    return {
        "format": STATEMENT_FORMAT,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "event_count": len(event_seqs),
        "event_seqs": event_seqs,
        "last_event_hash": last_event_hash,
        "subject_merkle_root": subject_root,
        "checkpoint_seq": checkpoint_seq,
        "documents": dict(sorted(documents.items())),
        "exported_at": format_at(at),
        "key_id": key_id,
        "algorithm": algorithm,
    }
