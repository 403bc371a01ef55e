"""Archive tables (issue 5): the catalogue, retention policies, approval chains, deletion requests and
retention notices. Personal data is stored sealed (``*_sealed``) with keyed blind-index hashes
(``*_hash``) for exact-match search; see services/archive/catalogue.py."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from dualrec.db.base import Base, UTCDateTime
from dualrec.db.models import BigId

__all__ = [
    "ApprovalChainRow",
    "ArchiveEntryRow",
    "ArchiveNoticeRow",
    "DeletionRequestRow",
    "RetentionPolicyRow",
]


class ArchiveEntryRow(Base):
    """One catalogue entry per recording (SPEC §4). The row stays after an approved deletion."""

    __tablename__ = "archive_entries"
    recording_id: Mapped[str] = mapped_column(
        ForeignKey("recordings.id", ondelete="RESTRICT"), primary_key=True
    )
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(16))  # active | deleted
    filename: Mapped[str] = mapped_column(String(255))
    file_format: Mapped[str] = mapped_column(String(16))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    duration_ms: Mapped[int | None] = mapped_column(BigInteger)
    av: Mapped[dict[str, Any]] = mapped_column(JSON)
    task_id: Mapped[str | None] = mapped_column(String(36))
    attempt_no: Mapped[int | None] = mapped_column(Integer)
    business_type: Mapped[str] = mapped_column(String(64))
    business_no: Mapped[str] = mapped_column(String(64))
    contract_no: Mapped[str] = mapped_column(String(64))
    product: Mapped[str] = mapped_column(String(200))
    customer_id: Mapped[str] = mapped_column(String(64))
    customer_name_sealed: Mapped[str] = mapped_column(String(512))
    customer_name_hash: Mapped[str] = mapped_column(String(64))
    id_number_sealed: Mapped[str] = mapped_column(String(512))
    id_number_hash: Mapped[str] = mapped_column(String(64))
    phone_sealed: Mapped[str] = mapped_column(String(512))
    created_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    qc_status: Mapped[str] = mapped_column(String(16))
    qc_verdict: Mapped[str | None] = mapped_column(String(16))
    retention_code: Mapped[str] = mapped_column(String(8))
    retention_basis: Mapped[str] = mapped_column(String(16))
    retention_manual: Mapped[bool] = mapped_column(Boolean, default=False)
    contract_end: Mapped[date | None] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)
    secrecy_level: Mapped[str] = mapped_column(String(16))
    carrier_numbers: Mapped[list[Any]] = mapped_column(JSON)
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    legal_hold_reason: Mapped[str] = mapped_column(Text, default="")
    legal_hold_by: Mapped[str] = mapped_column(String(100), default="")
    legal_hold_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    tombstone_seq: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


# Each filter column leads an index that ends with recorded_at, the sort key of every search, so a
# selective filter reads its rows already in order (see docs/archive.md for the measured plans).
_E = ArchiveEntryRow
Index("ix_archive_entries_recorded_at", _E.recorded_at)
Index("ix_archive_entries_branch_id_recorded_at", _E.branch_id, _E.recorded_at)
Index("ix_archive_entries_customer_id_recorded_at", _E.customer_id, _E.recorded_at)
Index("ix_archive_entries_customer_name_hash_recorded_at", _E.customer_name_hash, _E.recorded_at)
Index("ix_archive_entries_id_number_hash", _E.id_number_hash)
Index("ix_archive_entries_business_no", _E.business_no)
Index("ix_archive_entries_contract_no", _E.contract_no)
Index("ix_archive_entries_business_type_recorded_at", _E.business_type, _E.recorded_at)
Index("ix_archive_entries_qc_verdict_recorded_at", _E.qc_verdict, _E.recorded_at)
Index(
    "ix_archive_entries_business_type_qc_verdict_recorded_at", _E.business_type, _E.qc_verdict, _E.recorded_at
)
Index("ix_archive_entries_expires_on", _E.expires_on)
Index("ix_archive_entries_task_id", _E.task_id)


class RetentionPolicyRow(Base):
    """Retention per business type (``*`` = every other type)."""

    __tablename__ = "retention_policies"
    business_type: Mapped[str] = mapped_column(String(64), primary_key=True)
    code: Mapped[str] = mapped_column(String(8))  # Y | D<n>
    basis: Mapped[str] = mapped_column(String(16))  # recorded_at | contract_end
    name: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(100))


class ApprovalChainRow(Base):
    """A configurable approval chain (``archive.delete``): ordered steps [{role, name}]."""

    __tablename__ = "approval_chains"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    steps: Mapped[list[Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(100))


class DeletionRequestRow(Base):
    """A request to delete an archived recording and every decision on it (the chain is copied in)."""

    __tablename__ = "deletion_requests"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    recording_id: Mapped[str] = mapped_column(
        ForeignKey("archive_entries.recording_id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending|rejected|cancelled|completed
    reason: Mapped[str] = mapped_column(Text)
    requester_id: Mapped[int] = mapped_column(BigId)
    requested_by: Mapped[str] = mapped_column(String(100))
    steps: Mapped[list[Any]] = mapped_column(JSON)
    decisions: Mapped[list[Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ArchiveNoticeRow(Base):
    """In-app notifications (retention expiry), at most one per kind, day and branch."""

    __tablename__ = "archive_notices"
    __table_args__ = (
        UniqueConstraint("kind", "day", "branch_id", name="uq_archive_notices_kind_day_branch"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    day: Mapped[str] = mapped_column(String(10))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id", ondelete="RESTRICT"), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
