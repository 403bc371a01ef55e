"""Test doubles for the job ports: an in-memory ``JobStore`` with the SQL store's semantics, and a
``ManualJobQueue`` that runs jobs only when a test says so (deterministic service tests)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from dualrec.core.jobs import JobRecord
from dualrec.errors import InvalidInputError, NotFoundError
from dualrec.i18n import msg
from dualrec.jobs.payloads import check_attempts, check_kind, check_payload
from dualrec.jobs.ports import JobHandler
from dualrec.jobs.runner import JobOutcome, execute_job

__all__ = ["ManualJobQueue", "MemoryJobStore"]


class MemoryJobStore:
    """Same guarded state changes as ``dualrec.db.job_store.SqlJobStore``, kept in a dict."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, JobRecord] = {}

    def _held(self, job_id: str, worker: str) -> JobRecord | None:
        job = self._jobs.get(job_id)
        return job if job is not None and job.status == "running" and job.worker == worker else None

    def add(self, *, kind: str, payload: Mapping[str, Any], max_attempts: int) -> JobRecord:
        job = JobRecord(
            str(uuid.uuid4()), kind, dict(payload), "queued", 0, max_attempts,
            None, None, 0.0, None, datetime.now(UTC), None, None, None,
        )  # fmt: skip
        with self._lock:
            self._jobs[job.id] = job
        return job

    def get(self, job_id: str) -> JobRecord | None:
        with self._lock:
            return self._jobs.get(job_id)

    def claim(self, job_id: str, *, worker: str) -> JobRecord | None:
        now = datetime.now(UTC)
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.status != "queued":
                return None
            job = replace(
                job, status="running", attempts=job.attempts + 1, worker=worker, progress=0.0,
                started_at=now, heartbeat_at=now, finished_at=None,
            )  # fmt: skip
            self._jobs[job_id] = job
            return job

    def _change(self, job_id: str, worker: str, **values: Any) -> bool:
        with self._lock:
            job = self._held(job_id, worker)
            if job is None:
                return False
            self._jobs[job_id] = replace(job, **values)
            return True

    def heartbeat(self, job_id: str, *, worker: str) -> bool:
        return self._change(job_id, worker, heartbeat_at=datetime.now(UTC))

    def set_progress(self, job_id: str, fraction: float, *, worker: str) -> bool:
        return self._change(job_id, worker, progress=fraction, heartbeat_at=datetime.now(UTC))

    def mark_done(self, job_id: str, result: Mapping[str, Any] | None, *, worker: str) -> bool:
        now = datetime.now(UTC)
        return self._change(
            job_id, worker, status="done", result=None if result is None else dict(result),
            error=None, progress=1.0, finished_at=now, heartbeat_at=now,
        )  # fmt: skip

    def mark_failed(self, job_id: str, error: str, *, worker: str, retry: bool) -> str | None:
        with self._lock:
            job = self._held(job_id, worker)
            if job is None:
                return None
            status = "queued" if retry and job.attempts < job.max_attempts else "failed"
            finished = datetime.now(UTC) if status == "failed" else None
            self._jobs[job_id] = replace(job, status=status, error=error, finished_at=finished)
            return status

    def list_unfinished(self, *, status: str | None = None, limit: int = 1000) -> list[JobRecord]:
        wanted = {status} if status else {"queued", "running"}
        with self._lock:
            jobs = sorted((j for j in self._jobs.values() if j.status in wanted), key=lambda j: j.created_at)
        return jobs[:limit]

    def requeue_stale(self, older_than: datetime, *, job_ids: Sequence[str] | None = None) -> list[str]:
        requeued: list[str] = []
        with self._lock:
            for job in list(self._jobs.values()):
                if job.status != "running" or (job_ids is not None and job.id not in job_ids):
                    continue
                last_seen = job.heartbeat_at or job.started_at or job.created_at
                if last_seen >= older_than:
                    continue
                exhausted = job.attempts >= job.max_attempts
                error = (
                    f"interrupted: worker {job.worker or '?'} stopped responding "
                    f"(last sign of life {last_seen.isoformat()}) during attempt {job.attempts}"
                )
                self._jobs[job.id] = replace(
                    job, status="failed" if exhausted else "queued", error=error,
                    finished_at=datetime.now(UTC) if exhausted else None,
                )  # fmt: skip
                if not exhausted:
                    requeued.append(job.id)
        return requeued

    def backdate_heartbeat(self, job_id: str, when: datetime) -> None:
        """Test helper: make a running job look as if its worker went silent at ``when``."""
        with self._lock:
            self._jobs[job_id] = replace(self._jobs[job_id], heartbeat_at=when)


class ManualJobQueue:
    """A ``JobQueue`` that persists jobs and runs them only in ``run_pending()`` (no threads)."""

    def __init__(self, handlers: Mapping[str, JobHandler], *, store: MemoryJobStore | None = None) -> None:
        self.store = store if store is not None else MemoryJobStore()
        self._handlers = dict(handlers)

    def enqueue(self, kind: str, payload: Mapping[str, Any], *, max_attempts: int | None = None) -> str:
        check_kind(kind)
        if kind not in self._handlers:
            raise InvalidInputError(msg("jobs.unknown_job_kind"), details={"kind": kind})
        return self.store.add(
            kind=kind,
            payload=check_payload(payload),
            max_attempts=check_attempts(3 if max_attempts is None else max_attempts),
        ).id

    def get(self, job_id: str) -> JobRecord:
        job = self.store.get(job_id)
        if job is None:
            raise NotFoundError(msg("jobs.job_found"), details={"job_id": job_id})
        return job

    def run_pending(self) -> list[JobOutcome]:
        """Run queued jobs (retries included, without waiting) until none is left."""
        outcomes: list[JobOutcome] = []
        while queued := self.store.list_unfinished(status="queued"):
            for job in queued:
                outcome = execute_job(
                    self.store, self._handlers, job.id, worker="manual", heartbeat_interval=60
                )
                outcomes.append(outcome)
        return outcomes

    def start(self) -> None:
        return None

    def stop(self, wait: bool = True) -> None:
        return None
