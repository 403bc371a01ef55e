"""Recording evidence events and signing checkpoints of the ledger (see core.evidence).

``record_event`` is called inside the unit of work of the change it describes, so an event exists
exactly when the change was committed. Payloads hold hashes, sizes, blob keys and fixed names —
never personal data (no customer names, ID numbers or original file names).

Checkpoints are chained (each signs the previous one's hash and the audit log's head) and written,
once each, to an append-only log outside the database (``Notary.log``, docs/evidence.md). Before
signing, the database is compared with that log: a checkpoint the log has and the database lacks,
or one that differs, means the database was rewritten — nothing is signed (``LedgerIntegrityError``)
and an alert is recorded. The new checkpoint is committed first, then written to the log; when that
write fails the operation fails (``CheckpointLogError``) and the checkpoint stays *pending* until the
next checkpoint or audit writes it (the audit reports it meanwhile).
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
    GENESIS_HASH,
    EvidenceEvent,
    MerkleTree,
    canonical_json,
    checkpoint_chain_problems,
    checkpoint_hash,
    checkpoint_payload,
    checkpoint_payload_v1,
    frontier_extend,
    frontier_root,
    log_entry_name,
    log_entry_number,
)
from dualrec.db.models import EvidenceCheckpointRow
from dualrec.db.uow import UnitOfWork, UnitOfWorkFactory
from dualrec.errors import ConflictError
from dualrec.i18n import msg
from dualrec.services.evidence.alerts import CheckpointLogError, LedgerIntegrityError, record_alert
from dualrec.services.evidence.signing_key import Signer
from dualrec.services.evidence.verify import document_bytes
from dualrec.storage.ports import AppendOnlyLog, BlobStore, LogEntryExistsError

__all__ = [
    "MAX_CHAIN_IN_PACKAGE",
    "Checkpoint",
    "EvidenceKind",
    "Notary",
    "PeriodicCheckpointer",
    "artifact_file_name",
    "checkpoint_chain",
    "checkpoint_from_row",
    "checkpoint_if_due",
    "covering_checkpoint",
    "ensure_logged",
    "log_name",
    "log_number",
    "make_checkpoint",
    "publish_pending",
    "record_artifacts",
    "record_blob",
    "record_event",
    "tree_for_checkpoint",
]

logger = logging.getLogger(__name__)

MAX_CHAIN_IN_PACKAGE = 1000  # checkpoints a package carries at most (from the last audited one)
log_name, log_number = log_entry_name, log_entry_number


@dataclass(frozen=True)
class Notary:
    """What signs checkpoints and where they are anchored: the institution's key and the outside
    checkpoint log (None: no outside log — tamper evidence then rests on the database alone)."""

    signer: Signer
    log: AppendOnlyLog | None


class EvidenceKind:
    BLOB_STORED = "blob.stored"  # an original file (the recording, an ID photo)
    REPORT_STORED = "report.stored"  # a generated file (reports, PDF, evidence frames)
    STATUS_CHANGED = "status.changed"
    TOMBSTONE = "tombstone"  # a file deleted after its retention period (later)


@dataclass(frozen=True)
class Checkpoint:
    number: int
    payload: dict[str, Any]
    signature: str
    public_key: str

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "payload": self.payload,
            "signature": self.signature,
            "public_key": self.public_key,
        }

    def document(self) -> bytes:
        """The outside log's entry (and an element of a package's ``ledger/checkpoints.json``)."""
        return document_bytes(self.to_json())


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
    return {
        "report": "report.json",
        "patent": "patent.json",
        "pdf": "report.pdf",
        "pdf_en": "report.en.pdf",
    }.get(artifact, f"{artifact}.bin")


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


def checkpoint_from_row(row: EvidenceCheckpointRow) -> Checkpoint:
    if row.version == 1:
        payload = checkpoint_payload_v1(
            seq=row.seq,
            head_hash=row.head_hash,
            root=row.merkle_root,
            at=row.at,
            key_id=row.key_id,
            algorithm=row.algorithm,
        )
    else:
        payload = checkpoint_payload(
            number=row.number,
            seq=row.seq,
            head_hash=row.head_hash,
            root=row.merkle_root,
            at=row.at,
            key_id=row.key_id,
            algorithm=row.algorithm,
            prev_number=row.number - 1,
            prev_hash=row.prev_hash or "",
            audit_seq=row.audit_seq or 0,
            audit_hash=row.audit_hash or "",
            audited=row.audited,
        )
    return Checkpoint(number=row.number, payload=payload, signature=row.signature, public_key=row.public_key)


def _integrity_problems(uow: UnitOfWork, last: EvidenceCheckpointRow | None) -> list[str]:
    """What makes signing on top of the database's state unsafe (cheap checks, under the head lock)."""
    problems: list[str] = []
    if last is not None:
        frontier = [(int(size), str(h)) for size, h in last.frontier]
        if sum(size for size, _ in frontier) != last.seq or frontier_root(frontier) != last.merkle_root:
            problems.append(
                f"checkpoint {last.number}: its stored Merkle frontier does not give the signed root "
                "(the checkpoint row was altered)"
            )
        if last.version >= 2 and last.prev_hash is not None and last.number > 1:
            before = uow.evidence.checkpoint(last.number - 1)
            if before is None or checkpoint_hash(checkpoint_from_row(before).payload) != last.prev_hash:
                problems.append(
                    f"checkpoint {last.number}: does not link to checkpoint {last.number - 1} "
                    "(missing or rewritten in the database)"
                )
    audit_seq, audit_hash = uow.audit.head()
    if audit_seq > 0 and not uow.audit.has_hash(audit_hash):
        problems.append(
            f"audit log: its head (row {audit_seq}) is not in the table: the newest rows were deleted"
        )
    if last is not None and last.audit_seq is not None and audit_seq < last.audit_seq:
        problems.append(
            f"audit log: {audit_seq} rows, but checkpoint {last.number} anchored {last.audit_seq}: "
            "rows were deleted"
        )
    return problems


