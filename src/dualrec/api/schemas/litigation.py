"""Bodies of the endpoints for evidence leaving the system (the litigation report's settings, pushes
to the archive system) and of the auditor's operation and litigation logs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

__all__ = ["LitigationSettingsOut", "LogRowOut", "PushOut"]


class LitigationSettingsOut(BaseModel):
    certificate_subject: str
    certificate_sha256: str
    certificate_not_after: datetime
    demo_certificate: bool  # a self-signed certificate generated for development: not the institution's
    time_stamping: bool  # RFC 3161 time stamps from DUALREC_LITIGATION_TSA_URL
    archive_push: bool  # DUALREC_ARCHIVE_PUSH_URL is set


class PushOut(BaseModel):
    job_id: str
    recording_id: str
    status: str  # queued | running | done | failed
    attempts: int
    max_attempts: int
    error: str | None
    result: dict[str, Any] | None
    created_at: datetime
    finished_at: datetime | None


class LogRowOut(BaseModel):
    id: int
    at: datetime
    operator: str
    action: str
    action_zh: str
    target: str
    business_type: str
    outcome: str
    ip: str
    summary: str
