"""Janus as a supervised child process: started with dualrec's configuration, restarted with backoff
when it dies, stopped (SIGTERM, then SIGKILL) with its owner.

One daemon thread owns the child: it starts Janus, waits for it to exit, and starts it again after a
pause that doubles from ``backoff_initial`` up to ``backoff_cap`` (and resets once a run lasted
``stable_after`` seconds). Janus' output goes to ``<data dir>/rtc/janus.log``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dualrec.services.rtc.janus_api import JanusApi
from dualrec.services.rtc.janus_config import RtcOptions, load_or_create_secrets, write_janus_config

__all__ = ["JanusSupervisor", "SupervisorState"]

logger = logging.getLogger(__name__)

MAX_LOG_BYTES = 50 * 1024 * 1024


@dataclass
class SupervisorState:
    pid: int | None = None
    starts: int = 0  # how many times Janus was started (1 + restarts)
    last_exit: int | None = None  # the exit status of the previous run
    running_since: float | None = None


class JanusSupervisor:
    def __init__(
        self,
        opts: RtcOptions,
        *,
        backoff_initial: float = 1.0,
        backoff_cap: float = 30.0,
        stable_after: float = 60.0,
        command_prefix: tuple[str, ...] = (),
        on_exit: Callable[[int], None] | None = None,
    ) -> None:
        self.opts = opts
        self._backoff_initial = backoff_initial
        self._backoff_cap = backoff_cap
        self._stable_after = stable_after
        self._prefix = command_prefix
        self._on_exit = on_exit
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._thread: threading.Thread | None = None
        self.state = SupervisorState()

    # ---- public -------------------------------------------------------------------------------

    def command(self, config_dir: Path) -> list[str]:
        return [*self._prefix, self.opts.janus_binary, "-F", str(config_dir)]

    def start(self) -> None:
        """Writes the configuration (errors raise here, not in the thread) and starts supervising."""
        if self._thread is not None and self._thread.is_alive():
            return
        config_dir = write_janus_config(self.opts)
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, args=(config_dir,), name="dualrec-janus-supervisor", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._terminate(timeout)
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            self._thread = None

    @property
    def pid(self) -> int | None:
        with self._lock:
            proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def wait_ready(self, timeout: float = 20.0) -> bool:
        """True once Janus answers ``info`` on its API address."""
        api = JanusApi(
            self.opts.janus_url, load_or_create_secrets(self.opts.paths.secrets_file).api_secret, timeout=2
        )
        deadline = time.monotonic() + timeout
        with api:
            while time.monotonic() < deadline and not self._stop.is_set():
                try:
                    if api.info().get("janus") == "server_info":
                        return True
                except Exception:
                    pass
                time.sleep(0.2)
        return False

    def wait(self) -> None:
        """Blocks until ``stop()`` (the ``dualrec rtc`` foreground command)."""
        while not self._stop.wait(1.0):
            pass

    # ---- the thread ---------------------------------------------------------------------------

    def _open_log(self) -> int:
        log = self.opts.paths.log_file
        log.parent.mkdir(parents=True, exist_ok=True)
        if log.exists() and log.stat().st_size > MAX_LOG_BYTES:
            log.replace(log.with_suffix(".log.1"))
        return os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    def _run(self, config_dir: Path) -> None:
        delay = self._backoff_initial
        while not self._stop.is_set():
            fd = self._open_log()
            started = time.monotonic()
            try:
                proc = subprocess.Popen(
                    self.command(config_dir),
                    stdin=subprocess.DEVNULL,
                    stdout=fd,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # a Ctrl-C in the terminal reaches dualrec, which stops it
                )
            except OSError as exc:
                logger.error("Janus could not be started (%s): retrying in %.0f s", exc, delay)
                proc = None
            finally:
                os.close(fd)
            if proc is not None:
                with self._lock:
                    self._proc = proc
                    self.state.pid = proc.pid
                    self.state.starts += 1
                    self.state.running_since = time.time()
                logger.info("Janus started (pid %d, start %d)", proc.pid, self.state.starts)
                code = proc.wait()
                with self._lock:
                    self._proc = None
                    self.state.pid = None
                    self.state.last_exit = code
                    self.state.running_since = None
                if self._stop.is_set():
                    return
                logger.warning("Janus exited with status %s: restarting in %.1f s", code, delay)
                if self._on_exit is not None:
                    self._on_exit(code)
                if time.monotonic() - started >= self._stable_after:
                    delay = self._backoff_initial
            if self._stop.wait(delay):
                return
            delay = min(delay * 2, self._backoff_cap)

    def _terminate(self, timeout: float) -> None:
        with self._lock:
            proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            logger.warning("Janus did not stop within %.0f s: killing it", timeout)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
