"""Builds the job system from Settings: the store, the handler table and the queue backend.

``DUALREC_JOB_BACKEND=inprocess`` (default) runs jobs on a bounded thread pool inside the server;
``celery`` sends job ids to Redis/RabbitMQ for ``dualrec worker`` processes on any machine.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine

from dualrec.db.engine import make_engine
from dualrec.db.job_store import SqlJobStore
from dualrec.jobs.celery_app import CeleryJobQueue, CeleryJobRuntime, build_celery_app
from dualrec.jobs.inprocess import InProcessJobQueue
from dualrec.jobs.ports import JobHandler, JobQueue
from dualrec.jobs.selftest import SELFTEST_KIND, selftest_handler
from dualrec.settings import Settings

__all__ = [
    "DEFAULT_QUEUE_NAME",
    "build_celery_worker_app",
    "build_job_queue",
    "builtin_job_handlers",
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
