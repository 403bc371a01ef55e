"""Signed webhooks to business systems: the signature recipe, its verification, the retry schedule.

Every notification is a JSON POST with these headers::

    X-Dualrec-Event: task.status_changed | task.result
    X-Dualrec-Delivery: <delivery id>          (the same on every retry: receivers dedupe on it)
    X-Dualrec-Timestamp: <unix seconds>        (of this try)
    X-Dualrec-Signature: v1=<hex HMAC-SHA256(secret, f"{timestamp}.".encode() + body)>

``secret`` is the business system's API key secret (the one it signs its own requests with).
Receivers verify the signature over the raw body and refuse timestamps outside a tolerance window,
so that a captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "HEADER_DELIVERY",
    "HEADER_EVENT",
    "HEADER_SIGNATURE",
    "HEADER_TIMESTAMP",
    "SIGNATURE_VERSION",
    "DeliveryStatus",
    "MalformedSignatureError",
    "SignatureMismatchError",
    "TimestampOutOfToleranceError",
    "WebhookDelivery",
    "WebhookEvent",
    "WebhookSignatureError",
    "backoff_seconds",
    "encode_body",
    "request_headers",
    "retry_delay",
    "sign_webhook",
    "verify_webhook",
]

SIGNATURE_VERSION = "v1"
HEADER_EVENT = "X-Dualrec-Event"
HEADER_DELIVERY = "X-Dualrec-Delivery"
HEADER_TIMESTAMP = "X-Dualrec-Timestamp"
HEADER_SIGNATURE = "X-Dualrec-Signature"


class WebhookEvent(StrEnum):
    STATUS_CHANGED = "task.status_changed"  # every change of a task's status
    RESULT = "task.result"  # the final QC / flow result
    REVIEW_DECIDED = "task.review_decided"  # a human review (复核, 终审, 申诉) decided an attempt's recording
    HIGH_RISK = "task.high_risk"  # a high-risk rule flagged an attempt's recording (docs/review.md)


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for its (next) try
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"  # out of attempts (or cannot be signed); an admin may re-send it


@dataclass(frozen=True)
class WebhookDelivery:
    id: str
    task_id: str
    source_key: str
    url: str
    event: str
    payload: dict[str, Any]  # exactly what is sent (the body is its canonical JSON)
    status: str
    attempts: int
    max_attempts: int  # 0: not started yet, the dispatcher's configured budget applies
    next_attempt_at: datetime | None
    lease_until: datetime | None
    last_status_code: int | None
    last_error: str
    log: tuple[dict[str, Any], ...]  # one entry per try: {attempt, at, status_code, error, ms}
    created_at: datetime
    delivered_at: datetime | None
    branch_path: str = ""  # of the task (scoping); empty when not loaded


class WebhookSignatureError(ValueError):
    """A webhook request must be refused."""


class MalformedSignatureError(WebhookSignatureError):
    """Missing or unparsable timestamp / signature header."""


class SignatureMismatchError(WebhookSignatureError):
    """The body or timestamp was changed, or it was signed with another secret."""


class TimestampOutOfToleranceError(WebhookSignatureError):
    """Too old (a replay) or too far in the future."""


def encode_body(payload: dict[str, Any]) -> bytes:
    """The canonical JSON body of a payload (stable across databases that reorder JSON keys)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def sign_webhook(secret: str, timestamp: int, body: bytes) -> str:
    message = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def request_headers(*, delivery_id: str, event: str, timestamp: int, signature: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        HEADER_EVENT: event,
        HEADER_DELIVERY: delivery_id,
        HEADER_TIMESTAMP: str(timestamp),
        HEADER_SIGNATURE: signature,
    }


def verify_webhook(
    secret: str,
    *,
    timestamp_header: str | None,
    signature_header: str | None,
    body: bytes,
    now: float,
    tolerance: int = 300,
) -> None:
    """Raise a ``WebhookSignatureError`` unless the request is authentic and fresh.

    ``signature_header`` may list several comma-separated ``v1=<hex>`` values (any one may match)."""
    ts_text = (timestamp_header or "").strip()
    if not ts_text.isascii() or not ts_text.isdigit() or len(ts_text) > 12:
        raise MalformedSignatureError(f"bad {HEADER_TIMESTAMP} header: {timestamp_header!r}")
    candidates = []
    for part in (signature_header or "").split(","):
        version, sep, value = part.strip().partition("=")
        if sep and version == SIGNATURE_VERSION and value:
            candidates.append(value.lower())
    if not candidates:
        raise MalformedSignatureError(f"bad {HEADER_SIGNATURE} header: expected {SIGNATURE_VERSION}=<hex>")
    timestamp = int(ts_text)
    expected = sign_webhook(secret, timestamp, body).partition("=")[2]
    if not any(hmac.compare_digest(expected.encode(), c.encode()) for c in candidates):
        raise SignatureMismatchError("signature does not match the body and timestamp")
    if timestamp < now - tolerance:
        raise TimestampOutOfToleranceError(
            f"timestamp {timestamp} is {int(now - timestamp)} s old (tolerance {tolerance} s): replay?"
        )
    if timestamp > now + tolerance:
        raise TimestampOutOfToleranceError(
            f"timestamp {timestamp} is {int(timestamp - now)} s in the future (tolerance {tolerance} s)"
        )


def backoff_seconds(attempt: int, base: float, cap: float) -> float:
    """Wait after failed try number ``attempt`` (1-based): base, 2·base, 4·base, … never above cap."""
    if attempt < 1:
        raise ValueError("attempt is 1-based")
    exponent = min(attempt - 1, 62)  # 2**62 · base is above any sensible cap
    return float(min(cap, base * 2**exponent))


def retry_delay(attempt: int, max_attempts: int, base: float, cap: float) -> float | None:
    """After failed try ``attempt``: seconds until the next one, or None when the budget is spent."""
    if attempt >= max_attempts:
        return None
    return backoff_seconds(attempt, base, cap)
