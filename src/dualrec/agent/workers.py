"""The agent's two background threads: one runs queued QC, one drives the upload queue.

Both wait on an event (``wake``) with a timeout, so a new task or confirmation starts at once and
anything left behind (a restart, a retry time reached) is picked up within seconds. An error is
logged and the loop goes on; the thread never dies of it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from dualrec.services.device.agent import DeviceAgent, LocalTask
from dualrec.services.device.sync import PackageUploader, upload_next

__all__ = ["QcWorker", "UploadWorker"]

logger = logging.getLogger(__name__)


class _Loop:
    name = "dualrec-agent"
    idle_seconds = 2.0

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                wait = self.step()
            except Exception:
                logger.exception("%s: step failed", self.name)
                wait = self.idle_seconds
            if wait > 0:
                self._wake.wait(wait)
                self._wake.clear()

    def step(self) -> float:
        """Does some work; returns how long to wait before the next step (0: go on at once)."""
        raise NotImplementedError


class QcWorker(_Loop):
    """Runs queued QC one at a time (QC uses every core) and reports each finished task."""

    name = "dualrec-agent-qc"

    def __init__(self, agent: DeviceAgent, on_finished: Callable[[LocalTask], None]) -> None:
        super().__init__()
        self._agent, self._on_finished = agent, on_finished

    def step(self) -> float:
        task = self._agent.run_next()
        if task is None:
            return self.idle_seconds
        logger.info("QC of %s finished: %s %s", task.running_no, task.state, task.verdict or task.error)
        self._on_finished(task)
        return 0.0


class UploadWorker(_Loop):
    """Sends confirmed packages when they are due; waits until the next retry time otherwise."""

    name = "dualrec-agent-upload"

    def __init__(
        self,
        agent: DeviceAgent,
        uploader: PackageUploader | None,
        *,
        backoff_base: float,
        backoff_cap: float,
    ) -> None:
        super().__init__()
        self._agent, self._uploader = agent, uploader
        self._base, self._cap = backoff_base, backoff_cap

    def step(self) -> float:
        now = time.time()
        if upload_next(self._agent, self._uploader, now=now, backoff_base=self._base, backoff_cap=self._cap):
            return 0.0
        due = self._agent.next_upload_time()
        return self.idle_seconds if due is None else min(self.idle_seconds, max(0.05, due - now))
