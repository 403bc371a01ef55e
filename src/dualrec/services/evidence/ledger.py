"""Recording evidence events and signing checkpoints of the ledger (see core.evidence).

``record_event`` is called inside the unit of work of the change it describes, so an event exists
exactly when the change was committed. Payloads hold hashes, sizes, blob keys and fixed names —
never personal data (no customer names, ID numbers or original file names).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any

from dualrec.core.evidence import (
    EvidenceEvent,
    MerkleTree,
    canonical_json,
    checkpoint_payload,
    frontier_extend,
    frontier_root,
)
from dualrec.db.models import EvidenceCheckpointRow
from dualrec.db.uow import UnitOfWork, UnitOfWorkFactory
from dualrec.errors import ConflictError
from dualrec.services.evidence.signing_key import Signer
from dualrec.storage.ports import BlobStore

__all__ = [
    "Checkpoint",
    "EvidenceKind",
    "PeriodicCheckpointer",
    "artifact_file_name",
    "checkpoint_if_due",
    "covering_checkpoint",
    "make_checkpoint",
    "record_artifacts",
    "record_blob",
    "record_event",
    "tree_for_checkpoint",
]

logger = logging.getLogger(__name__)


class EvidenceKind:
    BLOB_STORED = "blob.stored"  # an original file (the recording, an ID photo)
    REPORT_STORED = "report.stored"  # a generated file (reports, PDF, evidence frames)
    STATUS_CHANGED = "status.changed"
    TOMBSTONE = "tombstone"  # a file deleted after its retention period (later)


@dataclass(frozen=True)
class Checkpoint:
    payload: dict[str, Any]
    signature: str
    public_key: str

    def to_json(self) -> dict[str, Any]:
        return {"payload": self.payload, "signature": self.signature, "public_key": self.public_key}


def record_event(
    uow: UnitOfWork, *, subject_type: str, subject_id: str, kind: str, payload: dict[str, Any]
) -> EvidenceEvent:
    canonical_json(payload)  # refuse what cannot be hashed before it reaches the database
    return uow.evidence.append(
        subject_type=subject_type, subject_id=subject_id, kind=kind, payload=payload, at=datetime.now(UTC)
    )


def record_blob(
    uow: UnitOfWork,
    blobs: BlobStore,
    *,
    subject_type: str,
    subject_id: str,
    kind: str,
    name: str,
    key: str,
) -> EvidenceEvent:
    """An event for a stored blob: its package file name, key, SHA-256, size and content type."""
    st = blobs.stat(key)
    payload = {
        "name": name,
        "blob_key": key,
        "sha256": st.sha256,
        "size": st.size,
        "content_type": st.content_type,
    }
    return record_event(uow, subject_type=subject_type, subject_id=subject_id, kind=kind, payload=payload)


def artifact_file_name(artifact: str) -> str:
    return {"report": "report.json", "patent": "patent.json", "pdf": "report.pdf"}.get(
        artifact, f"{artifact}.bin"
    )


def record_artifacts(uow: UnitOfWork, blobs: BlobStore, recording_id: str, artifacts: dict[str, Any]) -> None:
    """One ``report.stored`` event per stored QC artifact (reports, PDF, each evidence frame)."""
    for name, key in artifacts.items():
        if name == "evidence":
            for frame, frame_key in sorted((key or {}).items()):
                safe = PurePosixPath(str(frame)).name
                record_blob(
                    uow,
                    blobs,
                    subject_type="recording",
                    subject_id=recording_id,
                    kind=EvidenceKind.REPORT_STORED,
                    name=f"evidence/{safe}",
                    key=frame_key,
                )
        elif isinstance(key, str):
            record_blob(
                uow,
                blobs,
                subject_type="recording",
                subject_id=recording_id,
                kind=EvidenceKind.REPORT_STORED,
                name=artifact_file_name(name),
                key=key,
            )


def _checkpoint_from_row(row: EvidenceCheckpointRow) -> Checkpoint:
    payload = checkpoint_payload(
        seq=row.seq,
        head_hash=row.head_hash,
        root=row.merkle_root,
        at=row.at,
        key_id=row.key_id,
        algorithm=row.algorithm,
    )
    return Checkpoint(payload=payload, signature=row.signature, public_key=row.public_key)


def _new_checkpoint(uow: UnitOfWork, signer: Signer) -> Checkpoint | None:
    """Sign the current head (locked meanwhile); None when the newest checkpoint is already there."""
    seq, head_hash = uow.evidence.head(lock=True)
    last = uow.evidence.latest_checkpoint()
    if seq == 0 or (last is not None and last.seq >= seq):
        return None
    start = last.seq if last else 0
    frontier = [(int(size), str(h)) for size, h in (last.frontier if last else [])]
    new_hashes = uow.evidence.hashes(start, seq)
    if len(new_hashes) != seq - start or new_hashes[-1] != head_hash:
        raise ConflictError(
            "存证链与链头不一致 / the evidence ledger does not match its head (missing or altered events)",
            details={"head_seq": seq, "events_found": start + len(new_hashes)},
        )
    frontier = frontier_extend(frontier, new_hashes)
    at = datetime.now(UTC)
    payload = checkpoint_payload(
        seq=seq,
        head_hash=head_hash,
        root=frontier_root(frontier),
        at=at,
        key_id=signer.key_id,
        algorithm=signer.algorithm,
    )
    signature = signer.sign(canonical_json(payload))
    uow.evidence.add_checkpoint(
        EvidenceCheckpointRow(
            seq=seq,
            at=at,
            head_hash=head_hash,
            merkle_root=payload["merkle_root"],
            frontier=[[size, h] for size, h in frontier],
            key_id=signer.key_id,
            algorithm=signer.algorithm,
            public_key=signer.public_key,
            signature=signature,
        )
    )
    return Checkpoint(payload=payload, signature=signature, public_key=signer.public_key)


def make_checkpoint(uows: UnitOfWorkFactory, signer: Signer) -> Checkpoint | None:
    """A checkpoint of the head now (on demand); None when nothing happened since the last one."""
    with uows() as uow:
        cp = _new_checkpoint(uow, signer)
        uow.commit()
    return cp


def checkpoint_if_due(uows: UnitOfWorkFactory, signer: Signer, every: int) -> Checkpoint | None:
    """A checkpoint when at least ``every`` events were appended since the last one."""
    with uows() as uow:
        seq, _ = uow.evidence.head()
        last = uow.evidence.latest_checkpoint()
        last_seq = last.seq if last else 0  # read while the session is open
    if seq - last_seq < every:
        return None
    return make_checkpoint(uows, signer)


def covering_checkpoint(uow: UnitOfWork, seq: int) -> Checkpoint | None:
    row = uow.evidence.checkpoint_covering(seq)
    return _checkpoint_from_row(row) if row else None


def tree_for_checkpoint(uow: UnitOfWork, cp: Checkpoint) -> MerkleTree:
    """The Merkle tree over events 1..cp.seq, checked against what the checkpoint signed."""
    tree = MerkleTree(uow.evidence.hashes(0, int(cp.payload["seq"])))
    if tree.size != cp.payload["seq"] or tree.root() != cp.payload["merkle_root"]:
        raise ConflictError(
            "存证链与已签名检查点不一致 / the evidence ledger no longer matches a signed checkpoint",
            details={"checkpoint_seq": cp.payload["seq"]},
        )
    return tree


class PeriodicCheckpointer:
    """Called after work that appends events: signs a checkpoint once ``every`` events have piled up.

    The signing key is loaded on first use; a failure is logged, never raised into the caller's job
    (the events are committed already; the next call or ``dualrec evidence checkpoint`` catches up).
    """

    def __init__(self, uows: UnitOfWorkFactory, signer: Callable[[], Signer], every: int) -> None:
        self._uows, self._signer_factory, self._every = uows, signer, every
        self._signer: Signer | None = None
        self._lock = threading.Lock()

    def __call__(self) -> Checkpoint | None:
        try:
            with self._lock:
                if self._signer is None:
                    self._signer = self._signer_factory()
                return checkpoint_if_due(self._uows, self._signer, self._every)
        except Exception:
            logger.exception("evidence checkpoint failed (will be retried with the next events)")
            return None
