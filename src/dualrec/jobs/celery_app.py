"""The Celery backend: Redis (or RabbitMQ) carries job ids, the database holds the jobs.

``build_celery_app`` makes a Celery app (JSON only, late acks, prefetch 1) with one generic task,
``dualrec.run_job(job_id)``: it claims the row, runs the registered handler and records the outcome
in the database, exactly like the in-process queue (same ``execute_job``). A failed attempt with
attempts left is sent again with exponential backoff. Each worker, when ready and then every
``sweep_interval`` seconds, re-queues and re-sends jobs whose worker went silent (no heartbeat for
``stale_after`` seconds); at start it also re-sends queued jobs the broker may have lost.

Celery is imported inside functions only: importing this module does not load it.
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from dualrec.errors import EngineUnavailableError, InvalidInputError, NotFoundError
from dualrec.i18n import msg
from dualrec.jobs.payloads import check_attempts, check_kind, check_payload
from dualrec.jobs.ports import JobHandler, JobRecord, JobStore
from dualrec.jobs.runner import execute_job, retry_delay, worker_name

__all__ = ["RUN_JOB_TASK", "CeleryJobQueue", "CeleryJobRuntime", "build_celery_app"]

logger = logging.getLogger(__name__)

RUN_JOB_TASK = "dualrec.run_job"


@dataclass(frozen=True)
class CeleryJobRuntime:
    """What a worker process needs to run jobs; built lazily once per (forked) process."""

    store: JobStore
    handlers: Mapping[str, JobHandler]
    after_fork: Callable[[], None] | None = None  # e.g. drop pooled DB connections of the parent


class _PerProcess:
    """The runtime of this process. A forked child (prefork pool) never uses its parent's: the lock
    is renewed and the parent's runtime dropped right after ``fork`` (its threads may have held them)."""

    def __init__(self, factory: Callable[[], CeleryJobRuntime]) -> None:
        self._factory = factory
        self._lock = threading.Lock()
        self._runtime: CeleryJobRuntime | None = None
        me = weakref.ref(self)

        def after_fork_in_child() -> None:
            holder = me()
            if holder is not None:
                holder._forget_parent()

        os.register_at_fork(after_in_child=after_fork_in_child)

    def _forget_parent(self) -> None:
        self._lock = threading.Lock()
        runtime, self._runtime = self._runtime, None
        if runtime is not None and runtime.after_fork is not None:
            runtime.after_fork()

    def get(self) -> CeleryJobRuntime:
        with self._lock:
            if self._runtime is None:
                self._runtime = self._factory()
            return self._runtime


