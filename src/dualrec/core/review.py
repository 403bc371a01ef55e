"""QC operations (质检运营): sampling, human review of QC findings, appeals and accuracy statistics.

Pure rules, standard library only:

* **Sampling** picks recordings reproducibly: each candidate is ranked by
  ``HMAC-SHA256(seed, recording_id)`` inside its group (verdict, and branch when sampling per
  branch) and the lowest ranks are taken. The same seed and the same candidates always give the
  same sample, whatever order the database returned them in, and anyone holding the seed can
  check it.
* **Review**: every machine finding of a reviewed recording is confirmed or overruled (with a
  reason); reviewers add what the machine missed (time range + check + note) and decide
  pass / fail / re-record. A FAIL may need a second reviewer's final decision (终审, four eyes).
* **Appeals** (申诉): the branch contests a FAIL once; a final reviewer who did not make the
  decision decides.
* **Statistics** from the decisions: precision per check (confirmed ÷ raised), missed findings,
  first-time pass rate, re-record rate, review time.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "MODES",
    "VERDICTS",
    "Appeal",
    "AppealStatus",
    "Candidate",
    "FindingAction",
    "FindingDecision",
    "Outcome",
    "ReviewAction",
    "ReviewItem",
    "ReviewStatus",
    "Sample",
    "SampleFilters",
    "SamplingPlan",
    "SamplingRule",
    "candidates_digest",
    "finding_key",
    "raised_findings",
    "rank",
    "select_sample",
]

VERDICTS = ("PASS", "REVIEW", "FAIL")
MODES = ("self_service", "human", "counter")
MAX_LIST = 50  # values per list filter


class ReviewAction:
    """Audit actions of QC operations (the audit log's vocabulary, beside core.audit.AuditAction).
    Events about one recording's review name the recording as their target."""

    RULE_CREATED = "review.rule_created"
    RULE_UPDATED = "review.rule_updated"
    SAMPLED = "review.sampled"  # a sampling run (target: the sample)
    ASSIGNED = "review.assigned"
    CLAIMED = "review.claimed"
    FINDING_DECIDED = "review.finding_decided"  # confirm / overrule
    FINDING_ADDED = "review.finding_added"
    FINDING_REMOVED = "review.finding_removed"
    DECIDED = "review.decided"
    FINAL_DECIDED = "review.final_decided"
    REFUSED = "review.refused"  # a separation-of-duty rule stopped a decision
    APPEALED = "review.appealed"
    APPEAL_DECIDED = "review.appeal_decided"
    APPEAL_ATTACHMENT_READ = "review.appeal_attachment_read"


class ReviewStatus(StrEnum):
    PENDING = "pending"  # sampled, waiting for a reviewer (assigned or in the team's pool)
    IN_REVIEW = "in_review"  # a reviewer opened it (the review clock runs)
    AWAITING_FINAL = "awaiting_final"  # decided FAIL, waiting for the final decision (终审)
    DONE = "done"  # decided; ``outcome`` holds the result
    APPEALED = "appealed"  # the branch appealed the FAIL; a final reviewer decides


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    RERECORD = "rerecord"  # 补录: a new attempt of the task


class FindingAction(StrEnum):
    CONFIRM = "confirm"
    OVERRULE = "overrule"
    ADDED = "added"  # a finding the machine missed, added by the reviewer


class AppealStatus(StrEnum):
    OPEN = "open"
    REJECTED = "rejected"  # the FAIL stands
    ACCEPTED = "accepted"  # the outcome changed (pass or re-record)


@dataclass(frozen=True)
class SampleFilters:
    """Which recordings may be sampled (every field optional; lists match any of their values).

    ``recorded_from``/``recorded_to`` bound the recording time (half-open), ``finished_from`` /
    ``finished_to`` the time QC finished (what a daily rule uses: nothing is missed when QC ends
    after midnight). ``branch_id`` means that branch and everything below it. ``agents`` match the
    user or system that made the recording or created its task."""

    recorded_from: datetime | None = None
    recorded_to: datetime | None = None
    finished_from: datetime | None = None
    finished_to: datetime | None = None
    branch_id: int | None = None
    business_types: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    customer_types: tuple[str, ...] = ()
    modes: tuple[str, ...] = ()
    verdicts: tuple[str, ...] = ()
    risk_min: int | None = None
    risk_max: int | None = None
    agents: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if value is None or value == ():
                continue
            out[name] = (
                value.isoformat()
                if isinstance(value, datetime)
                else (list(value) if isinstance(value, tuple) else value)
            )
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SampleFilters:
        kwargs: dict[str, Any] = {}
        for name in cls.__dataclass_fields__:
            if name not in data or data[name] is None:
                continue
            value = data[name]
            if name.endswith(("_from", "_to")):
                kwargs[name] = datetime.fromisoformat(str(value))
            elif name in ("branch_id", "risk_min", "risk_max"):
                kwargs[name] = int(value)
            else:
                kwargs[name] = tuple(str(v) for v in value)
        return cls(**kwargs)

    def matches(self, c: Candidate) -> bool:
        """The filters that are not applied in SQL (the task's fields; recordings without a task
        have only the business type their upload declared)."""
        return (
            (not self.business_types or c.business_type in self.business_types)
            and (not self.products or c.product in self.products)
            and (not self.customer_types or c.customer_type in self.customer_types)
            and (not self.modes or c.mode in self.modes)
            and (not self.agents or bool(set(self.agents) & set(c.agents)))
        )


@dataclass(frozen=True)
class SamplingPlan:
    """How many of the candidates: a percentage per verdict (0–100; a verdict not named is not
    sampled unless ``default_rate`` says so), per branch or over all branches, and every recording
    whose risk score reaches ``high_risk_min`` and, with ``high_risk_flagged``, every recording a
    high-risk rule flagged (all high-risk ones). A group with a rate above 0
    gives at least one recording (ceil). ``limit`` caps the whole sample (the lowest ranks stay)."""

    rates: Mapping[str, float] = field(default_factory=dict)
    default_rate: float = 0.0
    per_branch: bool = True
    high_risk_min: int | None = None
    limit: int | None = None
    high_risk_flagged: bool = False  # every recording a high-risk rule flagged

    def rate(self, verdict: str) -> float:
        return float(self.rates.get(verdict, self.default_rate))

    def to_json(self) -> dict[str, Any]:
        return {
            "rates": dict(self.rates),
            "default_rate": self.default_rate,
            "per_branch": self.per_branch,
            "high_risk_min": self.high_risk_min,
            "limit": self.limit,
            "high_risk_flagged": self.high_risk_flagged,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SamplingPlan:
        return cls(
            rates={str(k): float(v) for k, v in dict(data.get("rates") or {}).items()},
            default_rate=float(data.get("default_rate") or 0.0),
            per_branch=bool(data.get("per_branch", True)),
            high_risk_min=None if data.get("high_risk_min") is None else int(data["high_risk_min"]),
            limit=None if data.get("limit") is None else int(data["limit"]),
            high_risk_flagged=bool(data.get("high_risk_flagged", False)),
        )


@dataclass(frozen=True)
class Candidate:
    """A recording that may be sampled, with what the filters and the plan look at."""

    recording_id: str
    branch_id: int
    verdict: str
    risk_score: int
    business_type: str = ""
    product: str = ""
    customer_type: str = ""
    mode: str = ""
    agents: tuple[str, ...] = ()
    high_risk: bool = False  # flagged by a high-risk rule (core.high_risk)


def rank(seed: str, recording_id: str) -> str:
    """A candidate's place in the draw: HMAC-SHA256 keyed with the seed (hex, compared as text)."""
    return hmac.new(seed.encode(), recording_id.encode(), hashlib.sha256).hexdigest()


def select_sample(candidates: Iterable[Candidate], plan: SamplingPlan, seed: str) -> list[str]:
    """The recording ids the plan takes from ``candidates`` with ``seed``, in draw order (high-risk
    first, then by rank). Deterministic: independent of the candidates' order."""
    pool = {c.recording_id: c for c in candidates}  # one entry per recording
    chosen: set[str] = set()

    def high(c: Candidate) -> bool:
        return (plan.high_risk_min is not None and c.risk_score >= plan.high_risk_min) or (
            plan.high_risk_flagged and c.high_risk
        )

    chosen |= {rid for rid, c in pool.items() if high(c)}
    groups: dict[tuple[str, int | None], list[str]] = defaultdict(list)
    for rid, c in pool.items():
        groups[(c.verdict, c.branch_id if plan.per_branch else None)].append(rid)
    for (verdict, _), ids in groups.items():
        rate = min(max(plan.rate(verdict), 0.0), 100.0)
        if rate <= 0:
            continue
        want = math.ceil(len(ids) * rate / 100.0 - 1e-9)
        chosen |= set(sorted(ids, key=lambda rid: rank(seed, rid))[:want])
    ordered = sorted(chosen, key=lambda rid: (not high(pool[rid]), rank(seed, rid)))
    return ordered[: plan.limit] if plan.limit is not None else ordered


def candidates_digest(candidates: Iterable[Candidate]) -> str:
    """What a reproduction compares first: the same recordings were candidates."""
    ids = sorted({c.recording_id for c in candidates})
    return hashlib.sha256("\n".join(ids).encode()).hexdigest()


def finding_key(check_id: str, index: int) -> str:
    """A machine finding's name inside one report: its check and its place in that check's list."""
    return f"{check_id}:{index}"


def raised_findings(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The machine findings of a native QC report (``pipeline.report.native_report``) as the review
    keeps them: key, check, severity, message, times, node and evidence. Info findings are notes,
    not claims, and are left out."""
    out: list[dict[str, Any]] = []
    for check in report.get("checks") or ():
        if not isinstance(check, Mapping):
            continue
        check_id = str(check.get("id") or "")
        for i, f in enumerate(check.get("findings") or ()):
            if not isinstance(f, Mapping) or f.get("severity") == "info":
                continue
            evidence = f.get("evidence") if isinstance(f.get("evidence"), Mapping) else {}
            out.append(
                {
                    "key": finding_key(check_id, i),
                    "check_id": check_id,
                    "check_title": str(check.get("title") or check_id),
                    "severity": str(f.get("severity") or ""),
                    "message": str(f.get("message") or ""),
                    "start": f.get("start"),
                    "end": f.get("end"),
                    "node_id": f.get("node_id"),
                    "evidence": dict(evidence or {}),
                    **({"measure": dict(f["measure"])} if isinstance(f.get("measure"), Mapping) else {}),
                }
            )
    return out


# ---- records (what the repositories return) ------------------------------------------------------


@dataclass(frozen=True)
class FindingDecision:
    """A reviewer's word on one machine finding (confirm / overrule) or a finding they added."""

    id: int
    item_id: int
    finding_key: str | None  # None for an added finding
    check_id: str
    action: FindingAction
    reason: str  # overrule: why the machine was wrong; added: the note
    by_id: int | None
    by: str
    at: datetime
    start: float | None = None  # added findings: the time range in the recording
    end: float | None = None


@dataclass(frozen=True)
class ReviewItem:
    """One sampled recording under human review, with its machine findings as they were sampled."""

    id: int
    recording_id: str
    branch_id: int
    branch_path: str
    sample_id: int | None
    status: ReviewStatus
    findings: tuple[dict[str, Any], ...]
    verdict: str
    risk_score: int
    recording_created_by: str
    created_at: datetime
    updated_at: datetime
    task_id: str | None = None
    attempt_no: int | None = None
    assignee_id: int | None = None
    assignee: str = ""
    started_at: datetime | None = None
    decision: Outcome | None = None
    decision_reason: str = ""
    decided_by_id: int | None = None
    decided_by: str = ""
    decided_at: datetime | None = None
    final_decision: Outcome | None = None
    final_reason: str = ""
    final_by_id: int | None = None
    final_by: str = ""
    final_at: datetime | None = None
    outcome: Outcome | None = None
    rerecord_attempt: int | None = None
    decisions: tuple[FindingDecision, ...] = ()
    high_risk: bool = False  # the recording is flagged by a high-risk rule

    def open_findings(self) -> list[str]:
        """Keys of machine findings no reviewer has confirmed or overruled yet."""
        done = {d.finding_key for d in self.decisions if d.finding_key is not None}
        return [f["key"] for f in self.findings if f["key"] not in done]

    @property
    def review_seconds(self) -> float | None:
        """From the first time a reviewer opened it to their decision."""
        if self.started_at is None or self.decided_at is None:
            return None
        return max(0.0, (self.decided_at - self.started_at).total_seconds())


@dataclass(frozen=True)
class Appeal:
    id: int
    item_id: int
    recording_id: str
    branch_id: int
    branch_path: str
    status: AppealStatus
    reason: str
    attachments: tuple[dict[str, Any], ...]  # {name, content_type, size, sha256, blob_key}
    created_by_id: int | None
    created_by: str
    created_at: datetime
    decision: Outcome | None = None  # accepted: pass / rerecord; rejected: fail
    decision_reason: str = ""
    decided_by_id: int | None = None
    decided_by: str = ""
    decided_at: datetime | None = None


@dataclass(frozen=True)
class SamplingRule:
    """A periodic sampling rule (抽检规则): every day, the recordings whose QC finished the day
    before, in ``branch_id``'s subtree, filtered and sampled by the plan, assigned round-robin to
    ``assignees`` (empty: the team's pool)."""

    id: int
    name: str
    enabled: bool
    branch_id: int
    branch_path: str
    filters: SampleFilters
    plan: SamplingPlan
    assignees: tuple[int, ...]
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime


@dataclass(frozen=True)
class Sample:
    """One sampling run: what was asked, the seed, and what it picked (reproducible)."""

    id: int
    kind: str  # "manual" | "rule"
    rule_id: int | None
    branch_id: int
    branch_path: str
    filters: SampleFilters
    plan: SamplingPlan
    seed: str
    candidates: int
    candidates_sha256: str  # SHA-256 of the sorted candidate ids, one per line
    selected: tuple[str, ...]  # recording ids in draw order
    added: int  # items created (the others were already under review)
    created_by: str
    created_at: datetime
    run_key: str | None = None
    trigger: str = ""  # "schedule" | "run_now" | "" (manual sampling)