def _log_problems(log: AppendOnlyLog, uow: UnitOfWork, last: EvidenceCheckpointRow | None) -> list[str]:
    """The database's newest checkpoint against the outside log (before the next is signed)."""
    number = last.number if last is not None else 0
    if log.read(log_name(number + 1)) is not None:
        return [
            f"checkpoint {number + 1} missing from the database but present in the outside log "
            f"{log.location} (checkpoints were deleted from the database, or it was restored from an "
            "older backup)"
        ]
    if last is None:
        return []
    logged = log.read(log_name(number))
    if logged is None:
        return publish_pending(uow, log, up_to=number)
    if logged != checkpoint_from_row(last).document():
        return [f"checkpoint {number} rewritten: the database's copy differs from the outside log's"]
    return []


def publish_pending(uow: UnitOfWork, log: AppendOnlyLog, *, up_to: int) -> list[str]:
    """Write the database's checkpoints the log lacks (those whose log write failed), oldest first,
    up to ``up_to``; returns problems (an entry that differs) instead of overwriting anything."""
    first = up_to
    while first > 1 and log.read(log_name(first - 1)) is None:
        first -= 1
    problems: list[str] = []
    for row in uow.evidence.checkpoints(first - 1, up_to, limit=up_to - first + 1):
        problems.extend(_append(log, checkpoint_from_row(row)))
    return problems


def _append(log: AppendOnlyLog, cp: Checkpoint) -> list[str]:
    try:
        log.append(log_name(cp.number), cp.document())
    except LogEntryExistsError:
        if log.read(log_name(cp.number)) != cp.document():
            return [f"checkpoint {cp.number} rewritten: the database's copy differs from the outside log's"]
    return []


