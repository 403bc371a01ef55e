"""Bodies of the flow, routing and sensitive-word endpoints. Requests forbid unknown fields."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from dualrec.api.schemas.common import StrictModel

__all__ = [
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
