"""QC domain: findings, severities, check statuses and the overall verdict (pure, stdlib only).

A check produces a :class:`CheckResult` holding zero or more :class:`Finding`. The verdict of a
recording is computed from all results by :func:`decide_verdict`:

- FAIL   when any finding is critical, or the risk score reaches ``fail_score``;
- REVIEW when any finding is major/minor, any check errored, or a critical-severity check could not
  run (a check that did not run never counts as passed);
- PASS   otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "SEVERITY_WEIGHTS",
    "CheckResult",
    "CheckStatus",
    "Evidence",
    "Finding",
    "QcTask",
    "Severity",
    "Verdict",
    "VerdictSummary",
    "decide_verdict",
    "risk_score",
]


class Severity(StrEnum):
    INFO = "info"
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"


class CheckStatus(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_RUN = "not_run"  # inputs missing: says why, never counts as passed
    ERROR = "error"  # the check itself crashed: says why


class Verdict(StrEnum):
    PASS = "PASS"
    REVIEW = "REVIEW"
    FAIL = "FAIL"


# Contribution of one finding to the 0..100 risk score.
SEVERITY_WEIGHTS: Mapping[Severity, int] = {
    Severity.INFO: 0,
    Severity.MINOR: 5,
    Severity.MAJOR: 20,
    Severity.CRITICAL: 50,
}


@dataclass(frozen=True)
class Evidence:
    """Proof a reviewer can confirm in seconds: a frame and/or a transcript quote with times."""

    frame_time: float | None = None
    frame_ref: str | None = None  # set by the pipeline's evidence sink (e.g. a JPEG file name)
    quote: str | None = None
    quote_start: float | None = None
    quote_end: float | None = None


@dataclass(frozen=True)
class Finding:
    check_id: str
    severity: Severity
    message: str  # zh-CN first, then English: "检测到黑屏 / black picture"
    start: float | None = None
    end: float | None = None
    node_id: str | None = None
    evidence: Evidence = field(default_factory=Evidence)
    confidence: float = 1.0


@dataclass(frozen=True)
class CheckResult:
    check_id: str
    status: CheckStatus
    findings: tuple[Finding, ...] = ()
    reason: str | None = None  # why not_run / error; a short summary otherwise
    metrics: Mapping[str, object] = field(default_factory=dict)
    confidence: float = 1.0

    @property
    def passed(self) -> bool:
        return self.status is CheckStatus.PASSED


@dataclass(frozen=True)
class QcTask:
    """What QC needs to know about the business task the recording belongs to."""

    running_no: str = ""
    customer_name: str | None = None
    id_number: str | None = None
    mode: str | None = None  # "self_service" | "human" | "counter" (柜面); overrides the flow's mode


@dataclass(frozen=True)
class VerdictSummary:
    verdict: Verdict
    risk_score: int  # 0 (no risk) .. 100
    reasons: tuple[str, ...]


def risk_score(results: Iterable[CheckResult]) -> int:
    """Sum of finding weights (each check contributes at most one critical weight), capped at 100."""
    total = 0
    for result in results:
        weights = sorted((SEVERITY_WEIGHTS[f.severity] for f in result.findings), reverse=True)
        # the worst finding counts fully, the others a quarter: many small findings add up slowly
        total += sum(w if i == 0 else w // 4 for i, w in enumerate(weights))
        if result.status is CheckStatus.ERROR:
            total += SEVERITY_WEIGHTS[Severity.MINOR]
    return min(total, 100)


def decide_verdict(
    results: Iterable[CheckResult],
    *,
    check_severity: Mapping[str, Severity] | None = None,
    fail_score: int = 60,
) -> VerdictSummary:
    """Combine results into PASS / REVIEW / FAIL, a risk score and the reasons (zh-CN / en)."""
    results = list(results)
    severities = check_severity or {}
    score = risk_score(results)
    fail: list[str] = []
    review: list[str] = []
    for r in results:
        for f in r.findings:
            if f.severity is Severity.CRITICAL:
                fail.append(f"{r.check_id}: {f.message}")
            elif f.severity in (Severity.MAJOR, Severity.MINOR):
                review.append(f"{r.check_id}: {f.message}")
        if r.status is CheckStatus.ERROR:
            review.append(f"{r.check_id}: 检查出错 / check error: {r.reason}")
        elif r.status is CheckStatus.NOT_RUN and severities.get(r.check_id) is Severity.CRITICAL:
            review.append(f"{r.check_id}: 未执行 / not run: {r.reason}")
        elif r.status is CheckStatus.FAILED and not r.findings:
            review.append(f"{r.check_id}: 未通过 / failed")
    if score >= fail_score and not fail:
        fail.append(f"风险分 {score} ≥ {fail_score} / risk score {score} ≥ {fail_score}")
    if fail:
        return VerdictSummary(Verdict.FAIL, score, tuple(fail + review))
    if review:
        return VerdictSummary(Verdict.REVIEW, score, tuple(review))
    return VerdictSummary(Verdict.PASS, score, ())
