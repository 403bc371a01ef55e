"""Scores QC reports against the cases' truth: per check (precision, recall) and per verdict."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

PRECISION_GOAL = 0.95
RECALL_GOAL = 0.98


@dataclass
class CheckScore:
    tp: int = 0  # defect present, raised
    fp: int = 0  # clean, raised
    fn: int = 0  # defect present, not raised (passed, not run, errored or missing)
    tn: int = 0  # clean, passed
    undecided: int = 0  # clean, but the check did not pass (not run / error): not a false alarm
    misses: list[str] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float | None:
        raised = self.tp + self.fp
        return self.tp / raised if raised else None

    @property
    def recall(self) -> float | None:
        present = self.tp + self.fn
        return self.tp / present if present else None


@dataclass(frozen=True)
class CaseOutcome:
    name: str
    verdict: str
    verdict_ok: bool
    statuses: Mapping[str, str]  # check id -> status in the report ("missing" when absent)
    wrong: tuple[str, ...]  # "check: expected raised, got passed"
    seconds: float


def statuses(report: Mapping[str, Any]) -> dict[str, str]:
    return {str(c["id"]): str(c["status"]) for c in report.get("checks", ())}


def judge(
    name: str, truth: Mapping[str, bool], verdicts: frozenset[str], report: Mapping[str, Any], seconds: float
) -> CaseOutcome:
    seen = statuses(report)
    wrong = []
    for check, defect in truth.items():
        got = seen.get(check, "missing")
        if defect and got != "failed":
            wrong.append(f"{check}: should raise the defect, got {got}")
        if not defect and got == "failed":
            wrong.append(f"{check}: false alarm")
    verdict = str(report.get("verdict", "?"))
    return CaseOutcome(name, verdict, verdict in verdicts, seen, tuple(wrong), seconds)


def per_check(
    cases: Sequence[tuple[str, Mapping[str, bool]]], outcomes: Sequence[CaseOutcome]
) -> dict[str, CheckScore]:
    scores: dict[str, CheckScore] = {}
    for (name, truth), outcome in zip(cases, outcomes, strict=True):
        for check, defect in truth.items():
            s = scores.setdefault(check, CheckScore())
            got = outcome.statuses.get(check, "missing")
            if defect and got == "failed":
                s.tp += 1
            elif defect:
                s.fn += 1
                s.misses.append(f"{name} ({got})")
            elif got == "failed":
                s.fp += 1
                s.false_alarms.append(name)
            elif got == "passed":
                s.tn += 1
            else:
                s.undecided += 1
    return dict(sorted(scores.items()))


def meets_goals(score: CheckScore) -> bool:
    p, r = score.precision, score.recall
    return (p is None or p >= PRECISION_GOAL) and (r is None or r >= RECALL_GOAL)
