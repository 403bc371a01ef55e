"""Bodies of the integrity audit endpoints (services.evidence.integrity)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

__all__ = ["IntegrityAuditOut", "IntegrityStatusOut"]


class IntegrityAuditOut(BaseModel):
    ok: bool
    at: datetime
    trigger: str  # schedule | cli | api
    by: str
    problems: list[str]  # the first 50
    problem_count: int
    notes: list[str]
    events: int
    checkpoints: int
    log_entries: int | None  # None: no outside checkpoint log is configured
    log_location: str
    audit_rows: int
    seconds: float
    checkpoint: int | None  # the audited checkpoint signed after a clean run


class IntegrityStatusOut(BaseModel):
    last: IntegrityAuditOut | None  # None before the first run
    scheduled: bool  # DUALREC_INTEGRITY_AUDIT_ENABLED
    interval_hours: float
    checkpoint_log: str  # where the outside log is ("" when off)
