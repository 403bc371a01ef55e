"""Accuracy statistics of automatic QC from reviewers' decisions (pure, standard library only).

Definitions (docs/review.md):

* **raised**: machine findings of reviewed recordings (info notes excluded); each one is confirmed
  or overruled before a decision is accepted, so raised = confirmed + overruled;
* **precision** of a check = confirmed ÷ raised (None when it raised nothing);
* **missed**: findings reviewers added because the machine did not raise them;
* **first-time pass rate** = reviewed first attempts (a task's attempt 1, or an upload without a
  task) whose outcome is pass ÷ reviewed first attempts with an outcome;
* **re-record rate** = reviewed recordings sent back for a new attempt ÷ reviewed recordings with an
  outcome (a FAIL waiting for its final decision has none yet);
* **review time**: from the moment the reviewer opened the recording to their decision (mean and
  median seconds).

Rows are grouped by check, by branch or by period (day / ISO week / month, in the bank's local time
given as an offset from UTC), and a total row sums everything.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

__all__ = [
    "GROUPS",
    "PERIODS",
    "MeasuredDecision",
    "ReviewFact",
    "StatsRow",
    "ThresholdAdvice",
    "compute_stats",
    "period_key",
    "threshold_advice",
]

GROUPS = ("check", "branch", "period")
PERIODS = ("day", "week", "month")


@dataclass(frozen=True)
class ReviewFact:
    """What one reviewed recording contributes."""

    item_id: int
    branch_id: int
    decided_at: datetime
    outcome: str | None  # pass / fail / rerecord; None while a FAIL waits for its final decision
    first_attempt: bool
    review_seconds: float | None
    raised: tuple[tuple[str, str], ...]  # (check id, "confirm" | "overrule") per machine finding
    added: tuple[str, ...]  # check ids of findings reviewers added


@dataclass(frozen=True)
class StatsRow:
    key: str  # check id, branch id or period ("2026-12-05", "2026-W49", "2026-12"); "total"
    reviewed: int
    raised: int
    confirmed: int
    overruled: int
    missed: int
    first_attempts: int
    first_time_passed: int
    decided: int  # reviewed recordings with an outcome
    rerecords: int
    review_seconds_mean: float | None
    review_seconds_median: float | None

    @property
    def precision(self) -> float | None:
        return self.confirmed / self.raised if self.raised else None

    @property
    def first_time_pass_rate(self) -> float | None:
        return self.first_time_passed / self.first_attempts if self.first_attempts else None

    @property
    def rerecord_rate(self) -> float | None:
        return self.rerecords / self.decided if self.decided else None


def period_key(at: datetime, period: str, utc_offset_hours: float) -> str:
    local = at.astimezone(timezone(timedelta(hours=utc_offset_hours)))
    if period == "day":
        return local.strftime("%Y-%m-%d")
    if period == "week":
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "month":
        return local.strftime("%Y-%m")
    raise ValueError(f"unknown period {period!r}")


class _Acc:
    def __init__(self) -> None:
        self.items: set[int] = set()
        self.seconds: list[float] = []
        self.raised = self.confirmed = self.overruled = self.missed = 0
        self.first_attempts = self.first_time_passed = self.decided = self.rerecords = 0

    def add_item(self, f: ReviewFact) -> None:
        if f.item_id in self.items:
            return
        self.items.add(f.item_id)
        if f.review_seconds is not None:
            self.seconds.append(f.review_seconds)
        if f.outcome is None:
            return
        self.decided += 1
        self.rerecords += f.outcome == "rerecord"
        if f.first_attempt:
            self.first_attempts += 1
            self.first_time_passed += f.outcome == "pass"

    def add_finding(self, action: str) -> None:
        self.raised += 1
        self.confirmed += action == "confirm"
        self.overruled += action == "overrule"

    def row(self, key: str) -> StatsRow:
        return StatsRow(
            key=key,
            reviewed=len(self.items),
            raised=self.raised,
            confirmed=self.confirmed,
            overruled=self.overruled,
            missed=self.missed,
            first_attempts=self.first_attempts,
            first_time_passed=self.first_time_passed,
            decided=self.decided,
            rerecords=self.rerecords,
            review_seconds_mean=statistics.fmean(self.seconds) if self.seconds else None,
            review_seconds_median=statistics.median(self.seconds) if self.seconds else None,
        )


def compute_stats(
    facts: Iterable[ReviewFact], *, group_by: str, period: str = "day", utc_offset_hours: float = 8.0
) -> tuple[list[StatsRow], StatsRow]:
    """Rows per group (sorted by key) and the total. Grouped by check, a row counts the reviewed
    recordings in which that check raised or missed something."""
    if group_by not in GROUPS:
        raise ValueError(f"unknown grouping {group_by!r}")
    groups: dict[str, _Acc] = defaultdict(_Acc)
    total = _Acc()
    key_of: Callable[[ReviewFact], str] = (
        (lambda f: str(f.branch_id))
        if group_by == "branch"
        else (lambda f: period_key(f.decided_at, period, utc_offset_hours))
    )
    for f in facts:
        total.add_item(f)
        for _, action in f.raised:
            total.add_finding(action)
        total.missed += len(f.added)
        if group_by == "check":
            for check_id, action in f.raised:
                groups[check_id].add_item(f)
                groups[check_id].add_finding(action)
            for check_id in f.added:
                groups[check_id].add_item(f)
                groups[check_id].missed += 1
        else:
            acc = groups[key_of(f)]
            acc.add_item(f)
            for _, action in f.raised:
                acc.add_finding(action)
            acc.missed += len(f.added)
    return [groups[k].row(k) for k in sorted(groups)], total.row("total")


# ---- threshold tuning ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeasuredDecision:
    """A reviewed machine finding of a numeric check: its measured value, the threshold that raised
    it and the reviewer's word (confirmed: the finding was right)."""

    check_id: str
    name: str  # the threshold's name
    value: float
    threshold: float
    raised_when: str  # "above": raised when value ≥ threshold; "below": when value < threshold
    confirmed: bool


