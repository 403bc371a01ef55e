"""Bodies of the recording endpoints: recordings submitted for QC and the local QC agents' uploads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from dualrec.api.schemas.common import StrictModel

__all__ = ["AgentUploadOut", "RecordingOut", "UploadOpen"]


class RecordingOut(BaseModel):
    id: str
    running_no: str
    filename: str
    size: int
    sha256: str
    branch_id: int
    created_by: str
    status: str
    progress: float | None
    verdict: str | None
    risk_score: int | None
    reasons: list[str]
    error: str | None
    created_at: datetime
    finished_at: datetime | None
    links: dict[str, str]
    task_id: str | None = None  # the task this recording is for (console upload, session, agent)


class UploadOpen(StrictModel):
    manifest: dict[str, Any]
    # the task the recording is for (needs tasks:read), as the console's upload dialog picks one;
    # absent: the newest task whose business number is the manifest's runningNo, if any
    task_id: str | None = Field(default=None, pattern=r"^[0-9a-f-]{36}$")


class AgentUploadOut(BaseModel):
    id: str
    package_id: str
    running_no: str
    business_type: str
    size: int
    received: int
    status: str
    agent_verdict: str | None
    agent_risk_score: int | None
    task_id: str | None
    recording_id: str | None
    error: str | None
    created_at: datetime
    completed_at: datetime | None
    links: dict[str, str]
