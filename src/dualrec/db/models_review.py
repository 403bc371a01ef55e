"""Tables of QC operations (issue 18, migration 0011): sampling rules and runs, review items with
their per-finding decisions, and appeals. See core/review.py and docs/review.md."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Double, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dualrec.db.base import Base, UTCDateTime
from dualrec.db.models import BigId

__all__ = [
    "HighRiskFlagRow",
    "HighRiskRuleRow",
    "NoticeReadRow",
    "NoticeRow",
    "ReviewAppealRow",
    "ReviewFindingDecisionRow",
    "ReviewItemRow",
    "ReviewRuleRow",
    "ReviewSampleRow",
]


class ReviewRuleRow(Base):
    """A periodic sampling rule (抽检规则) over ``branch_id``'s subtree."""

    __tablename__ = "review_rules"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id", ondelete="RESTRICT"), index=True)
    filters: Mapped[dict[str, Any]] = mapped_column(JSON)  # core.review.SampleFilters.to_json
    plan: Mapped[dict[str, Any]] = mapped_column(JSON)  # core.review.SamplingPlan.to_json
    assignees: Mapped[list[Any]] = mapped_column(JSON)  # user ids, round-robin; empty: the pool
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReviewSampleRow(Base):
    """One sampling run (manual or by a rule): the filters, the plan, the seed and what it picked.
    ``run_key`` (``rule:<id>:<day>``) makes a rule's scheduled run happen once a day however many
    processes look."""

    __tablename__ = "review_samples"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # manual | rule
    rule_id: Mapped[int | None] = mapped_column(
        ForeignKey("review_rules.id", ondelete="RESTRICT"), index=True
    )
    run_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    trigger: Mapped[str] = mapped_column(String(16), default="")  # schedule | run_now | ""
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id", ondelete="RESTRICT"), index=True)
    filters: Mapped[dict[str, Any]] = mapped_column(JSON)
    plan: Mapped[dict[str, Any]] = mapped_column(JSON)
    seed: Mapped[str] = mapped_column(String(64))
    candidates: Mapped[int] = mapped_column(Integer)
    candidates_sha256: Mapped[str] = mapped_column(String(64))  # of the sorted candidate ids
    selected: Mapped[list[Any]] = mapped_column(JSON)  # recording ids in draw order
    added: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class ReviewItemRow(Base):
    """A recording under human review (one per recording): its machine findings as sampled, the
    reviewer's decision, the optional final decision (终审) and the outcome."""

    __tablename__ = "review_items"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    recording_id: Mapped[str] = mapped_column(ForeignKey("recordings.id", ondelete="RESTRICT"), unique=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id", ondelete="RESTRICT"), index=True)
    sample_id: Mapped[int | None] = mapped_column(
        ForeignKey("review_samples.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), index=True)
    findings: Mapped[list[Any]] = mapped_column(JSON)  # core.review.raised_findings
    verdict: Mapped[str] = mapped_column(String(16))  # the machine's verdict when sampled
    risk_score: Mapped[int] = mapped_column(Integer)
    recording_created_by: Mapped[str] = mapped_column(String(100))
    task_id: Mapped[str | None] = mapped_column(String(36), index=True)
    attempt_no: Mapped[int | None] = mapped_column(Integer)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision: Mapped[str | None] = mapped_column(String(16))
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(BigId)
    decided_by: Mapped[str] = mapped_column(String(100), default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    final_decision: Mapped[str | None] = mapped_column(String(16))
    final_reason: Mapped[str] = mapped_column(Text, default="")
    final_by_id: Mapped[int | None] = mapped_column(BigId)
    final_by: Mapped[str] = mapped_column(String(100), default="")
    final_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str | None] = mapped_column(String(16), index=True)
    rerecord_attempt: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReviewFindingDecisionRow(Base):
    """Confirm / overrule of one machine finding (one row per finding, changed until the decision),
    or a finding the reviewer added (``finding_key`` NULL, with its time range)."""

    __tablename__ = "review_finding_decisions"
    __table_args__ = (
        UniqueConstraint("item_id", "finding_key", name="uq_review_finding_decisions_item_id_finding_key"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("review_items.id", ondelete="CASCADE"), index=True)
    finding_key: Mapped[str | None] = mapped_column(String(80))
    check_id: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(16))  # confirm | overrule | added
    reason: Mapped[str] = mapped_column(Text, default="")
    start: Mapped[float | None] = mapped_column(Double)
    end: Mapped[float | None] = mapped_column(Double)
    by_id: Mapped[int | None] = mapped_column(BigId)
    by: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReviewAppealRow(Base):
    """The branch's appeal (申诉) of a FAIL, its attachments (blobs) and the final reviewer's decision."""

    __tablename__ = "review_appeals"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("review_items.id", ondelete="RESTRICT"), index=True)
    recording_id: Mapped[str] = mapped_column(String(36), index=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id", ondelete="RESTRICT"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # open | rejected | accepted
    reason: Mapped[str] = mapped_column(Text)
    attachments: Mapped[list[Any]] = mapped_column(JSON)  # {name, content_type, size, sha256, blob_key}
    created_by_id: Mapped[int | None] = mapped_column(BigId)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    decision: Mapped[str | None] = mapped_column(String(16))
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(BigId)
    decided_by: Mapped[str] = mapped_column(String(100), default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


# ---- high-risk rules and in-app notices (migration 0012) -----------------------------------------


class HighRiskRuleRow(Base):
    """A high-risk rule (高风险规则) over the QC reports of ``branch_id``'s subtree."""

    __tablename__ = "review_high_risk_rules"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id", ondelete="RESTRICT"), index=True)
    conditions: Mapped[dict[str, Any]] = mapped_column(JSON)  # core.high_risk.RuleConditions.to_json
    notify_roles: Mapped[list[Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class HighRiskFlagRow(Base):
    """The last evaluation of the high-risk rules on a recording (``high_risk``: some rule matched)."""

    __tablename__ = "review_high_risk_flags"
    recording_id: Mapped[str] = mapped_column(
        ForeignKey("recordings.id", ondelete="CASCADE"), primary_key=True
    )
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id", ondelete="RESTRICT"), index=True)
    high_risk: Mapped[bool] = mapped_column(Boolean, index=True)
    rules: Mapped[list[Any]] = mapped_column(JSON)  # [{id, name, reasons}]
    flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    evaluated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class NoticeRow(Base):
    """An in-app notice (站内通知) to the holders of ``role`` whose branch covers ``branch_id``."""

    __tablename__ = "notices"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(64), index=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id", ondelete="RESTRICT"), index=True)
    recording_id: Mapped[str | None] = mapped_column(String(36), index=True)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class NoticeReadRow(Base):
    """A user has read a notice."""

    __tablename__ = "notice_reads"
    __table_args__ = (UniqueConstraint("notice_id", "user_id", name="uq_notice_reads_notice_id_user_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime())
