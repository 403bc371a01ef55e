"""Result notification to business systems: signed webhooks through an outbox, retried with backoff.

``enqueue`` writes a delivery row inside the caller's unit of work (the same transaction as the task
status change it reports); nothing is sent from there. ``deliver_due`` — called by the dispatcher
thread of every server and worker process — leases due rows one at a time, POSTs each signed with
the business system's API key secret, and records every try in the delivery's log.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

import httpx

from dualrec.core.audit import AuditAction
from dualrec.core.outbound import AllowList
from dualrec.core.webhooks import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookEvent,
    encode_body,
    request_headers,
    retry_delay,
    sign_webhook,
)
from dualrec.db.uow import UnitOfWork, UnitOfWorkFactory
from dualrec.errors import InvalidInputError, NotFoundError
from dualrec.i18n import msg
from dualrec.services.common import audit, outbound
from dualrec.services.common.context import Actor
from dualrec.services.common.secretbox import SecretBox

__all__ = [
    "DEFAULT_MAX_ATTEMPTS",
    "WebhookConfig",
    "deliver_due",
    "enqueue",
    "get_delivery",
    "list_deliveries",
    "resend",
]

logger = logging.getLogger(__name__)

NOTHING_ALLOWED = AllowList()

DEFAULT_MAX_ATTEMPTS = 8
EVENTS = frozenset(e.value for e in WebhookEvent)


@dataclass(frozen=True)
class WebhookConfig:
    """The dispatcher's knobs (from the ``DUALREC_WEBHOOK_*`` settings)."""

    timeout_seconds: float = 10.0
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    backoff_seconds: float = 10.0
    backoff_cap_seconds: float = 3600.0
    batch_size: int = 50  # tries per deliver_due call at most
    allow: AllowList = NOTHING_ALLOWED  # non-public destinations allowed (DUALREC_OUTBOUND_ALLOW)

    @property
    def lease_seconds(self) -> float:
        """How long a claimed row stays invisible to other dispatchers (one row is sent at a time)."""
        return 3 * self.timeout_seconds + 30


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not JSON serialisable in a webhook payload: {type(value).__name__}")


def enqueue(
    uow: UnitOfWork,
    *,
    task_id: str,
    source_key: str,
    url: str,
    event: str,
    payload: dict[str, Any],
    now: datetime | None = None,
    max_attempts: int | None = None,
) -> WebhookDelivery | None:
    """Queue a notification in the caller's transaction. Nothing for console tasks (``user:…``)
    or tasks without a callback URL. ``max_attempts`` None: the dispatcher's configured budget."""
    if not url or source_key.startswith("user:"):
        return None
    if event not in EVENTS:
        raise InvalidInputError(msg("tasks.unknown_webhook_event", event=event))
    if not url.startswith(("http://", "https://")):
        logger.warning("task %s: callback URL is not http(s), no webhook queued", task_id)
        return None
    now = now or datetime.now(UTC)
    delivery_id = str(uuid.uuid4())
    envelope = {
        "id": delivery_id,
        "event": event,
        "task_id": task_id,
        "created_at": now.isoformat(),
        "data": payload,
    }
    normalised: dict[str, Any] = json.loads(json.dumps(envelope, ensure_ascii=False, default=_jsonable))
    return uow.webhooks.add(
        delivery_id=delivery_id,
        task_id=task_id,
        source_key=source_key,
        url=url,
        event=event,
        payload=normalised,
        max_attempts=max_attempts or 0,
        now=now,
    )


@dataclass(frozen=True)
class _Outcome:
    status_code: int | None = None
    error: str = ""
    ms: int = 0
    permanent: bool = False  # no retry can help (the key is revoked, the destination is refused)

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300 and not self.error


def _signing_secret(uows: UnitOfWorkFactory, box: SecretBox, source_key: str) -> str | None:
    with uows.read() as uow:
        found = uow.api_keys.by_key_id(source_key)
    if found is None or not found[0].is_active:
        return None
    return box.open(found[1])


def _post(
    http: httpx.Client, d: WebhookDelivery, secret: str, at: datetime, config: WebhookConfig
) -> _Outcome:
    """One try. Only the status code is kept of the answer: the receiver's body is neither read nor
    stored (a callback URL must not turn the console into a window on internal services)."""
    body = encode_body(d.payload)
    timestamp = int(at.timestamp())
    headers = request_headers(
        delivery_id=d.id, event=d.event, timestamp=timestamp, signature=sign_webhook(secret, timestamp, body)
    )
    timeout = config.timeout_seconds
    started = time.monotonic()
    try:
        with outbound.stream(
            http, "POST", d.url, config.allow, content=body, headers=headers, timeout=timeout
        ) as resp:
            code = resp.status_code
    except outbound.OutboundRefusedError as exc:
        return _Outcome(error=exc.message[:500], permanent=True)
    except httpx.TimeoutException as exc:
        ms = int((time.monotonic() - started) * 1000)
        return _Outcome(error=f"timeout after {timeout:g} s ({type(exc).__name__})", ms=ms)
    except httpx.HTTPError as exc:
        ms = int((time.monotonic() - started) * 1000)
        return _Outcome(error=f"{type(exc).__name__}: {exc}"[:500], ms=ms)
    ms = int((time.monotonic() - started) * 1000)
    if 200 <= code < 300:
        return _Outcome(status_code=code, ms=ms)
    if 300 <= code < 400:
        return _Outcome(status_code=code, error=f"HTTP {code} (redirects are not followed)", ms=ms)
    return _Outcome(status_code=code, error=f"HTTP {code}", ms=ms)


