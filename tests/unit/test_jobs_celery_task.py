"""The Celery task ``dualrec.run_job`` in a real (threaded, in-memory broker) Celery worker:
retries with backoff, then success or failure, recorded in the database."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from dualrec.db.engine import make_engine
from dualrec.db.job_store import SqlJobStore
from dualrec.db.migrate import upgrade
from dualrec.errors import InvalidInputError
from dualrec.jobs import JobContext, JobRecord
from dualrec.jobs.celery_app import CeleryJobQueue, CeleryJobRuntime, build_celery_app

pytestmark = pytest.mark.slow  # about 6 s each: an in-thread Celery worker


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    upgrade(url)
    eng = make_engine(url)
    yield eng
    eng.dispose()


def _wait(queue: CeleryJobQueue, job_id: str, timeout: float = 20.0) -> JobRecord:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = queue.get(job_id)
        if info.finished:
            return info
        time.sleep(0.05)
    raise AssertionError(f"not finished: {queue.get(job_id)}")


def test_celery_task_retries_then_records_success_and_failure(engine: Engine) -> None:
    pytest.importorskip("celery", reason="the [celery] extra is not installed")
    from celery.contrib.testing.worker import start_worker

    store = SqlJobStore(engine)
    attempts: dict[str, list[int]] = {}

    def flaky(ctx: JobContext) -> dict[str, Any]:
        attempts.setdefault(ctx.job_id, []).append(ctx.attempt)
        if ctx.payload.get("fail_always") or ctx.attempt < 2:
            raise TimeoutError(f"ASR engine busy (attempt {ctx.attempt})")
        return {"attempt": ctx.attempt}

    handlers = {"test.flaky": flaky}
    app = build_celery_app(
        broker_url="memory://",
        result_backend="cache+memory://",
        queue_name="unit",
        runtime_factory=lambda: CeleryJobRuntime(store=store, handlers=handlers),
        retry_base_delay=0.5,
    )
    queue = CeleryJobQueue(store, handlers.keys(), app, queue_name="unit", max_attempts=3)
    with pytest.raises(InvalidInputError):
        queue.enqueue("test.unknown", {})
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        ok = queue.enqueue("test.flaky", {"n": 1})
        bad = queue.enqueue("test.flaky", {"fail_always": True}, max_attempts=2)
        ok_info = _wait(queue, ok)
        bad_info = _wait(queue, bad)
    assert ok_info.status == "done" and ok_info.result == {"attempt": 2} and ok_info.attempts == 2
    assert bad_info.status == "failed" and bad_info.attempts == 2
    assert bad_info.error == "TimeoutError: ASR engine busy (attempt 2)"
    assert attempts == {ok: [1, 2], bad: [1, 2]}


def test_celery_worker_takes_over_a_job_whose_worker_went_silent(engine: Engine) -> None:
    pytest.importorskip("celery", reason="the [celery] extra is not installed")
    from celery import signals
    from celery.contrib.testing.worker import start_worker

    store = SqlJobStore(engine)
    runs: list[str] = []

    def handler(ctx: JobContext) -> dict[str, Any]:
        runs.append(ctx.job_id)
        return {"attempt": ctx.attempt}

    handlers = {"test.work": handler}
    app = build_celery_app(
        broker_url="memory://",
        result_backend="cache+memory://",
        queue_name="unit",
        runtime_factory=lambda: CeleryJobRuntime(store=store, handlers=handlers),
        stale_after=1.0,
        heartbeat_interval=0.2,
        sweep_interval=0.3,
    )
    queue = CeleryJobQueue(store, handlers.keys(), app, queue_name="unit")
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as worker:
        # The test harness does not announce readiness; a real worker does (and starts the sweeper).
        signals.worker_ready.send(sender=worker)
        # A worker process claimed this job, then died without a word (no heartbeat any more).
        job_id = store.add(kind="test.work", payload={"recording_id": 4}, max_attempts=3).id
        assert store.claim(job_id, worker="oom-killed/77") is not None
        info = _wait(queue, job_id)
    assert info.status == "done" and info.attempts == 2 and info.result == {"attempt": 2}
    assert runs == [job_id]
