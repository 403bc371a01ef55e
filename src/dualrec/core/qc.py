"""QC domain: findings, severities, check statuses and the overall verdict (pure, stdlib only).

A check produces a :class:`CheckResult` holding zero or more :class:`Finding`. The verdict of a
recording is computed from all results by :func:`decide_verdict`:

- FAIL   when any finding is critical, or the risk score reaches ``fail_score``;
- REVIEW when any finding is major/minor, any check errored, a check the recording requires could
  not run (whatever its severity; the caller says which, e.g. ``checks.required``), or a
  critical-severity check could not run that the caller did not waive (e.g. script coverage of a
  flow without required statements) — a check that did not run never counts as passed;
- PASS   otherwise.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from dualrec.i18n import render, split_legacy

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
class Measure:
    """What a numeric check measured for a finding, against the threshold that raised it:
    ``raised_when`` "above" (the value reached the threshold, e.g. a black stretch's seconds) or
    "below" (it fell short, e.g. a statement's coverage). The threshold-tuning statistics read it."""

    name: str  # the threshold's name in the check's catalog entry
    value: float
    threshold: float
    raised_when: str  # "above" | "below"


@dataclass(frozen=True)
class Finding:
    check_id: str
    severity: Severity
    message: str  # zh-CN first, then English: "检测到黑屏 / black picture"
    start: float | None = None
    end: float | None = None
    node_id: str | None = None
    evidence: Evidence = field(default_factory=Evidence)
    # 0..1 from an engine's own score (ASR word probabilities, OCR line scores, a face distance, a
    # language probability); None where no engine measures how sure the finding is
    confidence: float | None = None
    measure: Measure | None = None  # numeric checks: the measured value vs the threshold
    # the message as a catalogue key + parameters (dualrec.i18n), so that a report renders it in one
    # language; None for a finding that has only its stored text
    key: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)

    def localized(self, language: str) -> str:
        """The finding's text in one language (``zh-CN`` or ``en``)."""
        if self.key is not None:
            return render(self.key, self.params, language)
        return split_legacy(self.message, language)


@dataclass(frozen=True)
class CheckResult:
    check_id: str
    status: CheckStatus
    findings: tuple[Finding, ...] = ()
    reason: str | None = None  # why not_run / error; a short summary otherwise
    metrics: Mapping[str, object] = field(default_factory=dict)
    confidence: float | None = None  # as Finding.confidence: measured, or None

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
    """Sum of finding weights (each check contributes at most one critical weight), capped at 100.

    Checks that errored add one minor weight in all, however many: one broken engine stops every
    check that needs it, and an engine error is not a risk found in the recording (it makes the
    verdict REVIEW, never FAIL)."""
    total = 0
    errored = False
    for result in results:
        weights = sorted((SEVERITY_WEIGHTS[f.severity] for f in result.findings), reverse=True)
        # the worst finding counts fully, the others a quarter: many small findings add up slowly
        total += sum(w if i == 0 else w // 4 for i, w in enumerate(weights))
        errored = errored or result.status is CheckStatus.ERROR
    return min(total + (SEVERITY_WEIGHTS[Severity.MINOR] if errored else 0), 100)


def decide_verdict(
    results: Iterable[CheckResult],
    *,
    check_severity: Mapping[str, Severity] | None = None,
    required: Mapping[str, str] | None = None,
    waived: Collection[str] = (),
    fail_score: int = 60,
) -> VerdictSummary:
    """Combine results into PASS / REVIEW / FAIL, a risk score and the reasons (zh-CN / en).

    ``required``: check id → why the recording needs it (e.g. the flow node that asks for it); such a
    check that did not run makes the verdict REVIEW whatever its severity, and the reason says why
    it was needed and why it did not run. ``waived``: checks the recording does not need; their
    ``not_run`` does not count even when they are critical.
    """
    results = list(results)
    severities = check_severity or {}
    needed = required or {}
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
        elif r.status is CheckStatus.NOT_RUN and r.check_id in needed:
            review.append(
                f"{r.check_id}: 必需的检查未执行 / required check not run ({needed[r.check_id]}): {r.reason}"
            )
        elif (
            r.status is CheckStatus.NOT_RUN
            and severities.get(r.check_id) is Severity.CRITICAL
            and r.check_id not in waived
        ):
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
