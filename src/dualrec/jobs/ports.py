"""Ports of the background-job system: the queue, the job store, the job record and handlers.

The database row is the source of truth for a job; a queue backend only decides *where* and *when*
a job runs. Payloads and results are plain JSON (ids, strings, numbers) — never pickles or ORM rows.

``StoredJob`` is a structural Protocol so that the SQL store (``dualrec.db.job_store``, a sibling
layer that may not import this package) can return its own frozen record type.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

__all__ = [
    "FINISHED_STATUSES",
    "JobContext",
    "JobHandler",
    "JobInfo",
    "JobQueue",
    "JobStatus",
    "JobStore",
    "StoredJob",
]

JobStatus = Literal["queued", "running", "done", "failed"]
FINISHED_STATUSES: frozenset[str] = frozenset({"done", "failed"})


class StoredJob(Protocol):
    """What a job store returns: a read-only view of one job row."""

    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def payload(self) -> Mapping[str, Any]: ...
    @property
    def status(self) -> str: ...
    @property
    def attempts(self) -> int: ...
    @property
    def max_attempts(self) -> int: ...
    @property
    def result(self) -> Mapping[str, Any] | None: ...
    @property
    def error(self) -> str | None: ...
    @property
    def progress(self) -> float: ...
    @property
    def worker(self) -> str | None: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def started_at(self) -> datetime | None: ...
    @property
    def finished_at(self) -> datetime | None: ...
    @property
    def heartbeat_at(self) -> datetime | None: ...


@dataclass(frozen=True, slots=True)
class JobInfo:
    """A job as the rest of the application sees it (returned by ``JobQueue.get``)."""

    id: str
    kind: str
    payload: Mapping[str, Any]
    status: str
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

    @classmethod
    def of(cls, job: StoredJob) -> JobInfo:
        return cls(
            id=job.id,
            kind=job.kind,
            payload=dict(job.payload),
            status=job.status,
            attempts=job.attempts,
            max_attempts=job.max_attempts,
            result=None if job.result is None else dict(job.result),
            error=job.error,
            progress=job.progress,
            worker=job.worker,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            heartbeat_at=job.heartbeat_at,
        )


class JobContext(Protocol):
    """Given to a handler: which job it runs, its payload, and a way to report progress."""

    @property
    def job_id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def payload(self) -> Mapping[str, Any]: ...
    @property
    def attempt(self) -> int: ...
    def report_progress(self, fraction: float) -> None: ...


JobHandler = Callable[[JobContext], "dict[str, Any] | None"]


class JobStore(Protocol):
    """Persistence of job rows. Every method is its own short transaction.

    State changes are guarded: ``claim`` only takes a ``queued`` row (atomically, safe with several
    workers); ``mark_done``/``mark_failed``/``set_progress`` only touch a row still ``running`` under
    the given worker name, so a worker that lost its claim cannot overwrite someone else's result.
    """

    def add(self, *, kind: str, payload: Mapping[str, Any], max_attempts: int) -> StoredJob: ...

    def get(self, job_id: str) -> StoredJob | None: ...

    def claim(self, job_id: str, *, worker: str) -> StoredJob | None:
        """queued → running (attempts + 1). None when the row is not queued any more."""
        ...

    def heartbeat(self, job_id: str, *, worker: str) -> bool: ...

    def set_progress(self, job_id: str, fraction: float, *, worker: str) -> bool: ...

    def mark_done(self, job_id: str, result: Mapping[str, Any] | None, *, worker: str) -> bool: ...

    def mark_failed(self, job_id: str, error: str, *, worker: str, retry: bool) -> str | None:
        """running → queued (``retry`` and attempts left) or failed. Returns the new status,
        None when the row was not running under ``worker``."""
        ...

    def list_unfinished(self, *, status: str | None = None, limit: int = 1000) -> Sequence[StoredJob]: ...

    def requeue_stale(self, older_than: datetime, *, job_ids: Sequence[str] | None = None) -> list[str]:
        """Running rows whose last sign of life is before ``older_than`` go back to queued, or to
        failed when their attempts are used up. Returns the ids put back to queued."""
        ...


class JobQueue(Protocol):
    """Runs jobs in the background. ``enqueue`` persists the row first, then schedules it."""

    def enqueue(self, kind: str, payload: Mapping[str, Any], *, max_attempts: int | None = None) -> str: ...

    def get(self, job_id: str) -> JobInfo: ...

    def start(self) -> None: ...

    def stop(self, wait: bool = True) -> None: ...
