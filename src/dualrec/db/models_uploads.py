"""Tables of resumable package uploads from local QC agents (issue 7, migration 0008)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dualrec.db.base import Base, UTCDateTime
from dualrec.db.models import BigId

__all__ = ["AgentUploadChunkRow", "AgentUploadRow"]


class AgentUploadRow(Base):
    """One package (manifest + content) sent by a device; ``received`` is the resume offset."""

    __tablename__ = "agent_uploads"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    package_id: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the manifest
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id", ondelete="RESTRICT"), index=True)
    created_by: Mapped[str] = mapped_column(String(100))  # the device's API key
    running_no: Mapped[str] = mapped_column(String(64), index=True)
    business_type: Mapped[str] = mapped_column(String(64))
    manifest: Mapped[dict[str, Any]] = mapped_column(JSON)
    size: Mapped[int] = mapped_column(BigInteger)
    received: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), index=True)  # receiving|finalizing|complete
    task_id: Mapped[str | None] = mapped_column(String(36), index=True)
    recording_id: Mapped[str | None] = mapped_column(String(36))
    artifacts: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the agent's reports → blob keys
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AgentUploadChunkRow(Base):
    """A received piece of a package's content, stored as an (encrypted) blob."""

    __tablename__ = "agent_upload_chunks"
    __table_args__ = (UniqueConstraint("upload_id", "start", name="uq_agent_upload_chunks_upload_id_start"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    upload_id: Mapped[str] = mapped_column(ForeignKey("agent_uploads.id", ondelete="CASCADE"), index=True)
    start: Mapped[int] = mapped_column(BigInteger)
    size: Mapped[int] = mapped_column(Integer)
    blob_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