def _new_checkpoint(uow: UnitOfWork, notary: Notary, *, audited: bool) -> Checkpoint | None:
    """Sign the current heads (the ledger's locked meanwhile); None when the newest checkpoint already
    fixes both the ledger head and the audit head."""
    seq, head_hash = uow.evidence.head(lock=True)
    last = uow.evidence.latest_checkpoint()
    audit_seq, audit_hash = uow.audit.head()
    moved = last is None or last.seq < seq or (last.audit_seq, last.audit_hash) != (audit_seq, audit_hash)
    if not moved or (seq == 0 and audit_seq == 0):
        return None
    problems = _integrity_problems(uow, last)
    if notary.log is not None:
        problems += _log_problems(notary.log, uow, last)
    if problems:
        raise LedgerIntegrityError(problems)
    start = last.seq if last else 0
    frontier = [(int(size), str(h)) for size, h in (last.frontier if last else [])]
    new_hashes = uow.evidence.hashes(start, seq)
    if len(new_hashes) != seq - start or (new_hashes and new_hashes[-1] != head_hash):
        raise LedgerIntegrityError(
            [
                f"the evidence ledger does not match its head: head seq {seq}, "
                f"{start + len(new_hashes)} events found (missing or altered events)"
            ]
        )
    frontier = frontier_extend(frontier, new_hashes)
    at = datetime.now(UTC)
    number = (last.number if last else 0) + 1
    prev_hash = checkpoint_hash(checkpoint_from_row(last).payload) if last else GENESIS_HASH
    signer = notary.signer
    payload = checkpoint_payload(
        number=number,
        seq=seq,
        head_hash=head_hash,
        root=frontier_root(frontier),
        at=at,
        key_id=signer.key_id,
        algorithm=signer.algorithm,
        prev_number=number - 1,
        prev_hash=prev_hash,
        audit_seq=audit_seq,
        audit_hash=audit_hash,
        audited=audited,
    )
    signature = signer.sign(canonical_json(payload))
    uow.evidence.add_checkpoint(
        EvidenceCheckpointRow(
            number=number,
            seq=seq,
            version=2,
            prev_hash=prev_hash,
            audit_seq=audit_seq,
            audit_hash=audit_hash,
            audited=audited,
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
    return Checkpoint(number=number, payload=payload, signature=signature, public_key=signer.public_key)


def _log_failure(
    uows: UnitOfWorkFactory, log: AppendOnlyLog, number: int, exc: Exception
) -> CheckpointLogError:
    """The alert (recorded now) and the error of a checkpoint left pending by a failed log write."""
    message = f"checkpoint {number} is pending: the outside log {log.location} could not be written ({exc})"
    record_alert(uows, source="checkpoint-log", problems=[message])
    return CheckpointLogError(msg("evidence.message", message=message), details={"checkpoint": number})


def _publish(uows: UnitOfWorkFactory, log: AppendOnlyLog, cp: Checkpoint) -> None:
    try:
        problems = _append(log, cp)
    except Exception as exc:  # the store is down, full, refuses us...
        raise _log_failure(uows, log, cp.number, exc) from exc
    if problems:
        record_alert(uows, source="checkpoint", problems=problems)
        raise LedgerIntegrityError(problems)


def make_checkpoint(uows: UnitOfWorkFactory, notary: Notary, *, audited: bool = False) -> Checkpoint | None:
    """A checkpoint of the heads now (on demand); None when nothing happened since the last one.

    Committed in the database, then written to the outside log (see the module doc for failures).
    ``audited``: signed right after a clean audit run (packages carry the chain from such a one)."""
    try:
        with uows() as uow:
            cp = _new_checkpoint(uow, notary, audited=audited)
            uow.commit()
    except LedgerIntegrityError as exc:
        record_alert(uows, source="checkpoint", problems=exc.problems)
        raise
    if cp is not None and notary.log is not None:
        _publish(uows, notary.log, cp)
    return cp


def checkpoint_if_due(uows: UnitOfWorkFactory, notary: Notary, every: int) -> Checkpoint | None:
    """A checkpoint when at least ``every`` events were appended since the last one."""
    with uows.read() as uow:
        seq, _ = uow.evidence.head()
        last = uow.evidence.latest_checkpoint()
        last_seq = last.seq if last else 0  # read while the session is open
    if seq - last_seq < every:
        return None
    return make_checkpoint(uows, notary)


def covering_checkpoint(uow: UnitOfWork, seq: int) -> Checkpoint | None:
    row = uow.evidence.checkpoint_covering(seq)
    return checkpoint_from_row(row) if row else None


def ensure_logged(uows: UnitOfWorkFactory, notary: Notary, cp: Checkpoint) -> None:
    """Before a checkpoint leaves the server (a package, a litigation report): it is in the outside
    log, identical (pending ones up to it are written now); otherwise an alert and an error."""
    log = notary.log
    if log is None:
        return
    logged = log.read(log_name(cp.number))
    if logged == cp.document():
        return
    if logged is None:
        try:
            with uows.read() as uow:
                problems = publish_pending(uow, log, up_to=cp.number)
        except Exception as exc:
            raise _log_failure(uows, log, cp.number, exc) from exc
    else:
        problems = [f"checkpoint {cp.number} rewritten: the database's copy differs from the outside log's"]
    if problems:
        record_alert(uows, source="export", problems=problems)
        raise LedgerIntegrityError(problems)


def checkpoint_chain(uow: UnitOfWork, cp: Checkpoint) -> list[Checkpoint]:
    """The checkpoints a package carries: from the last audited one (or the first; at most
    ``MAX_CHAIN_IN_PACKAGE``) up to ``cp``, checked for broken links before they leave the server."""
    rows = uow.evidence.checkpoints(max(0, cp.number - MAX_CHAIN_IN_PACKAGE), cp.number, MAX_CHAIN_IN_PACKAGE)
    chain = [checkpoint_from_row(r) for r in rows]
    starts = [i for i, c in enumerate(chain[:-1]) if c.payload.get("audited") is True]
    chain = chain[starts[-1] :] if starts else chain
    problems = checkpoint_chain_problems([(c.number, c.payload) for c in chain])
    if not chain or chain[-1].number != cp.number:
        problems.append(f"checkpoint {cp.number} missing from the database's checkpoint chain")
    if problems:
        raise LedgerIntegrityError(problems)
    return chain


def tree_for_checkpoint(uow: UnitOfWork, cp: Checkpoint) -> MerkleTree:
    """The Merkle tree over events 1..cp.seq, checked against what the checkpoint signed."""
    tree = MerkleTree(uow.evidence.hashes(0, int(cp.payload["seq"])))
    if tree.size != cp.payload["seq"] or tree.root() != cp.payload["merkle_root"]:
        raise ConflictError(
            msg("evidence.evidence_ledger_longer_matches_signed"),
            details={"checkpoint_seq": cp.payload["seq"]},
        )
    return tree


class PeriodicCheckpointer:
    """Called after work that appends events: signs a checkpoint once ``every`` events have piled up.

    The signing key is loaded on first use; a failure is logged, never raised into the caller's job
    (the events are committed already; the next call or ``dualrec evidence checkpoint`` catches up;
    tampering and log failures are also recorded as alerts by ``make_checkpoint``).
    """

    def __init__(self, uows: UnitOfWorkFactory, notary: Callable[[], Notary], every: int) -> None:
        self._uows, self._notary_factory, self._every = uows, notary, every
        self._notary: Notary | None = None
        self._lock = threading.Lock()

    def __call__(self) -> Checkpoint | None:
        try:
            with self._lock:
                if self._notary is None:
                    self._notary = self._notary_factory()
                return checkpoint_if_due(self._uows, self._notary, self._every)
        except Exception:
            logger.exception("evidence checkpoint failed (will be retried with the next events)")
            return None
