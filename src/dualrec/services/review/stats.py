"""Accuracy statistics of automatic QC from reviewers' decisions (definitions: core/review_stats.py),
scoped to the caller's branch subtree, and their CSV export."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from dualrec.core.review import FindingAction, ReviewItem
from dualrec.core.review_stats import (
    GROUPS,
    PERIODS,
    MeasuredDecision,
    ReviewFact,
    StatsRow,
    ThresholdAdvice,
    compute_stats,
    threshold_advice,
)
from dualrec.db.uow import UnitOfWorkFactory
from dualrec.errors import InvalidInputError
from dualrec.i18n import msg
from dualrec.services.common.context import Actor
from dualrec.services.common.csv_cells import safe_cell
from dualrec.services.common.scope import branch_in_scope

__all__ = ["Statistics", "StatsService", "fact_of", "measured_decisions"]


@dataclass(frozen=True)
class Statistics:
    group_by: str
    period: str
    rows: list[StatsRow]
    total: StatsRow
    labels: dict[str, str]  # row key → what to show (a branch's name, a check's title)


def fact_of(item: ReviewItem) -> ReviewFact:
    assert item.decided_at is not None
    return ReviewFact(
        item_id=item.id,
        branch_id=item.branch_id,
        decided_at=item.decided_at,
        outcome=item.outcome.value if item.outcome is not None else None,
        first_attempt=item.attempt_no in (None, 1),
        review_seconds=item.review_seconds,
        raised=tuple(
            (d.check_id, d.action.value)
            for d in item.decisions
            if d.finding_key is not None and d.action in (FindingAction.CONFIRM, FindingAction.OVERRULE)
        ),
        added=tuple(d.check_id for d in item.decisions if d.action is FindingAction.ADDED),
    )


def measured_decisions(item: ReviewItem) -> list[MeasuredDecision]:
    """The item's confirmed / overruled machine findings that carry a measured value."""
    words = {
        d.finding_key: d.action
        for d in item.decisions
        if d.finding_key is not None and d.action in (FindingAction.CONFIRM, FindingAction.OVERRULE)
    }
    out: list[MeasuredDecision] = []
    for f in item.findings:
        m, action = f.get("measure"), words.get(str(f.get("key")))
        if not isinstance(m, dict) or action is None:
            continue
        try:
            out.append(
                MeasuredDecision(
                    check_id=str(f["check_id"]),
                    name=str(m["name"]),
                    value=float(m["value"]),
                    threshold=float(m["threshold"]),
                    raised_when=str(m["raised_when"]),
                    confirmed=action is FindingAction.CONFIRM,
                )
            )
        except (KeyError, TypeError, ValueError):
            continue
    return out


class StatsService:
    def __init__(self, uows: UnitOfWorkFactory, *, utc_offset_hours: float = 8.0) -> None:
        self.uows, self.utc_offset_hours = uows, utc_offset_hours

    def compute(
        self,
        *,
        actor: Actor,
        since: datetime | None,
        until: datetime | None,
        branch_id: int | None,
        group_by: str,
        period: str = "day",
    ) -> Statistics:
        """Statistics of the reviews first decided in ``[since, until)``, in the caller's subtree (or
        ``branch_id``'s inside it)."""
        assert actor.principal is not None
        if group_by not in GROUPS or period not in PERIODS:
            raise InvalidInputError(msg("review.group_period", GROUPS=GROUPS, PERIODS=PERIODS))
        with self.uows.read() as uow:
            path = actor.principal.branch_path
            if branch_id is not None:
                path = branch_in_scope(uow, actor.principal, branch_id).path
            items = list(uow.review.decided_items(scope_path=path, since=since, until=until))
            branches = {b.id: b.name for b in uow.branches.subtree(path)} if group_by == "branch" else {}
        rows, total = compute_stats(
            (fact_of(i) for i in items),
            group_by=group_by,
            period=period,
            utc_offset_hours=self.utc_offset_hours,
        )
        labels: dict[str, str] = {}
        if group_by == "branch":
            labels = {r.key: branches.get(int(r.key), r.key) for r in rows}
        elif group_by == "check":
            titles = {f["check_id"]: f.get("check_title") or f["check_id"] for i in items for f in i.findings}
            labels = {r.key: str(titles.get(r.key, r.key)) for r in rows}
        return Statistics(group_by, period, rows, total, labels)

    def thresholds(
        self, *, actor: Actor, since: datetime | None, until: datetime | None, branch_id: int | None
    ) -> tuple[list[ThresholdAdvice], dict[str, str]]:
        """Threshold-tuning help from the reviews decided in ``[since, until)`` in the caller's subtree
        (docs/review.md), with the checks' titles."""
        assert actor.principal is not None
        with self.uows.read() as uow:
            path = actor.principal.branch_path
            if branch_id is not None:
                path = branch_in_scope(uow, actor.principal, branch_id).path
            items = list(uow.review.decided_items(scope_path=path, since=since, until=until))
        titles = {
            f["check_id"]: str(f.get("check_title") or f["check_id"]) for i in items for f in i.findings
        }
        return threshold_advice(d for i in items for d in measured_decisions(i)), titles


CSV_COLUMNS = (
    "group",
    "key",
    "label",
    "reviewed",
    "raised",
    "confirmed",
    "overruled",
    "precision",
    "missed",
    "first_attempts",
    "first_time_passed",
    "first_time_pass_rate",
    "decided",
    "rerecords",
    "rerecord_rate",
    "review_seconds_mean",
    "review_seconds_median",
)


def _num(value: float | None, digits: int = 4) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def to_csv(stats: Statistics) -> str:
    """UTF-8 with BOM (Excel), one line per group and a total line; text cells never formulas."""
    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.writer(buf)
    writer.writerow(CSV_COLUMNS)
    for row in [*stats.rows, stats.total]:
        writer.writerow(
            [
                stats.group_by,
                safe_cell(row.key),
                safe_cell(stats.labels.get(row.key, row.key)),
                row.reviewed,
                row.raised,
                row.confirmed,
                row.overruled,
                _num(row.precision),
                row.missed,
                row.first_attempts,
                row.first_time_passed,
                _num(row.first_time_pass_rate),
                row.decided,
                row.rerecords,
                _num(row.rerecord_rate),
                _num(row.review_seconds_mean, 1),
                _num(row.review_seconds_median, 1),
            ]
        )
    return buf.getvalue()
