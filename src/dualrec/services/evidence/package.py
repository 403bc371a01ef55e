"""Export a self-contained evidence package (ZIP) for one subject (a recording now, a task later).

Layout (docs/evidence.md)::

    README.txt                     how to verify by hand and with the verifier (zh-CN / en)
    manifest.json                  every file: path, SHA-256, size, the ledger event that recorded it
    SHA256SUMS                     the same hashes for ``sha256sum -c SHA256SUMS``
    files/...                      the subject's files, read through the BlobStore
    ledger/events.json             the subject's ledger events (a hash chain of their own)
    ledger/proofs.json             Merkle inclusion proof of each event against the checkpoint
    ledger/checkpoint.json         the signed checkpoint (number, payload, signature, public key)
    ledger/checkpoint.payload      the exact signed bytes of the checkpoint, ledger/checkpoint.sig raw
    ledger/checkpoints.json        the checkpoint chain from the last audited checkpoint to that one
    ledger/statement.json          signed: exactly these events; SHA-256 of every other document
    keys/public_key.pem            the institution's public key (signs the statement)
"""

from __future__ import annotations

import base64
import hashlib
import re
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dualrec.core.evidence import MerkleTree, canonical_json, statement_payload
from dualrec.db.uow import UnitOfWorkFactory
from dualrec.errors import ConflictError, DualrecError, NotFoundError
from dualrec.i18n import msg
from dualrec.services.evidence.alerts import LedgerIntegrityError, record_alert
from dualrec.services.evidence.ledger import (
    Notary,
    checkpoint_chain,
    covering_checkpoint,
    ensure_logged,
    make_checkpoint,
    tree_for_checkpoint,
)
from dualrec.services.evidence.package_readme import readme_text
from dualrec.services.evidence.verify import CHAIN_DOCUMENT, SIGNED_DOCUMENTS, document_bytes
from dualrec.storage.ports import BlobStore

__all__ = ["PACKAGE_FORMAT", "ExportResult", "export_package"]

PACKAGE_FORMAT = "dualrec-evidence-package/2"  # 2: with ledger/checkpoints.json
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}(/[A-Za-z0-9][A-Za-z0-9._-]{0,120})?$")
_STORED_TYPES = ("video/", "image/", "audio/", "application/pdf")


@dataclass(frozen=True)
class ExportResult:
    path: Path
    events: int
    files: int
    checkpoint_seq: int
    size: int


def _file_path(name: str, seq: int, taken: set[str]) -> str:
    safe = name if _SAFE_NAME.match(name) and ".." not in name else f"file-{seq}"
    path = f"files/{safe}"
    if path in taken:
        path = f"files/{seq}-{safe.replace('/', '-')}"
    taken.add(path)
    return path


def _copy_blob(
    zf: zipfile.ZipFile, blobs: BlobStore, key: str, path: str, content_type: str
) -> tuple[str, int]:
    info = zipfile.ZipInfo(path, date_time=datetime.now(UTC).timetuple()[:6])
    stored = content_type.startswith(_STORED_TYPES)
    info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    digest, size = hashlib.sha256(), 0
    with blobs.open(key) as src, zf.open(info, "w", force_zip64=True) as dst:
        while chunk := src.read(1024 * 1024):
            digest.update(chunk)
            size += len(chunk)
            dst.write(chunk)
    return digest.hexdigest(), size


def export_package(
    uows: UnitOfWorkFactory,
    blobs: BlobStore,
    notary: Notary,
    *,
    subject_type: str,
    subject_id: str,
    out: Path,
) -> ExportResult:
    with uows.read() as uow:
        events = uow.evidence.for_subject(subject_type, subject_id)
    if not events:
        raise NotFoundError(
            msg("evidence.evidence_events_subject"),
            details={"subject_type": subject_type, "subject_id": subject_id},
        )
    last_seq = events[-1].seq
    with uows() as uow:
        cp = covering_checkpoint(uow, last_seq)
    if cp is None:
        make_checkpoint(uows, notary)
        with uows() as uow:
            cp = covering_checkpoint(uow, last_seq)
    assert cp is not None
    ensure_logged(uows, notary, cp)  # the checkpoint that leaves the server is the outside log's
    try:
        with uows.read() as uow:
            tree = tree_for_checkpoint(uow, cp)
            chain = checkpoint_chain(uow, cp)
    except ConflictError as exc:  # the database no longer matches what was signed: tampering
        problems = exc.problems if isinstance(exc, LedgerIntegrityError) else [exc.message]
        record_alert(uows, source="export", problems=problems)
        raise
    signer = notary.signer
    cp_seq = int(cp.payload["seq"])
    proofs = {"tree_size": cp_seq, "proofs": [{"seq": e.seq, "path": tree.proof(e.seq - 1)} for e in events]}

    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    files: list[dict[str, Any]] = []
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
            taken: set[str] = set()
            for ev in events:
                key, name = ev.payload.get("blob_key"), ev.payload.get("name")
                if not isinstance(key, str) or not isinstance(name, str):
                    continue
                path = _file_path(name, ev.seq, taken)
                content_type = str(ev.payload.get("content_type") or "")
                try:
                    sha, size = _copy_blob(zf, blobs, key, path, content_type)
                except DualrecError as exc:
                    raise ConflictError(
                        msg("evidence.ledger_event_seq", path=path, seq=ev.seq, message=exc.message),
                        details={"path": path, "event_seq": ev.seq, **exc.details},
                    ) from exc
                files.append({"path": path, "sha256": sha, "size": size, "event_seq": ev.seq})
            manifest = {
                "format": PACKAGE_FORMAT,
                "subject": {"type": subject_type, "id": subject_id},
                "files": files,
            }
            documents = {  # every member but files/ (in the manifest) and the statement itself
                "README.txt": readme_text(
                    subject_type, subject_id, cp.payload["algorithm"], len(files)
                ).encode(),
                "manifest.json": document_bytes(manifest),
                "SHA256SUMS": "".join(f"{f['sha256']}  {f['path']}\n" for f in files).encode(),
                "ledger/events.json": document_bytes([e.to_json() for e in events]),
                "ledger/proofs.json": document_bytes(proofs),
                "ledger/checkpoint.json": document_bytes(cp.to_json()),
                "ledger/checkpoint.payload": canonical_json(cp.payload),
                "ledger/checkpoint.sig": base64.b64decode(cp.signature),
                CHAIN_DOCUMENT: document_bytes([c.to_json() for c in chain]),
                "keys/public_key.pem": signer.public_key.encode(),
            }
            assert set(documents) == set(SIGNED_DOCUMENTS)
            statement = statement_payload(
                subject_type=subject_type,
                subject_id=subject_id,
                event_seqs=[e.seq for e in events],
                last_event_hash=events[-1].hash,
                subject_root=MerkleTree([e.hash for e in events]).root(),
                checkpoint_seq=cp_seq,
                documents={name: hashlib.sha256(raw).hexdigest() for name, raw in documents.items()},
                at=datetime.now(UTC),
                key_id=signer.key_id,
                algorithm=signer.algorithm,
            )
            signed_statement = {"payload": statement, "signature": signer.sign(canonical_json(statement))}
            for name, raw in documents.items():
                zf.writestr(name, raw)
            zf.writestr("ledger/statement.json", document_bytes(signed_statement))
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    return ExportResult(
        path=out, events=len(events), files=len(files), checkpoint_seq=cp_seq, size=out.stat().st_size
    )
