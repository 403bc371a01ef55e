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

    @property
    def task_inputs(self) -> dict[str, Any]:
        """The task fields the upload declared (``inputs.task``; empty when none)."""
        task = self.inputs.get("task") if isinstance(self.inputs, dict) else None
        return task if isinstance(task, dict) else {}

    @property
    def business_type(self) -> str:
        """The business type the upload declared, else its flow's (empty when neither says)."""
        given = str(self.task_inputs.get("business_type") or "")
        flow = self.inputs.get("flow") if isinstance(self.inputs, dict) else None
        return given or (str(flow.get("business_type") or "") if isinstance(flow, dict) else "")
