"""Live subtitles and alerts of a remote interview (services/rtc/live_events.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class LiveEventOut(BaseModel):
    id: int
    kind: str  # subtitle | alert | status
    speaker: str  # customer | agent ("" for status)
    code: str  # alert/status code: contradiction, sensitive_word, no_face, multiple_faces, not_customer…
    node_id: str
    text: str
    reason: str
    t_start: float | None
    t_end: float | None
    spoken_until: datetime | None  # wall clock of the end of the speech (subtitle lag = shown − this)
    created_at: datetime
    details: dict[str, Any]
    acked_at: datetime | None
    acked_by: str


class LiveFeedOut(BaseModel):
    task_id: str
    attempt: int
    enabled: bool  # the server runs the live analysis (DUALREC_RTC_LIVE_ENABLED)
    events: list[LiveEventOut]
