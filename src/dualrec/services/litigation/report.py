"""The litigation/evidence report (诉讼报告): one signed PDF per recording for a court or an auditor.

It gathers what the system knows about a recording — task and customer data, the QC report (nodes,
findings, transcript, identity evidence), the key frames, the stored files' hashes and the ledger
proof (the recording's chained events, their Merkle root and the signed checkpoint that covers them) —
renders it (``services.litigation.report_pdf``) and signs it with the institution's certificate (PAdES,
``services.pdf.pades``). Personal data is masked unless the caller asks for it *and* holds
``sensitive:unmask``. Every report is audited with its SHA-256 (the auditors' litigation log).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dualrec.core.audit import AuditAction
from dualrec.core.evidence import MerkleTree
from dualrec.core.rbac import Permission
from dualrec.core.recordings import Recording
from dualrec.core.tasks import mask_id_number, mask_name, mask_phone
from dualrec.db.uow import UnitOfWork, UnitOfWorkFactory
from dualrec.errors import ConflictError, NotFoundError, PermissionDeniedError
from dualrec.i18n import DEFAULT_LANGUAGE, msg, render
from dualrec.services.common import audit
from dualrec.services.common.context import Actor
from dualrec.services.common.secretbox import SecretBox
from dualrec.services.evidence.ledger import Notary, covering_checkpoint, ensure_logged, make_checkpoint
from dualrec.services.litigation.report_data import LedgerProof, LitigationData
from dualrec.services.litigation.report_pdf import render_litigation_pdf
from dualrec.services.pdf.pades import PdfSigner
from dualrec.services.recordings.service import get_recording
from dualrec.storage.ports import BlobStore

__all__ = [
    "Customer",
    "LitigationReport",
    "customer_of",
    "litigation_report",
]

REASON = "双录诉讼证据报告 / dual-recording litigation evidence report"
_ID_RE = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8})(\d{3}[\dXx])(?![0-9A-Za-z])")
_PHONE_RE = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")


@dataclass(frozen=True)
class LitigationReport:
    pdf: bytes
    sha256: str
    filename: str
    masked: bool
    report_id: str


def _open(box: SecretBox, value: Any) -> str:
    text = str(value or "")
    return box.open(text) if text.startswith("v1:") else text


@dataclass(frozen=True)
class Customer:
    name: str
    id_number: str
    phone: str
    extra: tuple[tuple[str, str], ...] = ()

    def rows(self, *, masked: bool) -> list[tuple[str, str]]:
        name, number, phone = self.name, self.id_number, self.phone
        if masked:
            name, number, phone = mask_name(name), mask_id_number(number), mask_phone(phone)
        rows = [
            ("客户姓名 / customer name", name),
            ("证件号码 / ID number", number),
            ("手机号码 / phone", phone),
            *self.extra,
        ]
        return [(label, v or "—") for label, v in rows]


def customer_of(uow: UnitOfWork, box: SecretBox, rec: Recording) -> Customer:
    """The customer's data from the linked task, else from the upload's task inputs (sealed or not)."""
    given = rec.task_inputs
    task = uow.tasks.get(str(given["task_id"])) if given.get("task_id") else None
    if task is not None:
        return Customer(
            _open(box, task.customer_name),
            _open(box, task.id_number),
            _open(box, task.phone),
            (
                ("客户号 / customer id", task.customer_id),
                ("业务编号 / business no.", task.business_no),
                ("合同编号 / contract no.", task.contract_no),
                ("产品 / product", task.product),
            ),
        )

    def value(name: str) -> str:
        sealed = given.get(f"{name}_sealed")
        return _open(box, sealed) if sealed else _open(box, given.get(name))

    return Customer(value("customer_name"), value("id_number"), value("phone"))


def _scrub(text: str, names: list[str]) -> str:
    text = _ID_RE.sub(lambda m: mask_id_number(m.group(0)), text)
    text = _PHONE_RE.sub(lambda m: mask_phone(m.group(0)), text)
    for name in names:
        if len(name) >= 2:
            text = text.replace(name, mask_name(name))
    return text


def _scrub_tree(value: Any, names: list[str]) -> Any:
    if isinstance(value, str):
        return _scrub(value, names)
    if isinstance(value, list):
        return [_scrub_tree(v, names) for v in value]
    if isinstance(value, dict):
        return {k: _scrub_tree(v, names) for k, v in value.items()}
    return value


def _mask_report(report: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """Masked copy: ID and phone numbers and the customer's names in every text; OCR'd names masked."""
    out: dict[str, Any] = _scrub_tree(report, names)
    for check in out.get("checks", []):
        metrics = check.get("metrics")
        if isinstance(metrics, dict) and isinstance(metrics.get("name"), str):
            metrics["name"] = mask_name(metrics["name"])
    return out


def _read_blob(blobs: BlobStore, key: str) -> bytes:
    with blobs.open(key) as fh:
        data: bytes = fh.read()
    return data


def _ledger(uows: UnitOfWorkFactory, evidence_notary: Callable[[], Notary], recording_id: str) -> LedgerProof:
    with uows() as uow:
        events = uow.evidence.for_subject("recording", recording_id)
    if not events:
        raise NotFoundError(msg("litigation.evidence_events_recording"))
    with uows() as uow:
        cp = covering_checkpoint(uow, events[-1].seq)
    notary = evidence_notary()
    if cp is None:  # sign the head now, as an export does
        make_checkpoint(uows, notary)
        with uows() as uow:
            cp = covering_checkpoint(uow, events[-1].seq)
    assert cp is not None
    ensure_logged(uows, notary, cp)  # the checkpoint the report cites is the outside log's
    return LedgerProof(events=events, subject_root=MerkleTree([e.hash for e in events]).root(), checkpoint=cp)


def _images(blobs: BlobStore, rec: Recording, *, masked: bool) -> dict[str, bytes]:
    """Evidence frames by reference; the ID card frames only in an unmasked report."""
    stored = (rec.artifacts or {}).get("evidence") or {}
    return {
        f"evidence/{name}": _read_blob(blobs, key)
        for name, key in stored.items()
        if not (masked and str(name).startswith("idcard_"))
    }


def litigation_report(
    uows: UnitOfWorkFactory,
    blobs: BlobStore,
    box: SecretBox,
    *,
    actor: Actor,
    recording_id: str,
    unmask: bool,
    pdf_signer: PdfSigner,
    evidence_notary: Callable[[], Notary],
    language: str = DEFAULT_LANGUAGE,
) -> LitigationReport:

    assert actor.principal is not None
    if unmask and not actor.principal.can(Permission.SENSITIVE_UNMASK):
        raise PermissionDeniedError(
            msg("litigation.forbidden_unmasked_report_requires_sensitive"),
            details={"permission": Permission.SENSITIVE_UNMASK.value},
        )
    rec = get_recording(uows, actor=actor, recording_id=recording_id)
    report_key = (rec.artifacts or {}).get("report")
    if rec.status != "done" or not report_key:
        raise ConflictError(
            msg("litigation.qc_finished_litigation_report_yet"),
            details={"status": rec.status},
        )
    masked = not unmask
    report = json.loads(_read_blob(blobs, report_key))
    with uows() as uow:
        branch = uow.branches.get(rec.branch_id)
        customer = customer_of(uow, box, rec)
    if masked:
        report = _mask_report(report, [customer.name] if customer.name else [])
    data = LitigationData(
        report_id=str(uuid.uuid4()),
        generated_at=datetime.now(UTC),
        generated_by=actor.name,
        masked=masked,
        recording=rec,
        branch_name=branch.name if branch else str(rec.branch_id),
        business_type=rec.business_type,
        customer=customer.rows(masked=masked),
        report=report,
        images=_images(blobs, rec, masked=masked),
        ledger=_ledger(uows, evidence_notary, rec.id),
        certificate=pdf_signer.certificate,
        tsa_url=pdf_signer.tsa_url,
    )
    pdf = pdf_signer.sign(
        render_litigation_pdf(data, language),
        reason=render("report.lit.reason", {}, language),
        location=data.branch_name,
    )
    digest = hashlib.sha256(pdf).hexdigest()
    with uows() as uow:
        audit.record(
            uow,
            actor=actor,
            action=AuditAction.EVIDENCE_LITIGATION_REPORT,
            target_type="recording",
            target_id=rec.id,
            details={
                "report_id": data.report_id,
                "sha256": digest,
                "size": len(pdf),
                "masked": masked,
                "language": language,
                "running_no": rec.running_no,
                "business_type": data.business_type,
                "certificate_sha256": data.certificate.sha256,
                "checkpoint_seq": int(data.ledger.checkpoint.payload["seq"]),
                "time_stamped": bool(pdf_signer.tsa_url),
            },
        )
        uow.commit()
    stem = rec.running_no or rec.id
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "_" for c in stem)[:64]
    return LitigationReport(
        pdf=pdf,
        sha256=digest,
        filename=f"litigation-{safe}{'' if masked else '-unmasked'}.pdf",
        masked=masked,
        report_id=data.report_id,
    )
