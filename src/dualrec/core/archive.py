"""The archive catalogue (目录数据库, SPEC §4): one entry per recording, its search filter, deletion
requests and retention notifications, as plain values.

Personal data (customer name, ID number, phone) is held *sealed* by the repository and opened by the
archive service; exact-match search uses keyed blind-index hashes (``*_hash``), never plaintext.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from dualrec.core.approvals import ApprovalState

__all__ = [
    "ArchiveEntry",
    "ArchiveQuery",
    "DeletionRequest",
    "EntryStatus",
    "RetentionNotice",
    "file_format",
]


class EntryStatus(StrEnum):
    ACTIVE = "active"
    DELETED = "deleted"  # the files are gone (approved deletion); the catalogue row and tombstone stay


@dataclass(frozen=True)
class ArchiveEntry:
    recording_id: str
    branch_id: int
    branch_path: str
    branch_name: str
    status: str
    # file description
    filename: str
    file_format: str
    content_type: str
    size: int
    sha256: str
    duration_ms: int | None
    av: dict[str, Any]  # codecs, resolution, fps, bit rate, audio sample rate / channels
    # activity
    task_id: str | None
    attempt_no: int | None
    business_type: str
    business_no: str
    contract_no: str
    product: str
    customer_id: str
    customer_name: str  # sealed in storage; opened by the service
    id_number: str  # sealed in storage; opened by the service
    phone: str  # sealed in storage; opened by the service
    created_by: str
    recorded_at: datetime
    qc_status: str
    qc_verdict: str | None
    # retention and archival
    retention_code: str
    retention_basis: str
    retention_manual: bool
    contract_end: date | None
    expires_on: date | None
    secrecy_level: str
    carrier_numbers: tuple[str, ...]
    legal_hold: bool
    legal_hold_reason: str
    legal_hold_by: str
    legal_hold_at: datetime | None
    deleted_at: datetime | None
    tombstone_seq: int | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class ArchiveQuery:
    """Combined search filters; ``None`` means "any". Names and ID numbers arrive as blind-index hashes."""

    customer_id: str | None = None
    customer_name_hash: str | None = None
    id_number_hash: str | None = None
    business_no: str | None = None
    contract_no: str | None = None
    business_type: str | None = None
    qc_verdict: str | None = None
    status: str | None = None
    task_id: str | None = None
    recorded_from: datetime | None = None
    recorded_to: datetime | None = None  # exclusive
    expires_before: date | None = None  # expires_on < this (and not permanent)
    legal_hold: bool | None = None


@dataclass(frozen=True)
class DeletionRequest:
    id: str
    recording_id: str
    reason: str
    requested_by: str
    created_at: datetime
    state: ApprovalState
    finished_at: datetime | None = None
    result: dict[str, Any] = field(default_factory=dict)
    branch_path: str = ""

    @property
    def status(self) -> str:
        return self.state.status.value


@dataclass(frozen=True)
class RetentionNotice:
    """An in-app notification: items of one branch expiring within ``days`` days, made once per day."""

    id: int
    kind: str
    day: str  # YYYY-MM-DD
    branch_id: int
    branch_name: str
    payload: dict[str, Any]
    created_at: datetime


def file_format(filename: str, content_type: str) -> str:
    """``mp4``/``webm``/``mov``... from the file name's suffix, else from the content type."""
    dot = filename.rfind(".")
    suffix = filename[dot + 1 :].lower() if dot > 0 else ""
    if suffix.isascii() and suffix.isalnum() and 1 <= len(suffix) <= 8:
        return suffix
    sub = content_type.partition("/")[2].lower()
    return sub[:16] if sub.isascii() else ""
