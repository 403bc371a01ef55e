"""A daemon thread that calls ``run_once`` every ``check_seconds`` until stopped (the retention
reminder, the integrity audit). ``run_once`` catches and logs its own errors."""

from __future__ import annotations

import threading

__all__ = ["PeriodicThread"]


class PeriodicThread:
    def __init__(self, *, name: str, check_seconds: float, run_at_start: bool) -> None:
        self._name = name
        self._check = check_seconds
        self._run_at_start = run_at_start  # False: the first run one period after start
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def run_once(self) -> object:
        raise NotImplementedError  # each periodic job says what one run does

    def start(self) -> None:
        with self._lock:
            if self.running:
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            thread.join(timeout=30)

    def _run(self) -> None:
        if self._run_at_start:
            self.run_once()
        while not self._stop.wait(self._check):
            self.run_once()
