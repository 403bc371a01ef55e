"""The default job backend: a bounded thread pool inside the server process, rows in the database.

* ``enqueue`` writes the row (``queued``) before anything runs, so a crash never loses a job.
* ``start`` re-queues rows left ``running`` by a dead process (no heartbeat for ``stale_after``
  seconds) and submits every ``queued`` row of a kind it handles; a sweeper thread repeats this every
  ``sweep_interval`` (``recover=False`` turns this off, e.g. for a one-off check in a CLI command).
* A handler exception is retried with exponential backoff until ``max_attempts``; then the row is
  ``failed`` with the last error text. Claims are atomic, so two processes sharing a database never
  run the same job twice at the same time.

No module-global state: bootstrap builds one queue object and owns its life cycle.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from dualrec.errors import ConfigurationError, InvalidInputError, NotFoundError
from dualrec.i18n import msg
from dualrec.jobs.payloads import check_attempts, check_kind, check_payload
from dualrec.jobs.ports import JobHandler, JobRecord, JobStore
from dualrec.jobs.runner import execute_job, retry_delay, worker_name

__all__ = ["InProcessJobQueue"]

logger = logging.getLogger(__name__)


class InProcessJobQueue:
    def __init__(
        self,
        store: JobStore,
        handlers: Mapping[str, JobHandler],
        *,
        workers: int = 2,
        max_attempts: int = 3,
        retry_base_delay: float = 2.0,
        stale_after: float = 120.0,
        heartbeat_interval: float = 10.0,
        sweep_interval: float = 30.0,
        recover: bool = True,
    ) -> None:
        if workers < 1:
            raise ConfigurationError("DUALREC_JOB_WORKERS must be at least 1")
        if max_attempts < 1:
            raise ConfigurationError("max_attempts must be at least 1")
        if stale_after <= heartbeat_interval:
            raise ConfigurationError("stale_after must be longer than the heartbeat interval")
        self._store = store
        self._handlers = dict(handlers)
        self._workers = workers
        self._max_attempts = max_attempts
        self._retry_base_delay = retry_base_delay
        self._stale_after = stale_after
        self._heartbeat_interval = heartbeat_interval
        self._sweep_interval = sweep_interval
        self._recover = recover
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._pending: set[str] = set()  # submitted, running or waiting for a retry here
        self._timers: set[threading.Timer] = set()
        self._stopping = threading.Event()
        self._sweeper: threading.Thread | None = None
        self._instance = uuid.uuid4().hex[:6]  # worker names differ between queues of one process

    # --- JobQueue -----------------------------------------------------------------------------
    def enqueue(self, kind: str, payload: Mapping[str, Any], *, max_attempts: int | None = None) -> str:
        check_kind(kind)
        if kind not in self._handlers:
            raise InvalidInputError(msg("jobs.unknown_job_kind"), details={"kind": kind})
        attempts = check_attempts(self._max_attempts if max_attempts is None else max_attempts)
        job = self._store.add(kind=kind, payload=check_payload(payload), max_attempts=attempts)
        self._submit(job.id)
        return job.id

    def get(self, job_id: str) -> JobRecord:
        job = self._store.get(job_id)
        if job is None:
            raise NotFoundError(msg("jobs.job_found"), details={"job_id": job_id})
        return job

    def start(self) -> None:
        with self._lock:
            if self._executor is not None:
                return
            self._stopping.clear()
            self._pending.clear()
            self._executor = ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="dualrec-job")
        if self._recover:
            try:
                self.sweep()
            except Exception:  # e.g. the database is not reachable yet: the sweeper tries again
                logger.exception("initial job sweep failed")
            self._sweeper = threading.Thread(target=self._sweep_loop, name="dualrec-job-sweeper", daemon=True)
            self._sweeper.start()
        logger.info("in-process job queue started with %d workers", self._workers)

    def stop(self, wait: bool = True) -> None:
        """Stop taking work. Jobs not yet started stay ``queued`` in the database for next time;
        with ``wait`` the running ones are finished first."""
        self._stopping.set()
        with self._lock:
            executor, self._executor = self._executor, None
            timers, self._timers = set(self._timers), set()
        for timer in timers:
            timer.cancel()
        if self._sweeper is not None:
            self._sweeper.join()
            self._sweeper = None
        if executor is not None:
            executor.shutdown(wait=wait, cancel_futures=True)
        logger.info("in-process job queue stopped")

    # --- recovery -----------------------------------------------------------------------------
    def sweep(self) -> None:
        """Re-queue jobs whose worker went silent, then submit every queued job not held here
        whose kind this queue has a handler for (other processes may run other kinds)."""
        cutoff = datetime.now(UTC) - timedelta(seconds=self._stale_after)
        requeued = self._store.requeue_stale(cutoff)
        if requeued:
            logger.warning("re-queued %d interrupted job(s): %s", len(requeued), ", ".join(requeued))
        for job in self._store.list_unfinished(status="queued"):
            if job.kind in self._handlers:
                self._submit(job.id)

    def _sweep_loop(self) -> None:
        while not self._stopping.wait(self._sweep_interval):
            try:
                self.sweep()
            except Exception:
                logger.exception("job sweep failed")

    # --- execution ----------------------------------------------------------------------------
    def _submit(self, job_id: str) -> None:
        with self._lock:
            if self._executor is None or self._stopping.is_set() or job_id in self._pending:
                return
            self._pending.add(job_id)
            self._executor.submit(self._run, job_id)

    def _run(self, job_id: str) -> None:
        retry_in: float | None = None
        try:
            outcome = execute_job(
                self._store,
                self._handlers,
                job_id,
                worker=worker_name(f"{self._instance}-{threading.current_thread().name}"),
                heartbeat_interval=self._heartbeat_interval,
            )
            if outcome.status == "queued":
                retry_in = retry_delay(outcome.attempts, base=self._retry_base_delay)
        except Exception:  # the store itself failed (database down): the sweep will retry later
            logger.exception("job %s could not be run", job_id)
        with self._lock:
            if retry_in is None or self._stopping.is_set():
                self._pending.discard(job_id)
                return
            timer = threading.Timer(retry_in, self._resubmit, args=(job_id,))
            timer.daemon = True
            self._timers.add(timer)
            timer.start()
        logger.info("job %s will be retried in %.1f s", job_id, retry_in)

    def _resubmit(self, job_id: str) -> None:
        with self._lock:
            self._pending.discard(job_id)
            self._timers = {t for t in self._timers if t.is_alive() and t is not threading.current_thread()}
        self._submit(job_id)
