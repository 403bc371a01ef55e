"""In-process change hints for requests that wait for a change (a held request instead of polling).

A service bumps a key (a call: task id and attempt) after it changed something; a waiting request
looks at the key's version several times a second and reads the database only when it moved — or
once a second anyway, since another serve process may have made the change. Nothing here is the
truth: the database is.
"""

from __future__ import annotations

import threading

__all__ = ["ChangeSignals"]


class ChangeSignals:
    MAX_KEYS = 10_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._versions: dict[tuple[str, int], int] = {}

    def bump(self, task_id: str, attempt: int) -> None:
        with self._lock:
            key = (task_id, attempt)
            self._versions[key] = self._versions.pop(key, 0) + 1  # most recent last
            while len(self._versions) > self.MAX_KEYS:
                self._versions.pop(next(iter(self._versions)))

    def version(self, task_id: str, attempt: int) -> int:
        with self._lock:
            return self._versions.get((task_id, attempt), 0)
