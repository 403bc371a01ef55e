"""What a litigation report shows, gathered and masked (``report``), laid out by ``report_pdf``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dualrec.core.evidence import EvidenceEvent
from dualrec.core.recordings import Recording
from dualrec.services.evidence.ledger import Checkpoint
from dualrec.services.pdf.pades import CertificateInfo

__all__ = ["LedgerProof", "LitigationData"]


@dataclass(frozen=True)
class LedgerProof:
    events: list[EvidenceEvent]
    subject_root: str  # RFC 6962 Merkle root over the recording's event hashes
    checkpoint: Checkpoint  # signed; covers the recording's last event


@dataclass(frozen=True)
class LitigationData:
    """Everything the PDF shows, already masked where it must be."""

    report_id: str
    generated_at: datetime
    generated_by: str
    masked: bool
    recording: Recording
    branch_name: str
    business_type: str
    customer: list[tuple[str, str]]  # (label, value) rows
    report: dict[str, Any]  # the native QC report
    images: dict[str, bytes]  # evidence reference ("evidence/<name>") → JPEG
    ledger: LedgerProof
    certificate: CertificateInfo
    tsa_url: str = ""
    notes: list[str] = field(default_factory=list)