@dataclass(frozen=True)
class ThresholdAdvice:
    """What the reviewers' decisions say about one threshold.

    Only findings the machine raised are reviewed, so the decisions can only say where a stricter
    threshold (raising fewer findings) would have been right: ``best`` is the threshold among the
    current one and the measured values that keeps the most confirmed findings while dropping the
    most overruled ones (the most decisions agreeing with it); a tie goes to the one nearest the
    current threshold. ``bins`` is the distribution of the measured values (lo, hi, confirmed,
    overruled)."""

    check_id: str
    name: str
    raised_when: str
    current: float
    confirmed: int
    overruled: int
    best: float
    kept_confirmed: int  # at ``best``: confirmed findings still raised
    dropped_overruled: int  # at ``best``: overruled findings no longer raised
    agree_now: int  # decisions the current threshold agrees with (= confirmed)
    agree_best: int  # kept_confirmed + dropped_overruled
    bins: tuple[tuple[float, float, int, int], ...]


def _raised(value: float, t: float, raised_when: str) -> bool:
    return value >= t if raised_when == "above" else value < t


def _bins(points: list[MeasuredDecision], count: int = 10) -> tuple[tuple[float, float, int, int], ...]:
    lo, hi = min(p.value for p in points), max(p.value for p in points)
    if hi == lo:
        return ((lo, hi, sum(p.confirmed for p in points), sum(not p.confirmed for p in points)),)
    width = (hi - lo) / count
    out = []
    for i in range(count):
        a, b = lo + i * width, lo + (i + 1) * width
        inside = [p for p in points if a <= p.value < b or (i == count - 1 and p.value == hi)]
        out.append(
            (round(a, 4), round(b, 4), sum(p.confirmed for p in inside), sum(not p.confirmed for p in inside))
        )
    return tuple(out)


def _agree(points: list[MeasuredDecision], t: float, when: str) -> tuple[int, int]:
    """(confirmed findings still raised, overruled findings no longer raised) at threshold ``t``."""
    kept = sum(1 for p in points if p.confirmed and _raised(p.value, t, when))
    dropped = sum(1 for p in points if not p.confirmed and not _raised(p.value, t, when))
    return kept, dropped


def threshold_advice(decisions: Iterable[MeasuredDecision]) -> list[ThresholdAdvice]:
    """One advice per (check, threshold) that has reviewed findings, sorted by check and name."""
    groups: dict[tuple[str, str, str], list[MeasuredDecision]] = defaultdict(list)
    for d in decisions:
        if d.raised_when in ("above", "below"):
            groups[(d.check_id, d.name, d.raised_when)].append(d)
    out: list[ThresholdAdvice] = []
    for (check_id, name, when), points in sorted(groups.items()):
        current = statistics.mode(p.threshold for p in points)
        candidates = sorted({current, *(p.value for p in points)})

        best = max(candidates, key=lambda t: (sum(_agree(points, t, when)), -abs(t - current)))
        kept, dropped = _agree(points, best, when)
        confirmed = sum(p.confirmed for p in points)
        out.append(
            ThresholdAdvice(
                check_id=check_id,
                name=name,
                raised_when=when,
                current=current,
                confirmed=confirmed,
                overruled=len(points) - confirmed,
                best=best,
                kept_confirmed=kept,
                dropped_overruled=dropped,
                agree_now=sum(_agree(points, current, when)),
                agree_best=kept + dropped,
                bins=_bins(points),
            )
        )
    return out
