"""Bodies of the recording endpoints: recordings submitted for QC and the local QC agents' uploads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from dualrec.api.schemas.common import StrictModel

__all__ = ["AgentUploadOut", "LiveEventsOut", "LiveItemOut", "RecordingOut", "UploadOpen"]


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


class LiveItemOut(BaseModel):
    """A subtitle or a risk alert of a remote interview's live analysis, on the recording's timeline."""

    id: int
    kind: str = Field(description="subtitle | alert")
    speaker: str = Field(description="customer | agent")
    start: float = Field(description="seconds of the recording")
    end: float | None = None
    text: str = Field(description="what was said (a subtitle, or the words an alert quotes)")
    code: str = Field(
        description="alert: sensitive_word | contradiction | no_face | multiple_faces | not_customer | "
        "covered | dark"
    )
    node_id: str
    reason: str = Field(description="the pop-up's reason as the desk showed it (zh-CN / en)")
    words: list[str]
    acked: bool = Field(description="alert: the interviewer acknowledged it during the call")
    acked_t: float | None = Field(None, description="when, in seconds of the recording")
    acked_by: str


class LiveEventsOut(BaseModel):
    """A remote interview's live analysis kept with its recording (what QC's live_call check read)."""

    available: bool = Field(description="false: not a call, or the call was not analysed live")
    duration: float = 0.0
    asr_available: bool = True
    faces_available: bool = True
    identity_reference: bool = False
    segments_dropped: int = 0
    truncated: int = 0
    items: list[LiveItemOut] = Field(default_factory=list)
