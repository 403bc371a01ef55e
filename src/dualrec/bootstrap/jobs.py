"""Builds the job system from Settings: the store, the handler table and the queue backend.

``DUALREC_JOB_BACKEND=inprocess`` (default) runs jobs on a bounded thread pool inside the server;
``celery`` sends job ids to Redis/RabbitMQ for ``dualrec worker`` processes on any machine.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from dualrec.db.engine import make_engine
from dualrec.db.job_store import SqlJobStore
from dualrec.errors import DualrecError
from dualrec.jobs.celery_app import CeleryJobQueue, CeleryJobRuntime, build_celery_app
from dualrec.jobs.inprocess import InProcessJobQueue
from dualrec.jobs.ports import JobHandler, JobQueue
from dualrec.jobs.selftest import SELFTEST_KIND, selftest_handler
from dualrec.settings import Settings

__all__ = [
    "DEFAULT_QUEUE_NAME",
    "JobBackendCheck",
    "build_celery_worker_app",
    "build_job_queue",
    "builtin_job_handlers",
    "check_job_backend",
]

DEFAULT_QUEUE_NAME = "dualrec"


def builtin_job_handlers() -> dict[str, JobHandler]:
    """Handlers every deployment has. Services add theirs (QC, archive...) to this table."""
    return {SELFTEST_KIND: selftest_handler}


def build_job_queue(
    settings: Settings,
    handlers: Mapping[str, JobHandler],
    *,
    engine: Engine,
    queue_name: str = DEFAULT_QUEUE_NAME,
) -> JobQueue:
    """The queue the application enqueues into, on the application's engine.

    The caller owns ``start()``/``stop()`` of the queue and the engine's disposal."""
    store = SqlJobStore(engine)
    if settings.job_backend == "celery":
        app = build_celery_app(
            broker_url=settings.celery_broker_url,
            result_backend=settings.celery_result_backend,
            queue_name=queue_name,
        )
        return CeleryJobQueue(store, handlers.keys(), app, queue_name=queue_name)
    return InProcessJobQueue(store, handlers, workers=settings.job_workers)


@dataclass(frozen=True)
class JobBackendCheck:
    ok: bool
    detail: str
    seconds: float


def check_job_backend(
    settings: Settings, *, engine: Engine, timeout: float = 20.0, queue_name: str = DEFAULT_QUEUE_NAME
) -> JobBackendCheck:
    """Run one ``system.selftest`` job through the configured backend and verify its result
    (for ``dualrec doctor``). With Celery this proves a ``dualrec worker`` is consuming the queue."""
    handlers = builtin_job_handlers()
    store = SqlJobStore(engine)
    queue: JobQueue
    if settings.job_backend == "celery":
        queue = build_job_queue(settings, handlers, engine=engine, queue_name=queue_name)
    else:  # a private pool that does not pick up the server's jobs
        queue = InProcessJobQueue(store, handlers, workers=1, recover=False)
    started = time.monotonic()
    text = f"dualrec doctor {uuid.uuid4()}"
    queue.start()
    try:
        job_id = queue.enqueue(SELFTEST_KIND, {"text": text}, max_attempts=1)
        while time.monotonic() - started < timeout:
            info = queue.get(job_id)
            if info.finished:
                break
            time.sleep(0.1)
        else:
            return JobBackendCheck(
                False,
                f"job {job_id} not done within {timeout:.0f} s ({settings.job_backend}); "
                + ("is a `dualrec worker` running?" if settings.job_backend == "celery" else "pool stuck"),
                time.monotonic() - started,
            )
    except DualrecError as exc:
        return JobBackendCheck(False, f"{settings.job_backend}: {exc.message}", time.monotonic() - started)
    finally:
        queue.stop(wait=False)
    elapsed = time.monotonic() - started
    expected = hashlib.sha256(text.encode()).hexdigest()
    if info.status != "done" or info.result is None or info.result.get("sha256") != expected:
        return JobBackendCheck(False, f"selftest job {info.status}: {info.error or info.result}", elapsed)
    worker = info.result.get("worker")
    return JobBackendCheck(
        True, f"{settings.job_backend}: selftest done by {worker} in {elapsed:.2f} s", elapsed
    )


def build_celery_worker_app(
    settings: Settings,
    *,
    handlers: Mapping[str, JobHandler] | None = None,
    queue_name: str = DEFAULT_QUEUE_NAME,
) -> Any:
    """A Celery app whose worker processes each open their own database engine (after fork)."""
    table = dict(handlers) if handlers is not None else builtin_job_handlers()
    url = settings.resolved_database_url

    def runtime() -> CeleryJobRuntime:
        engine = make_engine(url)
        return CeleryJobRuntime(
            store=SqlJobStore(engine), handlers=table, after_fork=lambda: engine.dispose(close=False)
        )

    return build_celery_app(
        broker_url=settings.celery_broker_url,
        result_backend=settings.celery_result_backend,
        queue_name=queue_name,
        runtime_factory=runtime,
    )
