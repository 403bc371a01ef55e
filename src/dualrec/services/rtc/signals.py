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
    MAX_HELD_PER_CALL = 8  # both pages' desk and queue requests, a few tabs: more is not a page

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._versions: dict[tuple[str, int], int] = {}
        self._held: dict[tuple[str, int], int] = {}

    def try_hold(self, task_id: str, attempt: int) -> bool:
        """Counts a request held for the call; False when the call already has MAX_HELD_PER_CALL
        (that request is answered at once instead: a link opened in a loop cannot pile them up)."""
        with self._lock:
            key = (task_id, attempt)
            if self._held.get(key, 0) >= self.MAX_HELD_PER_CALL:
                return False
            self._held[key] = self._held.get(key, 0) + 1
            return True

    def release(self, task_id: str, attempt: int) -> None:
        with self._lock:
            key = (task_id, attempt)
            left = self._held.get(key, 0) - 1
            if left > 0:
                self._held[key] = left
            else:
                self._held.pop(key, None)

    def bump(self, task_id: str, attempt: int) -> None:
        with self._lock:
            key = (task_id, attempt)
            self._versions[key] = self._versions.pop(key, 0) + 1  # most recent last
            while len(self._versions) > self.MAX_KEYS:
                self._versions.pop(next(iter(self._versions)))

    def version(self, task_id: str, attempt: int) -> int:
        with self._lock:
            return self._versions.get((task_id, attempt), 0)
