"""Bodies of the archive endpoints (catalogue, retention, legal hold, deletion approvals)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from dualrec.api.schemas.common import StrictModel

__all__ = [
    "ApprovalChainIn",
    "ApprovalChainOut",
    "ApprovalStepIO",
    "ArchiveEntryOut",
    "ArchivePage",
    "CatalogueUpdate",
    "DecisionIn",
    "DeletionRequestCreate",
    "DeletionRequestOut",
    "ExpiringOut",
    "LegalHoldIn",
    "NoticeOut",
    "RetentionPolicyIn",
    "RetentionPolicyOut",
    "RetentionPolicySaved",
    "StepDecisionOut",
]

Reason = Annotated[str, StringConstraints(min_length=1, max_length=1000)]


class FileOut(BaseModel):
    filename: str
    format: str
    content_type: str
    size: int
    sha256: str
    duration_seconds: float | None
    created_at: datetime


class AvOut(BaseModel):
    video_codec: str | None = None
    audio_codec: str | None = None
    width: int | None = None
    height: int | None = None
    resolution: str | None = None
    aspect_ratio: str | None = None
    fps: float | None = None
    bit_rate: int | None = None
    audio_sample_rate: int | None = None
    audio_channels: int | None = None
    video_time: float | None = None
    audio_time: float | None = None


class ActivityOut(BaseModel):
    business_type: str
    business_no: str
    contract_no: str
    product: str
    customer_id: str
    customer_name: str = Field(description="脱敏，除非有 sensitive:unmask / masked unless sensitive:unmask")
    id_number: str
    phone: str
    branch_id: int
    branch_name: str
    created_by: str
    task_id: str | None
    attempt: int | None
    recorded_at: datetime
    qc_status: str
    qc_verdict: str | None


class RetentionOut(BaseModel):
    code: str = Field(description="Y 永久 / D<n> n 年 (e.g. D10, D30)")
    basis: str = Field(description="recorded_at | contract_end")
    manual: bool
    contract_end: date | None
    expires_on: date | None = Field(description="null: 永久或缺少合同终止日 / permanent or basis unknown")
    expired: bool


class LegalHoldOut(BaseModel):
    active: bool
    reason: str
    by: str
    at: datetime | None


class DeletionOut(BaseModel):
    deleted_at: datetime | None
    tombstone_seq: int | None


class ArchiveEntryOut(BaseModel):
    recording_id: str
    status: Literal["active", "deleted"]
    masked: bool
    file: FileOut
    av: AvOut
    activity: ActivityOut
    retention: RetentionOut
    secrecy_level: str
    carrier_numbers: list[str]
    legal_hold: LegalHoldOut
    deletion: DeletionOut
    links: dict[str, str]


class ArchivePage(BaseModel):
    items: list[ArchiveEntryOut]
    total: int
    total_exact: bool = Field(description="false: more than `total` matches (the count stops at 10 000)")
    page: int
    page_size: int
    masked: bool


class CatalogueUpdate(StrictModel):
    """Only the fields sent are changed. ``retention_code: null`` returns to the business type's policy."""

    secrecy_level: Annotated[str, StringConstraints(min_length=1, max_length=16)] | None = None
    carrier_numbers: list[Annotated[str, StringConstraints(max_length=64)]] | None = Field(
        default=None, max_length=20
    )
    contract_end: date | None = None
    retention_code: Annotated[str, StringConstraints(min_length=1, max_length=8)] | None = None


class LegalHoldIn(StrictModel):
    hold: bool
    reason: Reason


class RetentionPolicyIn(StrictModel):
    code: Annotated[str, StringConstraints(min_length=1, max_length=8)] = Field(
        description="Y | D<n> | <n>Y (n years)"
    )
    basis: Literal["recorded_at", "contract_end"]
    name: Annotated[str, StringConstraints(max_length=200)] = ""


class RetentionPolicyOut(BaseModel):
    business_type: str = Field(description="* = every business type without its own policy")
    code: str
    basis: str
    name: str


class RetentionPolicySaved(RetentionPolicyOut):
    entries_recomputed: int


class ApprovalStepIO(StrictModel):
    role: Annotated[str, StringConstraints(min_length=2, max_length=40)]
    name: Annotated[str, StringConstraints(max_length=100)] = ""


class ApprovalChainIn(StrictModel):
    steps: list[ApprovalStepIO] = Field(min_length=1, max_length=6)


class ApprovalChainOut(BaseModel):
    id: str
    steps: list[ApprovalStepIO]


class DeletionRequestCreate(StrictModel):
    reason: Reason


class DecisionIn(StrictModel):
    decision: Literal["approve", "reject"]
    comment: Annotated[str, StringConstraints(max_length=1000)] = ""


class StepDecisionOut(BaseModel):
    step: int = Field(description="1-based")
    role: str
    user_id: int
    username: str
    decision: str
    comment: str
    at: datetime


class DeletionRequestOut(BaseModel):
    id: str
    recording_id: str
    status: Literal["pending", "rejected", "cancelled", "completed"]
    reason: str
    requested_by: str
    requester_id: int
    created_at: datetime
    finished_at: datetime | None
    steps: list[ApprovalStepIO]
    decisions: list[StepDecisionOut]
    current_step: int | None = Field(description="1-based step waiting for a decision; null when finished")
    can_decide: bool = Field(description="the caller may approve/reject the current step now")
    legal_hold: bool
    result: dict[str, Any]


class NoticeOut(BaseModel):
    id: int
    kind: str
    day: str
    branch_id: int
    branch_name: str
    payload: dict[str, Any]
    created_at: datetime


class ExpiringOut(BaseModel):
    recording_id: str
    branch_id: int
    branch_name: str
    business_type: str
    business_no: str
    retention_code: str
    expires_on: date | None
    legal_hold: bool
