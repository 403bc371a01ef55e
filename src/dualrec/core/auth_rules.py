"""Pure authentication rules: login lockout and HMAC request signing for business systems.

Request signing (for API keys): the client sends
``X-Dualrec-Key: <key id>``, ``X-Dualrec-Timestamp: <unix seconds>``, ``X-Dualrec-Nonce: <random>``
and ``X-Dualrec-Signature: hex(HMAC-SHA256(secret, canonical))`` where ``canonical`` is
``METHOD\\nPATH\\nSORTED_QUERY\\nTIMESTAMP\\nNONCE\\nhex(SHA256(body))``.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode

__all__ = [
    "LockoutPolicy",
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
