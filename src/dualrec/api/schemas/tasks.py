"""Bodies of the task endpoints (the integration API, the customer's entry link) and of the webhook
deliveries to business systems. Requests forbid unknown fields."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from dualrec.api.schemas.common import StrictModel
from dualrec.api.schemas.flows import RiskLevel, Short, Text200

__all__ = [
    "EntryOut",
    "TaskAction",
    "TaskAttemptOut",
    "TaskCreate",
    "TaskCreated",
    "TaskDocument",
    "TaskOut",
    "WebhookAttemptOut",
    "WebhookDeliveryDetail",
    "WebhookDeliveryOut",
]


class TaskDocument(StrictModel):
    """A document shown to (and optionally signed by) the customer: the file itself, as Base64
    (PDF, or Word/PowerPoint converted on the server when LibreOffice is installed), or the key of a
    stored blob. See docs/documents.md."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    action: Literal["display", "sign"] = "display"
    content_base64: Annotated[str, StringConstraints(max_length=28_000_000)] | None = None
    blob_key: Annotated[str, StringConstraints(max_length=200)] | None = None
    sign: dict[str, Any] | None = Field(
        default=None, description="签名位置 / signature placement: page, x, y, width, height (points)"
    )


class TaskCreate(StrictModel):
    customer_id: Short
    customer_name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    id_number: Annotated[str, StringConstraints(min_length=15, max_length=18)]
    phone: Annotated[str, StringConstraints(max_length=20)] = ""
    customer_type: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    risk_level: RiskLevel
    business_type: Short
    business_no: Short
    contract_no: Annotated[str, StringConstraints(max_length=64)] = ""
    product: Text200 = ""
    amount: Annotated[str, StringConstraints(max_length=20)] = Field(
        default="", description="金额（十进制字符串）/ amount as a decimal string, e.g. 100000.00"
    )
    documents: list[TaskDocument] = Field(default_factory=list, max_length=50)
    callback_url: Annotated[str, StringConstraints(max_length=1000)] = ""
    branch_id: Annotated[int, Field(ge=1, le=2**53)] | None = None


class TaskAction(StrictModel):
    reason: Annotated[str, StringConstraints(max_length=1000)] = ""


class TaskAttemptOut(BaseModel):
    number: int
    status: str
    flow_version: int
    entry_expires_at: datetime
    created_at: datetime
    finished_at: datetime | None
    reason: str
    recording_id: str | None
    questions: list[dict[str, Any]] = Field(description="抽到的题目 / the questions drawn for this attempt")
    result: dict[str, Any] | None


class TaskOut(BaseModel):
    id: str
    status: str
    business_type: str
    business_no: str
    contract_no: str
    product: str
    amount: str
    customer_id: str
    customer_name: str
    customer_type: str
    risk_level: str
    id_number: str = Field(description="按权限脱敏 / masked unless the caller may see it")
    phone: str
    documents: list[dict[str, Any]]
    callback_url: str
    mode: str
    flow_code: str
    flow_version: int
    attempt: int
    branch_id: int
    created_by: str
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    attempts: list[TaskAttemptOut]


class TaskCreated(TaskOut):
    entry_url: str
    entry_expires_at: datetime
    replayed: bool


class EntryOut(BaseModel):
    task_id: str
    attempt: int
    status: str
    customer_name: str
    business_type: str
    product: str
    mode: str
    flow: dict[str, Any]
    documents: list[dict[str, Any]]


class WebhookAttemptOut(BaseModel):
    attempt: int
    at: datetime
    status_code: int | None = Field(description="HTTP status of the answer; null: no answer")
    error: str = Field(description="empty when delivered; a short reason (the answer's body is never kept)")
    ms: int


class WebhookDeliveryOut(BaseModel):
    id: str
    task_id: str
    source_key: str = Field(description="API key id of the business system (its secret signs the body)")
    url: str
    event: str
    status: str = Field(description="pending | delivered | failed")
    attempts: int
    max_attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str
    created_at: datetime
    delivered_at: datetime | None


class WebhookDeliveryDetail(WebhookDeliveryOut):
    payload: dict[str, Any] = Field(description="the JSON body that is sent (canonical form)")
    log: list[WebhookAttemptOut]
