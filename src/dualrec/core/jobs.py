"""A background job as a plain value: the one record the job store, the queues and their fakes share.

The database row is the source of truth for a job; ``db.job_store`` reads it into this record,
``jobs`` (queues, runner, fakes) pass it on, and ``JobQueue.get`` returns it to the services.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

__all__ = ["FINISHED_STATUSES", "JobRecord", "JobStatus"]

JobStatus = Literal["queued", "running", "done", "failed"]
FINISHED_STATUSES: frozenset[str] = frozenset({"done", "failed"})


@dataclass(frozen=True, slots=True)
class JobRecord:
    id: str
    kind: str
    payload: Mapping[str, Any]  # plain JSON (ids, strings, numbers), never pickles or ORM rows
    status: str  # a JobStatus
    attempts: int
    max_attempts: int
    result: Mapping[str, Any] | None
    error: str | None
    progress: float
    worker: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_STATUSES
