"""Ports of the background-job system: the queue, the job store, the job record and handlers.

The database row is the source of truth for a job; a queue backend only decides *where* and *when*
a job runs. Payloads and results are plain JSON (ids, strings, numbers) — never pickles or ORM rows.

The job record itself (``JobRecord``) is a core value: the SQL store (``dualrec.db.job_store``, a
sibling layer that may not import this package) returns it too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from dualrec.core.jobs import FINISHED_STATUSES, JobRecord, JobStatus

__all__ = [
    "FINISHED_STATUSES",
    "JobContext",
    "JobHandler",
    "JobQueue",
    "JobRecord",
    "JobStatus",
    "JobStore",
]


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

    def add(self, *, kind: str, payload: Mapping[str, Any], max_attempts: int) -> JobRecord: ...

    def get(self, job_id: str) -> JobRecord | None: ...

    def claim(self, job_id: str, *, worker: str) -> JobRecord | None:
        """queued → running (attempts + 1). None when the row is not queued any more."""
        ...

    def heartbeat(self, job_id: str, *, worker: str) -> bool: ...

    def set_progress(self, job_id: str, fraction: float, *, worker: str) -> bool: ...

    def mark_done(self, job_id: str, result: Mapping[str, Any] | None, *, worker: str) -> bool: ...

    def mark_failed(self, job_id: str, error: str, *, worker: str, retry: bool) -> str | None:
        """running → queued (``retry`` and attempts left) or failed. Returns the new status,
        None when the row was not running under ``worker``."""
        ...

    def list_unfinished(self, *, status: str | None = None, limit: int = 1000) -> Sequence[JobRecord]: ...

    def requeue_stale(self, older_than: datetime, *, job_ids: Sequence[str] | None = None) -> list[str]:
        """Running rows whose last sign of life is before ``older_than`` go back to queued, or to
        failed when their attempts are used up. Returns the ids put back to queued."""
        ...


class JobQueue(Protocol):
    """Runs jobs in the background. ``enqueue`` persists the row first, then schedules it."""

    def enqueue(self, kind: str, payload: Mapping[str, Any], *, max_attempts: int | None = None) -> str: ...

    def get(self, job_id: str) -> JobRecord: ...

    def start(self) -> None: ...

    def stop(self, wait: bool = True) -> None: ...