def _record(
    uows: UnitOfWorkFactory,
    d: WebhookDelivery,
    outcome: _Outcome,
    *,
    started: datetime,
    finished: datetime,
    config: WebhookConfig,
) -> WebhookDelivery:
    with uows() as uow:
        fresh = uow.webhooks.get(d.id)
        if fresh is None:  # deleted meanwhile
            return d
        budget = fresh.max_attempts or config.max_attempts
        attempt = fresh.attempts + 1
        next_at: datetime | None = None
        if outcome.ok:
            status = DeliveryStatus.DELIVERED
        elif outcome.permanent:
            status = DeliveryStatus.FAILED
        else:
            delay = retry_delay(attempt, budget, config.backoff_seconds, config.backoff_cap_seconds)
            status = DeliveryStatus.FAILED if delay is None else DeliveryStatus.PENDING
            next_at = None if delay is None else finished + timedelta(seconds=delay)
        entry: dict[str, Any] = {
            "at": started.isoformat(),
            "status_code": outcome.status_code,
            "error": outcome.error,
            "ms": outcome.ms,
        }
        saved = uow.webhooks.record_attempt(
            d.id,
            entry=entry,
            status=status.value,
            max_attempts=budget,
            next_attempt_at=next_at,
            status_code=outcome.status_code,
            error=outcome.error,
            delivered_at=finished if outcome.ok else None,
        )
        uow.commit()
    if status is DeliveryStatus.FAILED:
        logger.warning("webhook %s to %s failed for good: %s", d.id, d.url, outcome.error)
    elif not outcome.ok:
        logger.info("webhook %s try %d failed (%s), next at %s", d.id, attempt, outcome.error, next_at)
    return saved


def deliver_due(
    uows: UnitOfWorkFactory,
    secretbox: SecretBox,
    http: httpx.Client,
    *,
    config: WebhookConfig | None = None,
    now: datetime | None = None,
) -> int:
    """Send what is due; returns the number of tries made. ``now`` fixes the clock (tests)."""
    config = config or WebhookConfig()
    tried = 0
    while tried < config.batch_size:
        at = now or datetime.now(UTC)
        with uows() as uow:
            claimed = uow.webhooks.claim_due(at, config.lease_seconds, 1)
            uow.commit()
        if not claimed:
            break
        delivery = claimed[0]
        secret = _signing_secret(uows, secretbox, delivery.source_key)
        if secret is None:
            outcome = _Outcome(
                error=f"接入密钥 {delivery.source_key} 已吊销或不存在，无法签名 / "
                f"API key {delivery.source_key} is revoked or unknown: cannot sign",
                permanent=True,
            )
        else:
            outcome = _post(http, delivery, secret, at, config)
        _record(uows, delivery, outcome, started=at, finished=now or datetime.now(UTC), config=config)
        tried += 1
    return tried


def list_deliveries(
    uows: UnitOfWorkFactory,
    *,
    actor: Actor,
    task_id: str | None = None,
    status: str | None = None,
    page: int = 1,
    page_size: int = 20,
) -> tuple[list[WebhookDelivery], int]:
    assert actor.principal is not None
    with uows.read() as uow:
        return uow.webhooks.list(
            scope_path=actor.principal.branch_path,
            task_id=task_id,
            status=status,
            offset=(page - 1) * page_size,
            limit=page_size,
        )


def get_delivery(uows: UnitOfWorkFactory, *, actor: Actor, delivery_id: str) -> WebhookDelivery:
    assert actor.principal is not None
    with uows.read() as uow:
        found = uow.webhooks.get(delivery_id, scope_path=actor.principal.branch_path)
    if found is None:
        raise NotFoundError(msg("tasks.webhook_delivery_found"))
    return found


def resend(
    uows: UnitOfWorkFactory,
    *,
    actor: Actor,
    delivery_id: str,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    now: datetime | None = None,
) -> WebhookDelivery:
    """Admin action: send again now (same delivery id and body), with a fresh attempt budget."""
    assert actor.principal is not None
    now = now or datetime.now(UTC)
    with uows() as uow:
        found = uow.webhooks.get(delivery_id, scope_path=actor.principal.branch_path)
        if found is None:
            raise NotFoundError(msg("tasks.webhook_delivery_found"))
        saved = uow.webhooks.reschedule(delivery_id, now=now, max_attempts=found.attempts + max_attempts)
        audit.record(
            uow,
            actor=actor,
            action=AuditAction.WEBHOOK_RESENT,
            target_type="webhook_delivery",
            target_id=delivery_id,
            details={
                "task_id": found.task_id,
                "event": found.event,
                "previous_status": found.status,
                "attempts": found.attempts,
            },
        )
        uow.commit()
    return WebhookDelivery(**{**saved.__dict__, "branch_path": found.branch_path})
