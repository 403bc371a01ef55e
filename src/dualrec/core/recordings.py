"""A recording submitted for QC, as a plain value, and its lifecycle."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["RECORDING_STATUSES", "Recording"]

# "deleted": its files were removed after the archive's deletion approval chain
RECORDING_STATUSES = ("queued", "running", "done", "failed", "deleted")


@dataclass(frozen=True)
class Recording:
    id: str
    branch_id: int
    branch_path: str
    created_by: str
    running_no: str
    filename: str
    content_type: str
    size: int
    sha256: str
    blob_key: str
    status: str
    created_at: datetime
    updated_at: datetime
    inputs: dict[str, Any] = field(default_factory=dict)
    job_id: str | None = None
    verdict: str | None = None
    risk_score: int | None = None
    summary: dict[str, Any] | None = None
    artifacts: dict[str, Any] | None = None
    error: str | None = None
    finished_at: datetime | None = None
