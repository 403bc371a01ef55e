"""Bodies of the flow, routing, sensitive-word and task endpoints. Requests forbid unknown fields."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from dualrec.api.schemas import StrictModel

__all__ = [
    "EntryOut",
    "FlowChangeOut",
    "FlowCreate",
    "FlowDraft",
    "FlowOut",
    "FlowProblemOut",
    "FlowPublish",
    "FlowSummaryOut",
    "FlowVersionOut",
    "RoutingRuleIn",
    "RoutingRuleOut",
    "RoutingRules",
    "SensitiveWords",
    "TaskAction",
    "TaskAttemptOut",
    "TaskCreate",
    "TaskCreated",
    "TaskOut",
    "TextHitOut",
]

Text200 = Annotated[str, StringConstraints(max_length=200)]
Short = Annotated[str, StringConstraints(min_length=1, max_length=64)]
RiskLevel = Literal["R1", "R2", "R3", "R4", "R5"]
Mode = Literal["self_service", "human"]


class FlowCreate(StrictModel):
    code: Annotated[str, StringConstraints(min_length=2, max_length=64, pattern=r"^[a-z0-9_\-]+$")]
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    business_type: Annotated[str, StringConstraints(max_length=64)] = ""
    definition: dict[str, Any] = Field(
        description="流程定义（nodes, mode…）/ the flow: nodes, mode, description"
    )


class FlowDraft(StrictModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    business_type: Annotated[str, StringConstraints(max_length=64)] = ""
    definition: dict[str, Any]


class FlowPublish(StrictModel):
    override_reason: Annotated[str, StringConstraints(max_length=1000)] = ""
    expected_sha256: Annotated[str, StringConstraints(max_length=64)] = ""


class FlowProblemOut(BaseModel):
    where: str
    message: str


class TextHitOut(BaseModel):
    node_id: str
    field: str
    word: str
    index: int
    text: str


class FlowChangeOut(BaseModel):
    kind: str
    node_id: str
    field: str
    before: Any = None
    after: Any = None


class FlowSummaryOut(BaseModel):
    code: str
    name: str
    business_type: str
    latest_version: int
    archived: bool
    draft_updated_at: datetime
    draft_updated_by: str


class FlowOut(FlowSummaryOut):
    draft: dict[str, Any]
    draft_sha256: str
    problems: list[FlowProblemOut]
    hits: list[TextHitOut]
    changes: list[FlowChangeOut]
    unpublished_changes: bool


class FlowVersionOut(BaseModel):
    code: str
    version: int
    definition: dict[str, Any]
    sha256: str
    published_at: datetime
    published_by: str
    changes: list[FlowChangeOut]
    review_hits: list[TextHitOut]
    override_reason: str


class RoutingRuleIn(StrictModel):
    name: Text200 = ""
    priority: Annotated[int, Field(ge=0, le=100000)] = 100
    flow_code: Short
    mode: Mode = "self_service"
    customer_types: list[Short] = Field(default_factory=list, max_length=50)
    business_types: list[Short] = Field(default_factory=list, max_length=50)
    risk_levels: list[RiskLevel] = Field(default_factory=list, max_length=5)
    enabled: bool = True


class RoutingRuleOut(RoutingRuleIn):
    id: int


class RoutingRules(StrictModel):
    rules: list[RoutingRuleIn] = Field(max_length=500)


class SensitiveWords(StrictModel):
    words: list[Annotated[str, StringConstraints(min_length=1, max_length=100)]] = Field(max_length=5000)


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
