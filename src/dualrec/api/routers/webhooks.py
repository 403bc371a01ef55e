"""Webhook deliveries to business systems: the delivery log (with what was sent) and manual re-send."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from dualrec.api.deps import ContainerDep, perm
from dualrec.api.schemas.common import Page
from dualrec.api.schemas.tasks import WebhookAttemptOut, WebhookDeliveryDetail, WebhookDeliveryOut
from dualrec.core.rbac import Permission as P
from dualrec.core.webhooks import WebhookDelivery
from dualrec.services.common.context import Actor
from dualrec.services.tasks import webhooks as svc

router = APIRouter(prefix="/webhook-deliveries", tags=["webhooks"])

UUID_PATTERN = r"^[0-9a-f-]{36}$"
DeliveryId = Annotated[str, Path(min_length=36, max_length=36, pattern=UUID_PATTERN)]


def _fields(d: WebhookDelivery, default_max_attempts: int) -> dict[str, Any]:
    return {
        "id": d.id,
        "task_id": d.task_id,
        "source_key": d.source_key,
        "url": d.url,
        "event": d.event,
        "status": d.status,
        "attempts": d.attempts,
        "max_attempts": d.max_attempts or default_max_attempts,
        "next_attempt_at": d.next_attempt_at if d.status == "pending" else None,
        "last_status_code": d.last_status_code,
        "last_error": d.last_error,
        "created_at": d.created_at,
        "delivered_at": d.delivered_at,
    }


def _detail(d: WebhookDelivery, default_max_attempts: int) -> WebhookDeliveryDetail:
    return WebhookDeliveryDetail(
        **_fields(d, default_max_attempts),
        payload=d.payload,
        log=[WebhookAttemptOut.model_validate(e) for e in d.log],
    )


@router.get("", response_model=Page[WebhookDeliveryOut], summary="回调通知记录 / list webhook deliveries")
def list_deliveries(
    actor: Annotated[Actor, perm(P.APIKEYS_MANAGE)],
    container: ContainerDep,
    task_id: Annotated[str | None, Query(max_length=36, pattern=UUID_PATTERN)] = None,
    status: Annotated[str | None, Query(pattern=r"^(pending|delivered|failed)$")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 20,
) -> Page[WebhookDeliveryOut]:
    items, total = svc.list_deliveries(
        container.uows, actor=actor, task_id=task_id, status=status, page=page, page_size=page_size
    )
    budget = container.settings.webhook_max_attempts
    return Page[WebhookDeliveryOut](
        items=[WebhookDeliveryOut(**_fields(d, budget)) for d in items],
        total=total,
        page=page,
        page_size=page_size,
    )


@router.get(
    "/{delivery_id}",
    response_model=WebhookDeliveryDetail,
    summary="通知详情（含发送内容与每次尝试）/ a delivery with its body and every try",
)
def get_delivery(
    delivery_id: DeliveryId, actor: Annotated[Actor, perm(P.APIKEYS_MANAGE)], container: ContainerDep
) -> WebhookDeliveryDetail:
    found = svc.get_delivery(container.uows, actor=actor, delivery_id=delivery_id)
    return _detail(found, container.settings.webhook_max_attempts)


@router.post(
    "/{delivery_id}/resend",
    response_model=WebhookDeliveryDetail,
    summary="重新发送通知 / send a delivery again",
)
def resend_delivery(
    delivery_id: DeliveryId, actor: Annotated[Actor, perm(P.APIKEYS_MANAGE)], container: ContainerDep
) -> WebhookDeliveryDetail:
    budget = container.settings.webhook_max_attempts
    saved = svc.resend(container.uows, actor=actor, delivery_id=delivery_id, max_attempts=budget)
    if container.webhooks is not None:
        container.webhooks.wake()
    return _detail(saved, budget)
