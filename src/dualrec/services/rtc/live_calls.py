"""Supervision of the live workers (``live_worker``): one process per call in progress.

A daemon thread of ``dualrec serve`` looks at the calls in progress (queue entries an interviewer
accepted and has not hung up) every ``period`` seconds: a call without a worker gets one (started
with the call), a worker that died while its call runs is started again (backoff doubling from
``backoff_initial`` to ``backoff_cap``), and the worker of a call that ended is stopped (SIGTERM,
then SIGKILL). The worker itself also leaves when it sees the call ended, and holds a lock file per
call so that two servers sharing a data directory never analyse one call twice (the one that
finds the lock taken exits with ``LOCKED`` and is not restarted while the lock is held).
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["LOCKED", "LiveCallSupervisor"]

logger = logging.getLogger(__name__)

LOCKED = 3  # exit status of a worker whose call another process already analyses

Call = tuple[str, int]


@dataclass
class _Proc:
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0
    next_start: float = 0.0
    backoff: float = 0.0
    started_at: float = 0.0
    exits: list[int] = field(default_factory=list)


class LiveCallSupervisor:
    def __init__(
        self,
        active_calls: Callable[[], list[Call]],
        command: Callable[[str, int], list[str]],
        *,
        period: float = 1.0,
        backoff_initial: float = 1.0,
        backoff_cap: float = 30.0,
        stable_after: float = 60.0,
        log_path: Callable[[str, int], str] | None = None,
    ) -> None:
        self._active = active_calls
        self._command = command
        self._period = period
        self._backoff_initial = backoff_initial
        self._backoff_cap = backoff_cap
        self._stable_after = stable_after
        self._log_path = log_path
        self._procs: dict[Call, _Proc] = {}
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="dualrec-live-calls", daemon=True)
        self._thread.start()

    def poke(self) -> None:
        """Look at the calls now (a call just started or ended)."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        with self._lock:
            for call in list(self._procs):
                self._terminate(call)

    def workers(self) -> dict[Call, dict[str, object]]:
        with self._lock:
            return {
                call: {
                    "pid": p.proc.pid if p.proc is not None and p.proc.poll() is None else None,
                    "starts": p.starts,
                    "exits": list(p.exits),
                }
                for call, p in self._procs.items()
            }

    # ---- the loop ------------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.reconcile()
            except Exception:  # the database away for a moment: try again next period
                logger.exception("live workers: reconcile failed")
            self._wake.wait(self._period)
            self._wake.clear()

    def reconcile(self) -> None:
        active = set(self._active())
        now = time.monotonic()
        with self._lock:
            for call in [c for c in self._procs if c not in active]:
                self._terminate(call)
                del self._procs[call]
            for call in active:
                p = self._procs.setdefault(call, _Proc())
                if p.proc is not None:
                    code = p.proc.poll()
                    if code is None:
                        continue
                    p.exits.append(code)
                    p.proc = None
                    ran = now - p.started_at
                    if ran >= self._stable_after:
                        p.backoff = 0.0
                    if code == LOCKED:  # another server analyses this call: look again later
                        p.backoff = self._backoff_cap
                    else:
                        p.backoff = min(self._backoff_cap, max(self._backoff_initial, p.backoff * 2))
                        logger.warning(
                            "live worker of %s/%s exited (%s); restarting in %.0f s",
                            call[0],
                            call[1],
                            code,
                            p.backoff,
                        )
                    p.next_start = now + p.backoff
                if now >= p.next_start:
                    self._spawn(call, p, now)

    def _spawn(self, call: Call, p: _Proc, now: float) -> None:
        out: Any = subprocess.DEVNULL
        handle = None
        if self._log_path is not None:
            handle = Path(self._log_path(*call)).open("ab")  # noqa: SIM115 - handed to the child
            out = handle
        try:
            p.proc = subprocess.Popen(self._command(*call), stdout=out, stderr=subprocess.STDOUT)
        except OSError:
            logger.exception("live worker of %s/%s could not start", *call)
            p.next_start = now + self._backoff_cap
            return
        finally:
            if handle is not None:
                handle.close()
        p.starts += 1
        p.started_at = now
        logger.info("live worker of %s/%s started (pid %s)", call[0], call[1], p.proc.pid)

    def _terminate(self, call: Call) -> None:
        p = self._procs.get(call)
        if p is None or p.proc is None or p.proc.poll() is not None:
            return
        p.proc.terminate()
        try:
            p.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.proc.wait(timeout=5)
