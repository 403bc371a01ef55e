"""Recording tasks (双录任务) and their attempts: statuses, masking, and the customer entry link.

A business system creates a task; the customer records it through a signed, expiring entry link.
A failed attempt needs a new one before the business may continue; a reset (双录重置, e.g. the
contract changed) starts a new attempt and keeps the old one for audit.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "FINAL_STATUSES",
    "Attempt",
    "AttemptStatus",
    "EntryToken",
    "Task",
    "TaskStatus",
    "mask_id_number",
    "mask_name",
    "mask_phone",
    "sign_entry_token",
    "verify_entry_token",
]


class TaskStatus(StrEnum):
    CREATED = "created"  # waiting for the customer
    IN_PROGRESS = "in_progress"  # the customer is recording
    QC = "qc"  # recorded, quality inspection running
    REVIEW = "review"  # QC asks a human to review
    PASSED = "passed"
    FAILED = "failed"  # this attempt failed; a reset starts a new one
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    HANDOVER = "handover"  # the self-service flow handed the customer to a human (needs human)


FINAL_STATUSES: frozenset[str] = frozenset({TaskStatus.PASSED, TaskStatus.CANCELLED})


class AttemptStatus(StrEnum):
    CREATED = "created"
    IN_PROGRESS = "in_progress"
    QC = "qc"
    REVIEW = "review"
    PASSED = "passed"
    FAILED = "failed"
    HANDOVER = "handover"  # handed to a human interviewer
    SUPERSEDED = "superseded"  # replaced by a reset
    CANCELLED = "cancelled"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Attempt:
    number: int
    status: str
    flow_version: int
    draws: list[dict[str, Any]]
    entry_expires_at: datetime
    created_at: datetime
    reason: str = ""
    recording_id: str | None = None
    result: dict[str, Any] | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None


@dataclass(frozen=True)
class Task:
    id: str
    source_key: str
    branch_id: int
    branch_path: str
    created_by: str
    business_type: str
    business_no: str
    contract_no: str
    product: str
    amount: str
    customer_id: str
    customer_name: str
    customer_type: str
    risk_level: str
    id_number: str  # unsealed by the repository's caller; mask before showing
    phone: str
    documents: list[dict[str, Any]]
    callback_url: str
    mode: str
    flow_id: int
    flow_code: str
    flow_version: int
    status: str
    attempt_no: int
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None = None
    idempotency_key: str | None = None
    request_sha256: str = ""
    attempts: tuple[Attempt, ...] = field(default=())

    @property
    def current_attempt(self) -> Attempt | None:
        return next((a for a in self.attempts if a.number == self.attempt_no), None)


def mask_id_number(number: str) -> str:
    """110105********0015 style: the region and the last 4 characters stay (JR/T 0171)."""
    if len(number) <= 8:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_phone(phone: str) -> str:
    digits = phone.strip()
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳小明 → 欧**明."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


@dataclass(frozen=True)
class EntryToken:
    task_id: str
    attempt: int
    expires_at: int  # unix seconds


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_entry_token(key: bytes, token: EntryToken) -> str:
    """``payload.signature`` (URL-safe), HMAC-SHA256 with a key derived for entry links only."""
    body = json.dumps(
        {"t": token.task_id, "a": token.attempt, "e": token.expires_at}, separators=(",", ":")
    ).encode()
    sig = hmac.new(key, b"dualrec-entry-v1." + body, hashlib.sha256).digest()
    return f"{_b64(body)}.{_b64(sig)}"


_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


def verify_entry_token(key: bytes, text: str, *, now: int) -> EntryToken | None:
    """The token's content, or None when it is malformed, forged or expired.

    Only the canonical spelling is accepted (the one ``sign_entry_token`` writes: URL-safe Base64
    without padding): padding, standard-alphabet characters, stray characters the decoder would skip
    and other spellings of the same bytes (the unused bits of the last character) are refused, so one
    link has exactly one token and a token found in one place matches it everywhere."""
    if not _TOKEN_SHAPE.fullmatch(text):
        return None
    try:
        body_part, sig_part = text.split(".", 1)
        body = _unb64(body_part)
        sig = _unb64(sig_part)
    except ValueError:
        return None
    if _b64(body) != body_part or _b64(sig) != sig_part:
        return None
    want = hmac.new(key, b"dualrec-entry-v1." + body, hashlib.sha256).digest()
    if not hmac.compare_digest(sig, want):
        return None
    try:
        data = json.loads(body)
        token = EntryToken(str(data["t"]), int(data["a"]), int(data["e"]))
    except (ValueError, KeyError, TypeError):
        return None
    return token if token.expires_at > now else None
