"""SQLAlchemy implementation of the job store (``dualrec.jobs.ports.JobStore``).

Each method is its own short transaction (jobs are infrastructure, outside the services' unit of
work). Every state change is a guarded ``UPDATE … WHERE id = ? AND status = ? [AND worker = ?]``
whose row count tells whether it won, so several workers on PostgreSQL/MySQL/SQLite never claim the
same job twice. It returns ``core.jobs.JobRecord``, the record the queues (``dualrec.jobs``, a sibling
layer it may not import) share.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from dualrec.core.jobs import JobRecord
from dualrec.db.engine import make_session_factory
from dualrec.db.models import JobRow

__all__ = ["SqlJobStore"]

UNFINISHED = ("queued", "running")


def _record(row: JobRow) -> JobRecord:
    return JobRecord(
        id=row.id,
        kind=row.kind,
        payload=dict(row.payload or {}),
        status=row.status,
        attempts=row.attempts,
        max_attempts=row.max_attempts,
        result=None if row.result is None else dict(row.result),
        error=row.error,
        progress=float(row.progress),
        worker=row.worker,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        heartbeat_at=row.heartbeat_at,
    )


def _now() -> datetime:
    return datetime.now(UTC)


class SqlJobStore:
    def __init__(self, engine_or_sessions: Engine | sessionmaker[Session]) -> None:
        if isinstance(engine_or_sessions, Engine):
            self._sessions = make_session_factory(engine_or_sessions)
        else:
            self._sessions = engine_or_sessions

    def _update(self, session: Session, *where: Any, **values: Any) -> int:
        result = cast("CursorResult[Any]", session.execute(update(JobRow).where(*where).values(**values)))
        return int(result.rowcount)

    def add(self, *, kind: str, payload: Mapping[str, Any], max_attempts: int) -> JobRecord:
        row = JobRow(
            id=str(uuid.uuid4()),
            kind=kind,
            payload=dict(payload),
            status="queued",
            attempts=0,
            max_attempts=max_attempts,
            result=None,
            error=None,
            progress=0.0,
            worker=None,
            created_at=_now(),
        )
        with self._sessions.begin() as session:
            session.add(row)
            session.flush()
            return _record(row)

    def get(self, job_id: str) -> JobRecord | None:
        with self._sessions() as session:
            row = session.get(JobRow, job_id)
            return None if row is None else _record(row)

    def claim(self, job_id: str, *, worker: str) -> JobRecord | None:
        now = _now()
        with self._sessions.begin() as session:
            won = self._update(
                session,
                JobRow.id == job_id,
                JobRow.status == "queued",
                status="running",
                attempts=JobRow.attempts + 1,
                worker=worker,
                progress=0.0,
                started_at=now,
                heartbeat_at=now,
                finished_at=None,
            )
            if won != 1:
                return None
            row = session.get(JobRow, job_id, populate_existing=True)
            return None if row is None else _record(row)

    def _touch(self, job_id: str, worker: str, **values: Any) -> bool:
        with self._sessions.begin() as session:
            won = self._update(
                session, JobRow.id == job_id, JobRow.status == "running", JobRow.worker == worker, **values
            )
            return won == 1

    def heartbeat(self, job_id: str, *, worker: str) -> bool:
        return self._touch(job_id, worker, heartbeat_at=_now())

    def set_progress(self, job_id: str, fraction: float, *, worker: str) -> bool:
        return self._touch(job_id, worker, progress=fraction, heartbeat_at=_now())

    def mark_done(self, job_id: str, result: Mapping[str, Any] | None, *, worker: str) -> bool:
        now = _now()
        return self._touch(
            job_id,
            worker,
            status="done",
            result=None if result is None else dict(result),
            error=None,
            progress=1.0,
            finished_at=now,
            heartbeat_at=now,
        )

    def mark_failed(self, job_id: str, error: str, *, worker: str, retry: bool) -> str | None:
        with self._sessions.begin() as session:
            row = session.get(JobRow, job_id)
            if row is None or row.status != "running" or row.worker != worker:
                return None
            status = "queued" if retry and row.attempts < row.max_attempts else "failed"
            won = self._update(
                session,
                JobRow.id == job_id,
                JobRow.status == "running",
                JobRow.worker == worker,
                JobRow.attempts == row.attempts,
                status=status,
                error=error,
                finished_at=_now() if status == "failed" else None,
            )
            return status if won == 1 else None

    def list_unfinished(self, *, status: str | None = None, limit: int = 1000) -> list[JobRecord]:
        statuses = (status,) if status else UNFINISHED
        with self._sessions() as session:
            rows = session.scalars(
                select(JobRow).where(JobRow.status.in_(statuses)).order_by(JobRow.created_at).limit(limit)
            )
            return [_record(row) for row in rows]

    def requeue_stale(self, older_than: datetime, *, job_ids: Sequence[str] | None = None) -> list[str]:
        query = select(JobRow).where(JobRow.status == "running")
        if job_ids is not None:
            query = query.where(JobRow.id.in_(list(job_ids)))
        requeued: list[str] = []
        with self._sessions.begin() as session:
            for row in session.scalars(query).all():
                last_seen = row.heartbeat_at or row.started_at or row.created_at
                if last_seen >= older_than:
                    continue
                error = (
                    f"interrupted: worker {row.worker or '?'} stopped responding "
                    f"(last sign of life {last_seen.isoformat()}) during attempt {row.attempts}"
                )
                exhausted = row.attempts >= row.max_attempts
                won = self._update(
                    session,
                    JobRow.id == row.id,
                    JobRow.status == "running",
                    JobRow.worker == row.worker if row.worker is not None else JobRow.worker.is_(None),
                    JobRow.attempts == row.attempts,
                    status="failed" if exhausted else "queued",
                    error=error,
                    finished_at=_now() if exhausted else None,
                )
                if won == 1 and not exhausted:
                    requeued.append(row.id)
        return requeued
