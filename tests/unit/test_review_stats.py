"""Accuracy statistics (core/review_stats.py) against hand counts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dualrec.core.review_stats import ReviewFact, compute_stats, period_key

T = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)  # 10:00 in UTC+8


def _fact(
    item_id: int, branch: int, outcome: str | None, raised: list[tuple[str, str]], **kw: object
) -> ReviewFact:
    values: dict[str, object] = {
        "item_id": item_id,
        "branch_id": branch,
        "decided_at": T,
        "outcome": outcome,
        "first_attempt": True,
        "review_seconds": 60.0,
        "raised": tuple(raised),
        "added": (),
    }
    values.update(kw)
    return ReviewFact(**values)  # type: ignore[arg-type]


FACTS = [
    # black_screen raised 4 times: 3 confirmed, 1 overruled → precision 0.75
    # sensitive_words raised 3 times: 1 confirmed, 2 overruled → 1/3; missed once (added)
    _fact(1, 2, "fail", [("black_screen", "confirm"), ("sensitive_words", "confirm")], review_seconds=30.0),
    _fact(2, 2, "pass", [("black_screen", "overrule"), ("sensitive_words", "overrule")], review_seconds=90.0),
    _fact(
        3,
        3,
        "rerecord",
        [("black_screen", "confirm"), ("black_screen", "confirm")],
        added=("sensitive_words",),
    ),
    _fact(4, 3, "pass", [("sensitive_words", "overrule")], first_attempt=False, review_seconds=None),
    _fact(5, 3, None, [], added=("identity_match",), review_seconds=120.0),  # FAIL waiting for 终审
]


def test_precision_per_check_is_confirmed_over_raised() -> None:
    rows, total = compute_stats(FACTS, group_by="check")
    by = {r.key: r for r in rows}
    assert (by["black_screen"].raised, by["black_screen"].confirmed, by["black_screen"].precision) == (
        4,
        3,
        0.75,
    )
    assert by["sensitive_words"].raised == 3 and by["sensitive_words"].precision == pytest.approx(1 / 3)
    assert by["sensitive_words"].missed == 1 and by["identity_match"].missed == 1
    assert by["identity_match"].precision is None  # it raised nothing: no precision, not 0 or 1
    assert (total.raised, total.confirmed, total.overruled, total.missed) == (7, 4, 3, 2)
    assert total.precision == pytest.approx(4 / 7)


def test_first_time_pass_rerecord_rate_and_review_time() -> None:
    _, total = compute_stats(FACTS, group_by="branch")
    assert total.reviewed == 5 and total.decided == 4  # item 5 has no outcome yet
    # first attempts with an outcome: items 1, 2, 3 → one passed
    assert (total.first_attempts, total.first_time_passed) == (3, 1)
    assert total.first_time_pass_rate == pytest.approx(1 / 3)
    assert total.rerecords == 1 and total.rerecord_rate == 0.25
    assert total.review_seconds_mean == pytest.approx((30 + 90 + 60 + 120) / 4)
    assert total.review_seconds_median == pytest.approx(75.0)


def test_rows_per_branch_and_per_period() -> None:
    rows, _ = compute_stats(FACTS, group_by="branch")
    by = {r.key: r for r in rows}
    assert (by["2"].reviewed, by["2"].raised, by["2"].confirmed) == (2, 4, 2)
    assert (by["3"].reviewed, by["3"].raised, by["3"].rerecords) == (3, 3, 1)
    late = _fact(
        6, 2, "pass", [], decided_at=datetime(2026, 12, 3, 17, 0, tzinfo=UTC)
    )  # 01:00 next day, UTC+8
    rows, _ = compute_stats([*FACTS, late], group_by="period", period="day", utc_offset_hours=8)
    assert [(r.key, r.reviewed) for r in rows] == [("2026-12-03", 5), ("2026-12-04", 1)]


def test_period_keys() -> None:
    assert period_key(T, "week", 8) == "2026-W49"
    assert period_key(T, "month", 8) == "2026-12"
    assert period_key(datetime(2026, 12, 31, 20, tzinfo=UTC), "month", 8) == "2027-01"
