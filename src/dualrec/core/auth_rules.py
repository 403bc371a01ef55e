"""Pure authentication rules: login lockout and throttling, HMAC request signing for business systems.

Request signing (for API keys): the client sends
``X-Dualrec-Key: <key id>``, ``X-Dualrec-Timestamp: <unix seconds>``, ``X-Dualrec-Nonce: <random>``
and ``X-Dualrec-Signature: hex(HMAC-SHA256(secret, canonical))`` where ``canonical`` is
``METHOD\\nPATH\\nSORTED_QUERY\\nTIMESTAMP\\nNONCE\\nhex(SHA256(body))``.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode

__all__ = [
    "FailureWindow",
    "LockoutPolicy",
    "NameLockouts",
    "ThrottlePolicy",
    "canonical_request",
    "locked_until_after_failure",
    "sign_request",
    "signature_matches",
    "timestamp_acceptable",
]


@dataclass(frozen=True)
class LockoutPolicy:
    max_failures: int = 5
    lockout: timedelta = timedelta(minutes=15)


def locked_until_after_failure(failures_after: int, now: datetime, policy: LockoutPolicy) -> datetime | None:
    """The lock expiry once a user has ``failures_after`` consecutive failures (None: not locked)."""
    if failures_after >= policy.max_failures:
        return now + policy.lockout
    return None


@dataclass(frozen=True)
class ThrottlePolicy:
    """At most ``max_failures`` failed logins per source within ``window`` (0: no limit)."""

    max_failures: int = 30
    window: timedelta = timedelta(minutes=15)


# How many sources / names the in-memory trackers remember (the least recently failed go first).
TRACKED_KEYS = 10_000


class FailureWindow:
    """Failures per key (e.g. a source address) in a sliding window, in memory, thread-safe.

    Memory is bounded: at most ``max_failures`` timestamps for each of ``max_keys`` keys.
    """

    def __init__(self, policy: ThrottlePolicy, max_keys: int = TRACKED_KEYS) -> None:
        self._policy = policy
        self._max_keys = max_keys
        self._failures: OrderedDict[str, deque[datetime]] = OrderedDict()
        self._lock = threading.Lock()

    def blocked_until(self, key: str, now: datetime) -> datetime | None:
        """When ``key`` may try again, or None when it may try now."""
        limit = self._policy.max_failures
        if limit <= 0:
            return None
        with self._lock:
            seen = self._failures.get(key)
            if seen is None or len(seen) < limit:
                return None
            until = seen[0] + self._policy.window  # the oldest of the last ``limit`` failures
            return until if until > now else None

    def fail(self, key: str, now: datetime) -> None:
        if self._policy.max_failures <= 0:
            return
        with self._lock:
            seen = self._failures.pop(key, None)
            if seen is None:
                seen = deque(maxlen=self._policy.max_failures)
            seen.append(now)
            self._failures[key] = seen
            while len(self._failures) > self._max_keys:
                self._failures.popitem(last=False)


class NameLockouts:
    """The lockout of ``LockoutPolicy`` for login names that match no account, in memory.

    A name that does not exist locks out after as many failures, for as long, as a real account
    does, so the answers do not tell the two apart. Bounded to ``max_keys`` names (least recently
    failed go first); thread-safe.
    """

    def __init__(self, policy: LockoutPolicy, max_keys: int = TRACKED_KEYS) -> None:
        self._policy = policy
        self._max_keys = max_keys
        self._names: OrderedDict[str, tuple[int, datetime | None]] = OrderedDict()
        self._lock = threading.Lock()

    def locked_until(self, name: str, now: datetime) -> datetime | None:
        with self._lock:
            _, until = self._names.get(name, (0, None))
        return until if until and until > now else None

    def fail(self, name: str, now: datetime) -> datetime | None:
        """Counts a failure; returns the lock expiry once the name is locked (as for an account)."""
        with self._lock:
            failures, _ = self._names.pop(name, (0, None))
            until = locked_until_after_failure(failures + 1, now, self._policy)
            self._names[name] = (failures + 1, until)
            while len(self._names) > self._max_keys:
                self._names.popitem(last=False)
        return until


def canonical_request(method: str, path: str, query: str, timestamp: str, nonce: str, body: bytes) -> str:
    sorted_query = urlencode(sorted(parse_qsl(query, keep_blank_values=True)))
    body_hash = hashlib.sha256(body).hexdigest()
    return "\n".join((method.upper(), path, sorted_query, timestamp, nonce, body_hash))


def sign_request(
    secret: str, method: str, path: str, query: str, timestamp: str, nonce: str, body: bytes
) -> str:
    message = canonical_request(method, path, query, timestamp, nonce, body).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_matches(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.strip().lower().encode())


def timestamp_acceptable(timestamp: str, now_unix: float, max_skew_seconds: int) -> bool:
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    return abs(now_unix - ts) <= max_skew_seconds
