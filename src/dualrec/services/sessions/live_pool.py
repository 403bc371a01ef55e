"""Where the live analysis runs: ``ProcessPool`` (analysis worker processes, the default of
``dualrec serve``) or ``InlinePool`` (in the calling thread: tests, ``DUALREC_LIVE_WORKERS=0``).

``ProcessPool``: N worker processes (``live_worker.worker_main``), started on first use, each fed
by one dispatcher thread of the API process over a pipe; a session is pinned to the worker
``crc32(session id) % N``. A worker handles one request at a time; what waits for it is held in
the API process, at most one frame per session (a newer frame of the same session replaces the
waiting one: ``superseded``), and a frame that waited longer than ``max_wait_s`` is answered
``stale`` without analysis: a worker that falls behind drops frames instead of building a backlog.
A worker that dies (kill -9, a crash in dlib) is noticed while a request waits on it or when the
next one is sent; it is started again and the request it was working on is sent once more (the
new worker rebuilds the session from the persisted snapshot the request carries). A worker that
does not answer within ``reply_timeout_s`` is killed and restarted. ``stats()`` counts it all.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import threading
import time
import zlib
from collections import OrderedDict
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Protocol

from dualrec.pipeline.live import LiveOptions
from dualrec.services.sessions.live_worker import AnalysisCore, FaceFactory, worker_main

__all__ = ["AnalysisPool", "InlinePool", "ProcessPool", "pinned_worker"]

logger = logging.getLogger(__name__)


_STOPPING = {"error": {"kind": "unavailable", "message": "实时分析服务已停止 / live analysis stopping"}}
_FAILED = {"error": {"kind": "unavailable", "message": "分析进程异常，请重试 / the analysis worker failed"}}


class AnalysisPool(Protocol):
    def run(self, session_id: str, op: str, payload: dict[str, Any]) -> dict[str, Any]: ...

    def start(self) -> None: ...

    def warm(self) -> None: ...

    def stop(self) -> None: ...

    def stats(self) -> dict[str, Any]: ...


def pinned_worker(session_id: str, workers: int) -> int:
    """The worker a session is pinned to (stable across processes and restarts)."""
    return zlib.crc32(session_id.encode()) % workers


class InlinePool:
    """The analysis in the calling thread (one ``AnalysisCore`` for the process)."""

    def __init__(
        self, faces: FaceFactory, options: LiveOptions | None = None, *, max_sessions: int = 200
    ) -> None:
        self.core = AnalysisCore(faces, options, max_sessions=max_sessions)

    def run(self, session_id: str, op: str, payload: dict[str, Any]) -> dict[str, Any]:
        return self.core.handle(op, session_id, payload)

    def start(self) -> None:
        pass

    def warm(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def stats(self) -> dict[str, Any]:
        return {"mode": "inline", "workers": 0, "sessions": len(self.core.sessions())}


@dataclass
class _Job:
    op: str
    session_id: str
    payload: dict[str, Any]
    future: Future[dict[str, Any]] = field(default_factory=Future)
    queued_at: float = field(default_factory=time.monotonic)
    tries: int = 0


@dataclass
class _Counters:
    done: int = 0
    superseded: int = 0
    stale: int = 0
    restarts: int = 0
    crashes: int = 0
    timeouts: int = 0
    failed: int = 0
    max_wait_ms: float = 0.0


class _Worker:
    """One worker process and the thread that feeds it."""

    def __init__(self, pool: ProcessPool, index: int) -> None:
        self.pool = pool
        self.index = index
        self.counters = _Counters()
        self._pending: OrderedDict[tuple[str, str], _Job] = OrderedDict()
        self._cond = threading.Condition()
        self._stopping = False
        self._proc: Any = None
        self._conn: Any = None
        self._next_id = 0
        self._recent_starts: list[float] = []
        self._killed = False  # by us, for not answering
        self._thread = threading.Thread(target=self._loop, name=f"live-dispatch-{index}", daemon=True)
        self._thread.start()

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else int(self._proc.pid)

    def submit(self, job: _Job) -> None:
        key = (job.session_id, job.op)
        with self._cond:
            if self._stopping:
                job.future.set_result(dict(_STOPPING))
                return
            old = self._pending.pop(key, None)
            if old is not None and job.op == "frame":  # newest wins
                self.counters.superseded += 1
                old.future.set_result({"skipped": "superseded"})
            elif old is not None:
                self._pending[key] = old
                key = (job.session_id, f"{job.op}#{id(job)}")
            self._pending[key] = job
            self._cond.notify()

    def queued(self) -> int:
        with self._cond:
            return len(self._pending)

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            for job in self._pending.values():
                job.future.set_result(dict(_STOPPING))
            self._pending.clear()
            self._cond.notify()
        self._thread.join(timeout=5)
        self._shutdown_process()

    # ---- the dispatcher thread

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                _, job = self._pending.popitem(last=False)
            waited = time.monotonic() - job.queued_at
            self.counters.max_wait_ms = max(self.counters.max_wait_ms, waited * 1000)
            if job.op == "frame" and waited > self.pool.max_wait_s:
                self.counters.stale += 1
                self.pool.note_drop(self.index)
                job.future.set_result({"skipped": "stale", "waited_ms": round(waited * 1000)})
                continue
            try:
                reply = self._call(job)
            except Exception as exc:  # the dispatcher must survive anything
                logger.exception("live worker %d: request failed", self.index)
                reply = {
                    "error": {
                        "kind": "internal",
                        "message": f"分析失败 / analysis failed ({type(exc).__name__})",
                    }
                }
            if "error" in reply:
                self.counters.failed += 1
            else:
                self.counters.done += 1
            reply["queue_ms"] = round(waited * 1000, 1)
            job.future.set_result(reply)

    def _call(self, job: _Job) -> dict[str, Any]:
        while True:
            job.tries += 1
            if self._stopping:  # no new worker while serve shuts down
                return dict(_STOPPING)
            self._ensure_process()
            self._next_id += 1
            job_id = self._next_id
            try:
                self._conn.send((job_id, job.op, job.session_id, job.payload))
                reply = self._wait(job_id)
            except (EOFError, OSError, BrokenPipeError):
                reply = None
            if reply is not None:
                return reply
            # the worker died (or hung and was killed): a new one rebuilds the session from the payload
            self._lost()
            if job.tries >= 2:
                return {
                    "error": {
                        "kind": "unavailable",
                        "message": "分析进程异常，请重试 / the analysis worker failed",
                    }
                }

    def _wait(self, job_id: int) -> dict[str, Any] | None:
        deadline = time.monotonic() + self.pool.reply_timeout_s
        while True:
            if self._conn.poll(0.05):
                got_id, reply = self._conn.recv()
                if got_id == job_id:
                    return dict(reply)
                continue  # an answer to a request given up on
            if not self._proc.is_alive():
                return None
            if time.monotonic() > deadline:
                self.counters.timeouts += 1
                self._killed = True
                logger.warning(
                    "live worker %d (pid %s) did not answer; restarting it", self.index, self._proc.pid
                )
                self._proc.kill()
                return None

    def _lost(self) -> None:
        """The worker is gone (or was killed for not answering): count it, log it, reap it."""
        proc = self._proc
        if proc is not None:
            proc.join(timeout=1)
            if not self._killed:
                self.counters.crashes += 1
            logger.warning(
                "live worker %d (pid %s) is gone (exit code %s); a new one takes its sessions",
                self.index,
                proc.pid,
                proc.exitcode,
            )
        self._killed = False
        self._shutdown_process()

    def _ensure_process(self) -> None:
        if self._proc is not None and self._proc.is_alive():
            return
        if self._proc is not None:
            self._lost()
        now = time.monotonic()
        self._recent_starts = [s for s in self._recent_starts if now - s < 60]
        if len(self._recent_starts) >= 5:  # crash loop: slow down
            time.sleep(1.0)
        if self._recent_starts:
            self.counters.restarts += 1
        self._recent_starts.append(time.monotonic())
        ctx = multiprocessing.get_context("spawn")  # no fork of a threaded API process
        parent, child = ctx.Pipe(duplex=True)
        proc = ctx.Process(
            target=worker_main,
            args=(child, self.pool.faces, self.pool.options, self.pool.max_sessions),
            name=f"dualrec-live-{self.index}",
            daemon=True,
        )
        proc.start()
        child.close()
        self._proc, self._conn = proc, parent
        logger.info("live worker %d started (pid %s)", self.index, proc.pid)

    def _shutdown_process(self) -> None:
        proc, conn = self._proc, self._conn
        self._proc, self._conn = None, None
        if conn is not None:
            with contextlib.suppress(EOFError, OSError):
                conn.send(None)
        if proc is not None:
            proc.join(timeout=2)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=2)
        if conn is not None:
            conn.close()


class ProcessPool:
    def __init__(
        self,
        faces: FaceFactory,
        workers: int,
        options: LiveOptions | None = None,
        *,
        max_sessions: int = 200,
        max_wait_s: float = 1.0,
        reply_timeout_s: float = 60.0,
    ) -> None:
        if workers < 1:
            raise ValueError("a process pool needs at least one worker")
        self.faces = faces  # picklable: it is called in each worker process
        self.workers = workers
        self.options = options
        self.max_sessions = max_sessions
        self.max_wait_s = max_wait_s
        self.reply_timeout_s = reply_timeout_s
        self._workers: list[_Worker] = []
        self._lock = threading.Lock()
        self._last_drop_log = 0.0

    def start(self) -> None:
        with self._lock:
            if not self._workers:
                self._workers = [_Worker(self, i) for i in range(self.workers)]

    def warm(self) -> None:
        """Start every worker now and load its face models (in the background), so that the first
        sessions do not wait for a process start (``dualrec serve`` calls it at start-up)."""
        self.start()
        for w in self._workers:
            w.submit(_Job("warm", f"warm-{w.index}", {}))

    def stop(self) -> None:
        with self._lock:
            workers, self._workers = self._workers, []
        for w in workers:
            w.stop()

    def worker_for(self, session_id: str) -> int:
        return pinned_worker(session_id, self.workers)

    def submit(self, session_id: str, op: str, payload: dict[str, Any]) -> Future[dict[str, Any]]:
        self.start()
        job = _Job(op, session_id, payload)
        self._workers[self.worker_for(session_id)].submit(job)
        return job.future

    def run(self, session_id: str, op: str, payload: dict[str, Any]) -> dict[str, Any]:
        return self.submit(session_id, op, payload).result(timeout=self.reply_timeout_s * 2 + 30)

    def pids(self) -> list[int | None]:
        return [w.pid for w in self._workers]

    def note_drop(self, index: int) -> None:
        now = time.monotonic()
        if now - self._last_drop_log > 10:
            self._last_drop_log = now
            logger.warning(
                "live worker %d is behind: stale frames dropped (%s)", index, self.stats()["dropped"]
            )

    def stats(self) -> dict[str, Any]:
        per = [
            {"index": w.index, "pid": w.pid, "queued": w.queued(), **w.counters.__dict__}
            for w in list(self._workers)
        ]
        return {
            "mode": "processes",
            "workers": self.workers,
            "per_worker": per,
            "dropped": sum(p["stale"] + p["superseded"] for p in per),
            "restarts": sum(p["restarts"] for p in per),
        }
