"""High-risk rules (高风险规则): conditions over a recording's QC report and its task that flag the
recording as high-risk and notify the responsible role.

A rule matches when every condition it sets holds (conditions it leaves empty are not looked at):

* ``risk_min``: the risk score reaches it;
* ``verdicts``: the machine's verdict is one of them;
* ``checks_all``: each of these checks raised a finding (a combination: e.g. the customer's answers
  *and* the risk disclosure);
* ``checks_any``: at least one of these checks raised a finding;
* ``min_severity``: some finding is at least this severe (minor < major < critical);
* ``customer_types`` / ``risk_levels`` / ``modes``: the task's customer type (e.g. ``elderly``),
  product risk level (``R1``–``R5``) and interview mode.

Info notes are not findings here (as in the review). Pure rules, standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = [
    "MAX_CONDITION_VALUES",
    "SEVERITY_ORDER",
    "HighRiskAction",
    "HighRiskFlag",
    "HighRiskRule",
    "Notice",
    "RecordingFacts",
    "RuleConditions",
    "facts_from_report",
    "match_reasons",
]

MAX_CONDITION_VALUES = 50
SEVERITY_ORDER = {"minor": 1, "major": 2, "critical": 3}


class HighRiskAction:
    """Audit actions (the audit log's vocabulary beside core.review.ReviewAction)."""

    RULE_CREATED = "review.high_risk_rule_created"
    RULE_UPDATED = "review.high_risk_rule_updated"
    FLAGGED = "review.high_risk_flagged"  # target: the recording
    CLEARED = "review.high_risk_cleared"  # a re-evaluation no longer matches any rule


@dataclass(frozen=True)
class RuleConditions:
    risk_min: int | None = None
    verdicts: tuple[str, ...] = ()
    checks_all: tuple[str, ...] = ()
    checks_any: tuple[str, ...] = ()
    min_severity: str | None = None
    customer_types: tuple[str, ...] = ()
    risk_levels: tuple[str, ...] = ()
    modes: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return (
            self.risk_min is None
            and self.min_severity is None
            and not any(
                getattr(self, n)
                for n in ("verdicts", "checks_all", "checks_any", "customer_types", "risk_levels", "modes")
            )
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if value is None or value == ():
                continue
            out[name] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RuleConditions:
        kwargs: dict[str, Any] = {}
        for name in cls.__dataclass_fields__:
            value = data.get(name)
            if value is None:
                continue
            if name == "risk_min":
                kwargs[name] = int(value)
            elif name == "min_severity":
                kwargs[name] = str(value)
            else:
                kwargs[name] = tuple(str(v) for v in value)
        return cls(**kwargs)


@dataclass(frozen=True)
class RecordingFacts:
    """What the rules look at: from the QC report and the recording's task (empty without one)."""

    recording_id: str
    branch_id: int
    verdict: str
    risk_score: int
    raised: Mapping[str, str]  # check id → its worst finding's severity (info notes left out)
    customer_type: str = ""
    risk_level: str = ""
    mode: str = ""


def facts_from_report(
    report: Mapping[str, Any],
    *,
    recording_id: str,
    branch_id: int,
    verdict: str,
    risk_score: int,
    customer_type: str = "",
    risk_level: str = "",
    mode: str = "",
) -> RecordingFacts:
    raised: dict[str, str] = {}
    for check in report.get("checks") or ():
        if not isinstance(check, Mapping):
            continue
        cid = str(check.get("id") or "")
        for f in check.get("findings") or ():
            sev = str(f.get("severity") or "") if isinstance(f, Mapping) else ""
            if sev in SEVERITY_ORDER and SEVERITY_ORDER[sev] > SEVERITY_ORDER.get(raised.get(cid, ""), 0):
                raised[cid] = sev
    return RecordingFacts(
        recording_id=recording_id,
        branch_id=branch_id,
        verdict=verdict,
        risk_score=risk_score,
        raised=raised,
        customer_type=customer_type,
        risk_level=risk_level,
        mode=mode,
    )


def match_reasons(c: RuleConditions, f: RecordingFacts) -> list[str] | None:
    """Why the rule matches (one line per condition, zh-CN / en), or None when it does not. A rule
    without any condition matches nothing."""
    if c.empty:
        return None
    why: list[str] = []
    if c.risk_min is not None:
        if f.risk_score < c.risk_min:
            return None
        why.append(f"风险分 {f.risk_score} ≥ {c.risk_min} / risk score {f.risk_score} ≥ {c.risk_min}")
    if c.verdicts:
        if f.verdict not in c.verdicts:
            return None
        why.append(f"结论 {f.verdict} / verdict {f.verdict}")
    if c.checks_all:
        if not all(cid in f.raised for cid in c.checks_all):
            return None
        why.append(f"同时出现 / all raised: {', '.join(c.checks_all)}")
    if c.checks_any:
        hit = [cid for cid in c.checks_any if cid in f.raised]
        if not hit:
            return None
        why.append(f"出现 / raised: {', '.join(hit)}")
    if c.min_severity is not None:
        worst = max((SEVERITY_ORDER[s] for s in f.raised.values()), default=0)
        if worst < SEVERITY_ORDER.get(c.min_severity, 99):
            return None
        why.append(f"发现严重度 ≥ {c.min_severity} / a finding at least {c.min_severity}")
    for name, value, zh in (
        ("customer_types", f.customer_type, "客户类型"),
        ("risk_levels", f.risk_level, "产品风险等级"),
        ("modes", f.mode, "双录方式"),
    ):
        allowed = getattr(c, name)
        if allowed:
            if value not in allowed:
                return None
            why.append(f"{zh} {value} / {name[:-1].replace('_', ' ')} {value}")
    return why


@dataclass(frozen=True)
class HighRiskRule:
    id: int
    name: str
    enabled: bool
    branch_id: int  # the rule looks at recordings of this branch's subtree
    branch_path: str
    conditions: RuleConditions
    notify_roles: tuple[str, ...]  # roles told in the console (and by e-mail when configured)
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime


@dataclass(frozen=True)
class HighRiskFlag:
    """A recording flagged high-risk: the rules that matched and why (``rules`` empty: cleared)."""

    recording_id: str
    branch_id: int
    rules: tuple[dict[str, Any], ...]  # {id, name, reasons}
    flagged_at: datetime
    evaluated_at: datetime

    @property
    def high_risk(self) -> bool:
        return bool(self.rules)


@dataclass(frozen=True)
class Notice:
    """An in-app notice (站内通知) to a role, within a branch's subtree."""

    id: int
    kind: str  # "high_risk"
    role: str
    branch_id: int
    branch_path: str
    recording_id: str | None
    title: str
    body: Mapping[str, Any]
    created_at: datetime
    read_at: datetime | None = None