def build_celery_app(
    *,
    broker_url: str,
    result_backend: str,
    queue_name: str = "dualrec",
    runtime_factory: Callable[[], CeleryJobRuntime] | None = None,
    retry_base_delay: float = 5.0,
    heartbeat_interval: float = 10.0,
    stale_after: float = 120.0,
    sweep_interval: float = 60.0,
) -> Any:
    """A Celery app for both sides: producers only send, workers also need ``runtime_factory``."""
    from celery import Celery, signals

    app = Celery("dualrec", broker=broker_url, backend=result_backend, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue=queue_name,
        task_ignore_result=True,  # the database is the source of truth
        enable_utc=True,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
    )
    runtime = _PerProcess(runtime_factory) if runtime_factory is not None else None

    def send(job_id: str, countdown: float = 0.0) -> None:
        app.send_task(
            RUN_JOB_TASK, args=[job_id], queue=queue_name, countdown=countdown or None, ignore_result=True
        )

    def sweep() -> set[str]:
        """Re-queue jobs whose worker died (no heartbeat) and send them again."""
        if runtime is None:
            return set()
        store = runtime.get().store
        cutoff = datetime.now(UTC) - timedelta(seconds=stale_after)
        requeued = set(store.requeue_stale(cutoff))
        for job_id in requeued:
            logger.warning("job %s was interrupted; sending it again", job_id)
            send(job_id)
        return requeued

    @app.task(name=RUN_JOB_TASK, ignore_result=True, shared=False)  # type: ignore[untyped-decorator]
    def run_job(job_id: str) -> str:
        if runtime is None:
            raise EngineUnavailableError("this Celery app was built without a job runtime (not a worker)")
        rt = runtime.get()
        worker = worker_name(threading.current_thread().name)
        outcome = execute_job(
            rt.store, rt.handlers, job_id, worker=worker, heartbeat_interval=heartbeat_interval
        )
        if outcome.status == "skipped":
            # A redelivered message whose previous worker died: take the row over once it is stale.
            cutoff = datetime.now(UTC) - timedelta(seconds=stale_after)
            if rt.store.requeue_stale(cutoff, job_ids=[job_id]):
                outcome = execute_job(
                    rt.store, rt.handlers, job_id, worker=worker, heartbeat_interval=heartbeat_interval
                )
        if outcome.status == "queued":
            delay = retry_delay(outcome.attempts, base=retry_base_delay)
            logger.info("job %s will be retried in %.1f s", job_id, delay)
            send(job_id, countdown=delay)
        return outcome.status

    def resend_queued(already_sent: set[str]) -> None:
        """Queued rows the broker may have lost (e.g. Redis restarted empty) are sent again."""
        if runtime is None:
            return
        rt = runtime.get()
        for job in rt.store.list_unfinished(status="queued"):
            if job.id not in already_sent and job.kind in rt.handlers:
                send(job.id)

    stop_sweeping = threading.Event()

    def sweep_loop() -> None:
        """Every ``sweep_interval``: jobs whose worker process died (OOM, kill) are found by their
        silent heartbeat and sent again."""
        while not stop_sweeping.wait(sweep_interval):
            try:
                sweep()
            except Exception:
                logger.exception("sweep of interrupted jobs failed")

    def on_worker_init(sender: Any = None, **_: Any) -> None:
        # Runs in the main thread before the prefork pool forks: no helper thread may exist yet
        # (a child forked while a thread holds an import or pool lock would hang). This also
        # imports the database driver once, in the parent.
        if getattr(sender, "app", None) is not app:
            return
        try:
            resend_queued(sweep())
        except Exception:
            logger.exception("startup sweep of unfinished jobs failed")

    def on_worker_ready(sender: Any = None, **_: Any) -> None:
        if getattr(sender, "app", None) is not app:
            return
        stop_sweeping.clear()
        threading.Thread(target=sweep_loop, name="dualrec-job-sweeper", daemon=True).start()

    def on_worker_shutdown(sender: Any = None, **_: Any) -> None:
        if getattr(sender, "app", None) is app:
            stop_sweeping.set()

    if runtime is not None:
        signals.worker_init.connect(on_worker_init, weak=False)
        signals.worker_ready.connect(on_worker_ready, weak=False)
        signals.worker_shutdown.connect(on_worker_shutdown, weak=False)
    return app


class CeleryJobQueue:
    """Producer side: writes the row, then sends only its id to the broker."""

    def __init__(
        self,
        store: JobStore,
        kinds: Collection[str],
        app: Any,
        *,
        queue_name: str = "dualrec",
        max_attempts: int = 3,
    ) -> None:
        self._store = store
        self._kinds = frozenset(kinds)
        self._app = app
        self._queue_name = queue_name
        self._max_attempts = max_attempts

    def enqueue(self, kind: str, payload: Mapping[str, Any], *, max_attempts: int | None = None) -> str:
        check_kind(kind)
        if kind not in self._kinds:
            raise InvalidInputError(msg("jobs.unknown_job_kind"), details={"kind": kind})
        attempts = check_attempts(self._max_attempts if max_attempts is None else max_attempts)
        job = self._store.add(kind=kind, payload=check_payload(payload), max_attempts=attempts)
        try:
            self._app.send_task(RUN_JOB_TASK, args=[job.id], queue=self._queue_name, ignore_result=True)
        except Exception as exc:
            # The row stays queued: a worker sends it again when it starts.
            raise EngineUnavailableError(
                msg("jobs.job_broker_cannot_reached_job"),
                details={"job_id": job.id, "error": str(exc)[:200]},
            ) from exc
        return job.id

    def get(self, job_id: str) -> JobRecord:
        job = self._store.get(job_id)
        if job is None:
            raise NotFoundError(msg("jobs.job_found"), details={"job_id": job_id})
        return job

    def start(self) -> None:
        logger.info("Celery job queue %s ready (jobs run in `dualrec worker` processes)", self._queue_name)

    def stop(self, wait: bool = True) -> None:
        self._app.close()
