"""Running one job: claim its row, call the handler with a context, record the outcome.

Shared by the in-process queue and the Celery task so both backends behave the same.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal

from dualrec.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from dualrec.jobs.payloads import check_result
from dualrec.jobs.ports import JobHandler, JobRecord, JobStore

__all__ = ["JobOutcome", "execute_job", "retry_delay", "worker_name"]

logger = logging.getLogger(__name__)

#: Errors that will not go away by trying again: the job fails at once.
PERMANENT_ERRORS: tuple[type[Exception], ...] = (
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    ConflictError,
)
MAX_ERROR_CHARS = 4000
PROGRESS_WRITE_INTERVAL = 1.0  # seconds


@dataclass(frozen=True, slots=True)
class JobOutcome:
    job_id: str
    status: Literal["done", "failed", "queued", "skipped"]
    attempts: int = 0
    error: str | None = None


def worker_name(suffix: str = "") -> str:
    """``host/pid[/suffix]`` — stored on the row so operators see who ran a job."""
    name = f"{socket.gethostname()}/{os.getpid()}"
    if suffix:
        name = f"{name}/{suffix}"
    return name[:128]


def retry_delay(attempt: int, *, base: float, cap: float = 300.0) -> float:
    """Exponential backoff: base, 2·base, 4·base … capped."""
    return float(min(cap, base * 2.0 ** max(0, attempt - 1)))


class _Context:
    """Progress is written at most once per ``PROGRESS_WRITE_INTERVAL`` seconds (a handler may report
    per frame), except the final 1.0, which is always written."""

    def __init__(self, store: JobStore, job: JobRecord, worker: str) -> None:
        self._store = store
        self._worker = worker
        self._last_write = -math.inf
        self.job_id = job.id
        self.kind = job.kind
        self.payload: Mapping[str, Any] = dict(job.payload)
        self.attempt = job.attempts

    def report_progress(self, fraction: float) -> None:
        if not isinstance(fraction, (int, float)) or not math.isfinite(fraction):
            raise InvalidInputError("progress must be a finite number between 0 and 1")
        value = min(1.0, max(0.0, float(fraction)))
        now = time.monotonic()
        if value < 1.0 and now - self._last_write < PROGRESS_WRITE_INTERVAL:
            return
        self._last_write = now
        self._store.set_progress(self.job_id, value, worker=self._worker)


class _Heartbeat:
    """Touches the row every ``interval`` seconds while the handler runs (a sign of life)."""

    def __init__(self, store: JobStore, job_id: str, worker: str, interval: float) -> None:
        self._store, self._job_id, self._worker, self._interval = store, job_id, worker, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{job_id[:8]}", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                if not self._store.heartbeat(self._job_id, worker=self._worker):
                    logger.warning("job %s is no longer held by %s", self._job_id, self._worker)
                    return
            except Exception:
                logger.exception("heartbeat of job %s failed", self._job_id)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]


def execute_job(
    store: JobStore,
    handlers: Mapping[str, JobHandler],
    job_id: str,
    *,
    worker: str,
    heartbeat_interval: float = 10.0,
) -> JobOutcome:
    """Claim and run one job. Never raises for a handler's failure: it is recorded on the row."""
    job = store.claim(job_id, worker=worker)
    if job is None:
        logger.info("job %s not claimable (already taken or finished)", job_id)
        return JobOutcome(job_id, "skipped")
    handler = handlers.get(job.kind)
    if handler is None:
        error = f"no handler registered for job kind {job.kind!r} on this worker"
        store.mark_failed(job_id, error, worker=worker, retry=False)
        return JobOutcome(job_id, "failed", job.attempts, error)

    logger.info("job %s (%s) attempt %d/%d starts", job_id, job.kind, job.attempts, job.max_attempts)
    retry = True
    with _Heartbeat(store, job_id, worker, heartbeat_interval):
        try:
            result = check_result(handler(_Context(store, job, worker)))
        except PERMANENT_ERRORS as exc:
            error, retry = _error_text(exc), False
            logger.warning("job %s failed permanently: %s", job_id, error)
        except Exception as exc:  # a handler's crash is the job's failure, not the worker's
            error = _error_text(exc)
            logger.exception("job %s attempt %d failed", job_id, job.attempts)
        else:
            if not store.mark_done(job_id, result, worker=worker):
                logger.warning("job %s finished but its row was taken over; result dropped", job_id)
                return JobOutcome(job_id, "skipped", job.attempts)
            logger.info("job %s done", job_id)
            return JobOutcome(job_id, "done", job.attempts)
    status = store.mark_failed(job_id, error, worker=worker, retry=retry)
    if status is None:
        return JobOutcome(job_id, "skipped", job.attempts, error)
    return JobOutcome(job_id, "queued" if status == "queued" else "failed", job.attempts, error)
