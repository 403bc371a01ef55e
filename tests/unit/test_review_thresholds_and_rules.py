"""Pure rules of QC operations added for issue 18: high-risk rule matching (core/high_risk.py) and
the threshold-tuning advice (core/review_stats.threshold_advice), checked against hand counts."""

from __future__ import annotations

from typing import Any

from dualrec.core.high_risk import RecordingFacts, RuleConditions, facts_from_report, match_reasons
from dualrec.core.review import Candidate, SamplingPlan, select_sample
from dualrec.core.review_stats import MeasuredDecision, threshold_advice


def report(raised: dict[str, list[str]]) -> dict[str, object]:
    return {
        "checks": [
            {"id": cid, "findings": [{"severity": s, "message": "x"} for s in sevs]}
            for cid, sevs in raised.items()
        ]
    }


def facts(raised: dict[str, list[str]], **kw: Any) -> RecordingFacts:
    base: dict[str, Any] = {"recording_id": "r", "branch_id": 1, "verdict": "REVIEW", "risk_score": 40}
    return facts_from_report(report(raised), **{**base, **kw})


def test_every_condition_a_rule_sets_must_hold() -> None:
    elderly = RuleConditions(checks_all=("answers", "script_coverage"), customer_types=("elderly",))
    both = facts({"answers": ["major"], "script_coverage": ["critical"]}, customer_type="elderly")
    why = match_reasons(elderly, both)
    assert why is not None and len(why) == 2 and "elderly" in why[1]
    # one of the two checks, or another customer type: no match
    assert match_reasons(elderly, facts({"answers": ["major"]}, customer_type="elderly")) is None
    assert match_reasons(elderly, facts({"answers": ["major"], "script_coverage": ["minor"]})) is None
    # info notes are not findings
    assert (
        match_reasons(
            elderly, facts({"answers": ["info"], "script_coverage": ["major"]}, customer_type="elderly")
        )
        is None
    )


def test_score_severity_product_and_mode_conditions() -> None:
    rule = RuleConditions(risk_min=60, min_severity="critical", risk_levels=("R5",), modes=("self_service",))
    hit = facts({"identity_match": ["critical"]}, risk_score=60, risk_level="R5", mode="self_service")
    assert match_reasons(rule, hit) is not None
    for miss in (
        facts({"identity_match": ["critical"]}, risk_score=59, risk_level="R5", mode="self_service"),
        facts({"identity_match": ["major"]}, risk_score=70, risk_level="R5", mode="self_service"),
        facts({"identity_match": ["critical"]}, risk_score=70, risk_level="R4", mode="self_service"),
        facts({"identity_match": ["critical"]}, risk_score=70, risk_level="R5", mode="human"),
    ):
        assert match_reasons(rule, miss) is None
    assert match_reasons(RuleConditions(), hit) is None  # no condition: nothing
    assert RuleConditions.from_json(rule.to_json()) == rule


def test_all_high_risk_sampling_takes_every_flagged_recording_first() -> None:
    pool = [
        Candidate("a", 1, "PASS", 10, high_risk=True),
        Candidate("b", 1, "PASS", 10),
        Candidate("c", 1, "FAIL", 90),
    ]
    picked = select_sample(pool, SamplingPlan(rates={"FAIL": 100}, high_risk_flagged=True), "seed")
    assert picked[0] == "a" and set(picked) == {"a", "c"}
    assert select_sample(pool, SamplingPlan(rates={"FAIL": 100}), "seed") == ["c"]


def d(value: float, confirmed: bool, *, threshold: float = 2.0, when: str = "above") -> MeasuredDecision:
    return MeasuredDecision("black_screen", "min_duration", value, threshold, when, confirmed)


def test_threshold_advice_hand_counted() -> None:
    """black_screen.min_duration = 2 s raises a finding for a dark stretch of ≥ 2 s. Reviewers
    confirmed stretches of 5, 8 and 3.5 s and overruled 2.1, 2.5 and 4 s. By hand, decisions agreeing
    with each candidate threshold t (confirmed ≥ t kept + overruled < t dropped):
    t=2: 3+0=3; 2.1: 3+0=3; 2.5: 3+1=4; 3.5: 3+2=5; 4: 2+2=4; 5: 2+3=5; 8: 1+3=4.
    Best 5 at 3.5 and 5; the tie goes to 3.5, nearer the current 2."""
    points = [d(5, True), d(8, True), d(3.5, True), d(2.1, False), d(2.5, False), d(4, False)]
    (a,) = threshold_advice(points)
    assert (a.check_id, a.name, a.raised_when, a.current) == ("black_screen", "min_duration", "above", 2.0)
    assert (a.confirmed, a.overruled) == (3, 3)
    assert (a.best, a.kept_confirmed, a.dropped_overruled) == (3.5, 3, 2)
    assert (a.agree_now, a.agree_best) == (3, 5)
    # the distribution: 10 bins over 2.1..8 (0.59 wide); each value lands in one bin
    assert len(a.bins) == 10 and sum(b[2] for b in a.bins) == 3 and sum(b[3] for b in a.bins) == 3
    assert a.bins[0][:2] == (2.1, 2.69) and (a.bins[0][2], a.bins[0][3]) == (0, 2)  # 2.1 and 2.5
    assert (a.bins[-1][2], a.bins[-1][3]) == (1, 0)  # 8 s, the top edge included


def test_threshold_advice_for_a_check_that_raises_below_its_threshold() -> None:
    """script_coverage.min_coverage = 0.8 raises a finding when coverage < 0.8. Confirmed at 0.2 and
    0.5, overruled at 0.75 and 0.78: t=0.8 agrees 2; t=0.75 drops both overruled (0.75 < 0.75 is
    false) and keeps both confirmed: 4."""
    points = [
        d(0.2, True, threshold=0.8, when="below"),
        d(0.5, True, threshold=0.8, when="below"),
        d(0.75, False, threshold=0.8, when="below"),
        d(0.78, False, threshold=0.8, when="below"),
    ]
    (a,) = threshold_advice(points)
    assert (a.best, a.kept_confirmed, a.dropped_overruled, a.agree_now) == (0.75, 2, 2, 2)
    assert threshold_advice([]) == []
