"""Bodies of QC operations: sampling rules and samples, review items, finding decisions, appeals and
accuracy statistics (services/review)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, Field, StringConstraints

from dualrec.api.schemas.common import Id, StrictModel

__all__ = [
    "AddedFindingIn",
    "AppealDecisionIn",
    "AppealOut",
    "AssignIn",
    "ConditionsIn",
    "FiltersIn",
    "FindingDecisionIn",
    "FindingDecisionOut",
    "HighRiskFlagOut",
    "HighRiskRuleIn",
    "HighRiskRuleOut",
    "NoticeReadIn",
    "NoticeReadOut",
    "PlanIn",
    "PreviewOut",
    "QcNoticeOut",
    "QcNoticePageOut",
    "ReproductionOut",
    "ReviewDecisionIn",
    "ReviewDecisionOut",
    "ReviewItemOut",
    "ReviewerOut",
    "RuleIn",
    "RuleOut",
    "RunRuleIn",
    "SampleIn",
    "SampleOut",
    "StatsOut",
    "StatsRowOut",
    "TaskEffectOut",
    "ThresholdAdviceOut",
    "ThresholdBinOut",
    "ThresholdsOut",
]

Value = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Values = Annotated[list[Value], Field(max_length=50)]
Verdict = Literal["PASS", "REVIEW", "FAIL"]
Reason = Annotated[str, StringConstraints(max_length=2000)]
Score = Annotated[int, Field(ge=0, le=100)]
Rate = Annotated[float, Field(ge=0, le=100)]


class FiltersIn(StrictModel):
    """Which recordings may be sampled; empty lists match everything. Times are half-open."""

    recorded_from: AwareDatetime | None = None
    recorded_to: AwareDatetime | None = None
    finished_from: AwareDatetime | None = None
    finished_to: AwareDatetime | None = None
    branch_id: Id | None = Field(default=None, description="该网点及其下级 / that branch's subtree")
    business_types: Values = Field(default_factory=list)
    products: Values = Field(default_factory=list)
    customer_types: Values = Field(default_factory=list)
    modes: Values = Field(default_factory=list)
    verdicts: Annotated[list[Verdict], Field(max_length=3)] = Field(default_factory=list)
    risk_min: Score | None = None
    risk_max: Score | None = None
    agents: Values = Field(
        default_factory=list, description="录制人或任务创建人 / who made the recording or its task"
    )


class PlanIn(StrictModel):
    """Percentages per machine verdict (e.g. FAIL 100, REVIEW 100, PASS 10), per branch or overall,
    every recording at or above ``high_risk_min``, and an optional cap."""

    rates: dict[Verdict, Rate] = Field(default_factory=dict)
    default_rate: Rate = 0
    per_branch: bool = True
    high_risk_min: Score | None = None
    limit: Annotated[int, Field(ge=1, le=5000)] | None = None
    high_risk_flagged: bool = Field(
        default=False, description="所有被高风险规则标记的录像 / every recording a high-risk rule flagged"
    )


class SampleIn(StrictModel):
    filters: FiltersIn = Field(default_factory=FiltersIn)
    plan: PlanIn
    assignees: Annotated[list[Id], Field(max_length=50)] = Field(
        default_factory=list,
        description="质检员（轮流分配）；为空则进入公共队列 / reviewers, round-robin; empty: the pool",
    )


class RuleIn(StrictModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    enabled: bool = True
    branch_id: Id | None = Field(default=None, description="规则覆盖的网点（含下级）/ the subtree it samples")
    filters: FiltersIn = Field(default_factory=FiltersIn)
    plan: PlanIn
    assignees: Annotated[list[Id], Field(max_length=50)] = Field(default_factory=list)


class RunRuleIn(StrictModel):
    day: str | None = Field(
        default=None,
        pattern=r"^\d{4}-\d{2}-\d{2}$",
        description="本地日期，默认今天 / local day, default today",
    )


class RuleOut(BaseModel):
    id: int
    name: str
    enabled: bool
    branch_id: int
    filters: dict[str, Any]
    plan: dict[str, Any]
    assignees: list[int]
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime


class SampleOut(BaseModel):
    id: int
    kind: str
    rule_id: int | None
    trigger: str
    branch_id: int
    filters: dict[str, Any]
    plan: dict[str, Any]
    seed: str
    candidates: int
    candidates_sha256: str
    selected: list[str]
    added: int
    created_by: str
    created_at: datetime


class PreviewOut(BaseModel):
    candidates: int
    selected: int
    already_in_review: int


class ReproductionOut(BaseModel):
    sample_id: int
    same_candidates: bool
    same_selection: bool
    candidates: int
    missing: list[str]
    extra: list[str]


class ReviewerOut(BaseModel):
    id: int
    username: str
    display_name: str


class FindingDecisionOut(BaseModel):
    id: int
    finding_key: str | None
    check_id: str
    action: str
    reason: str
    start: float | None
    end: float | None
    by: str
    at: datetime


class AppealOut(BaseModel):
    id: int
    item_id: int
    recording_id: str
    branch_id: int
    status: str
    reason: str
    attachments: list[dict[str, Any]]  # name, content_type, size, sha256, url
    created_by: str
    created_at: datetime
    decision: str | None
    decision_reason: str
    decided_by: str
    decided_at: datetime | None


class ReviewItemOut(BaseModel):
    id: int
    recording_id: str
    branch_id: int
    sample_id: int | None
    status: str
    verdict: str
    risk_score: int
    high_risk: bool = False
    recording_created_by: str
    task_id: str | None
    attempt_no: int | None
    assignee_id: int | None
    assignee: str
    findings: list[dict[str, Any]]
    decisions: list[FindingDecisionOut]
    open_findings: list[str]
    started_at: datetime | None
    decision: str | None
    decision_reason: str
    decided_by: str
    decided_at: datetime | None
    final_decision: str | None
    final_reason: str
    final_by: str
    final_at: datetime | None
    outcome: str | None
    rerecord_attempt: int | None
    review_seconds: float | None
    created_at: datetime
    appeals: list[AppealOut] = Field(default_factory=list)


class FindingDecisionIn(StrictModel):
    action: Literal["confirm", "overrule"]
    reason: Reason = ""


class AddedFindingIn(StrictModel):
    check_id: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]
    start: Annotated[float, Field(ge=0, le=86400)]
    end: Annotated[float, Field(ge=0, le=86400)]
    note: Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class AssignIn(StrictModel):
    user_id: Id | None = Field(description="质检员；null 放回公共队列 / a reviewer; null: back to the pool")


class ReviewDecisionIn(StrictModel):
    decision: Literal["pass", "fail", "rerecord"]
    reason: Reason = ""


class AppealDecisionIn(StrictModel):
    decision: Literal["reject", "pass", "rerecord"]
    reason: Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class TaskEffectOut(BaseModel):
    task_id: str | None
    applied: bool
    new_attempt: int | None


class ReviewDecisionOut(BaseModel):
    item: ReviewItemOut
    task: TaskEffectOut | None


class StatsRowOut(BaseModel):
    key: str
    label: str
    reviewed: int
    raised: int
    confirmed: int
    overruled: int
    precision: float | None
    missed: int
    first_attempts: int
    first_time_passed: int
    first_time_pass_rate: float | None
    decided: int
    rerecords: int
    rerecord_rate: float | None
    review_seconds_mean: float | None
    review_seconds_median: float | None


class StatsOut(BaseModel):
    group_by: str
    period: str
    rows: list[StatsRowOut]
    total: StatsRowOut


# ---- high-risk rules and notices -----------------------------------------------------------------

Short = Annotated[str, StringConstraints(min_length=1, max_length=64)]
ShortList = Annotated[list[Short], Field(max_length=50)]


class ConditionsIn(StrictModel):
    """Every condition set must hold; empty lists and nulls are not looked at."""

    risk_min: Score | None = None
    verdicts: Annotated[list[Verdict], Field(max_length=3)] = Field(default_factory=list)
    checks_all: ShortList = Field(default_factory=list, description="同时出现 / all of these checks raised")
    checks_any: ShortList = Field(default_factory=list, description="任一出现 / any of these checks raised")
    min_severity: Literal["minor", "major", "critical"] | None = None
    customer_types: ShortList = Field(default_factory=list)
    risk_levels: ShortList = Field(default_factory=list, description="产品风险等级 / product risk level")
    modes: Annotated[list[Literal["self_service", "human", "counter"]], Field(max_length=3)] = Field(
        default_factory=list
    )


class HighRiskRuleIn(StrictModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    enabled: bool = True
    branch_id: Id | None = Field(
        default=None, description="规则覆盖的网点（含下级）/ the subtree it looks at"
    )
    conditions: ConditionsIn
    notify_roles: Annotated[list[Short], Field(min_length=1, max_length=10)]


class HighRiskRuleOut(BaseModel):
    id: int
    name: str
    enabled: bool
    branch_id: int
    conditions: dict[str, Any]
    notify_roles: list[str]
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime


class HighRiskFlagOut(BaseModel):
    recording_id: str
    high_risk: bool
    rules: list[dict[str, Any]]
    flagged_at: datetime | None
    evaluated_at: datetime


class QcNoticeOut(BaseModel):
    id: int
    kind: str
    branch_id: int
    recording_id: str | None
    title: str
    body: dict[str, Any]
    created_at: datetime
    read: bool


class QcNoticePageOut(BaseModel):
    items: list[QcNoticeOut]
    total: int
    unread: int
    page: int
    page_size: int


class NoticeReadIn(StrictModel):
    ids: Annotated[list[Id], Field(max_length=200)] | None = Field(
        default=None, description="null：全部已读 / null: mark every notice read"
    )


class NoticeReadOut(BaseModel):
    marked: int


class ThresholdBinOut(BaseModel):
    lo: float
    hi: float
    confirmed: int
    overruled: int


class ThresholdAdviceOut(BaseModel):
    check_id: str
    check_title: str
    name: str
    raised_when: Literal["above", "below"]
    current: float
    confirmed: int
    overruled: int
    best: float
    kept_confirmed: int
    dropped_overruled: int
    agree_now: int
    agree_best: int
    bins: list[ThresholdBinOut]


class ThresholdsOut(BaseModel):
    checks: list[ThresholdAdviceOut]
