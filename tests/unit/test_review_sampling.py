"""Sampling rules (core/review.py): reproducible with the seed, percentages per verdict and branch,
every high-risk recording, filters over the task's fields."""

from __future__ import annotations

import hashlib
import hmac
import random
import uuid
from collections import Counter

from dualrec.core.review import (
    Candidate,
    SampleFilters,
    SamplingPlan,
    candidates_digest,
    raised_findings,
    select_sample,
)

DAILY = SamplingPlan(rates={"FAIL": 100, "REVIEW": 100, "PASS": 10}, per_branch=True, high_risk_min=80)


def _candidates(seed: int = 7) -> list[Candidate]:
    rnd = random.Random(seed)
    out = []
    # branch 2: 40 PASS, 3 REVIEW, 2 FAIL; branch 3: 25 PASS, 1 FAIL; branch 4: 3 PASS
    for branch, counts in (
        (2, {"PASS": 40, "REVIEW": 3, "FAIL": 2}),
        (3, {"PASS": 25, "FAIL": 1}),
        (4, {"PASS": 3}),
    ):
        for verdict, n in counts.items():
            for _ in range(n):
                out.append(
                    Candidate(
                        recording_id=str(uuid.UUID(int=rnd.getrandbits(128), version=4)),
                        branch_id=branch,
                        verdict=verdict,
                        risk_score={"PASS": 0, "REVIEW": 30, "FAIL": 70}[verdict],
                    )
                )
    return out


def test_the_same_seed_draws_the_same_sample_whatever_the_order() -> None:
    cands = _candidates()
    first = select_sample(cands, DAILY, "a1b2c3")
    shuffled = list(reversed(cands))
    random.Random(1).shuffle(shuffled)
    assert select_sample(shuffled, DAILY, "a1b2c3") == first
    other = select_sample(cands, DAILY, "ffffff")
    assert set(other) != set(first)  # another seed picks other PASS recordings
    assert candidates_digest(shuffled) == candidates_digest(cands)


def test_a_third_party_can_check_the_draw_from_the_seed() -> None:
    """The documented rule: per group, the lowest HMAC-SHA256(seed, recording id) ranks are taken."""
    cands = _candidates()
    seed = "0123456789abcdef"
    picked = set(select_sample(cands, DAILY, seed))
    branch2_pass = [c.recording_id for c in cands if c.branch_id == 2 and c.verdict == "PASS"]
    by_rank = sorted(
        branch2_pass, key=lambda r: hmac.new(seed.encode(), r.encode(), hashlib.sha256).hexdigest()
    )
    assert set(by_rank[:4]) <= picked and not set(by_rank[4:]) & picked


def test_percentages_per_branch_all_fail_and_review_ten_percent_of_pass() -> None:
    cands = _candidates()
    picked = set(select_sample(cands, DAILY, "seed-1"))
    chosen = Counter((c.branch_id, c.verdict) for c in cands if c.recording_id in picked)
    # 100 % of FAIL and REVIEW; 10 % of PASS per branch, at least one where there is any
    assert chosen == {
        (2, "PASS"): 4,
        (2, "REVIEW"): 3,
        (2, "FAIL"): 2,
        (3, "PASS"): 3,
        (3, "FAIL"): 1,
        (4, "PASS"): 1,
    }


def test_over_all_branches_the_percentage_is_taken_once() -> None:
    cands = _candidates()
    plan = SamplingPlan(rates={"PASS": 10}, per_branch=False)
    picked = select_sample(cands, plan, "seed-2")
    assert len(picked) == 7  # ceil(68 × 10 %) over the 68 PASS recordings of all branches
    assert {c.verdict for c in cands if c.recording_id in picked} == {"PASS"}


def test_every_high_risk_recording_is_taken_and_comes_first() -> None:
    cands = _candidates()
    risky = Candidate("00000000-0000-4000-8000-00000000aaaa", 4, "PASS", 95)
    plan = SamplingPlan(rates={"PASS": 0}, high_risk_min=80)
    assert select_sample([*cands, risky], plan, "s") == [risky.recording_id]
    picked = select_sample([*cands, risky], DAILY, "s")
    assert picked[0] == risky.recording_id


def test_limit_keeps_the_first_of_the_draw() -> None:
    cands = _candidates()
    full = select_sample(cands, DAILY, "s")
    capped = select_sample(cands, SamplingPlan(**{**DAILY.to_json(), "limit": 5}), "s")
    assert capped == full[:5]


def test_filters_on_task_fields_and_their_json_round_trip() -> None:
    flt = SampleFilters(
        business_types=("insurance",), customer_types=("elderly",), modes=("human",), agents=("li",)
    )
    match = Candidate("r1", 2, "PASS", 0, "insurance", "P", "elderly", "human", ("li", "api:crm"))
    assert flt.matches(match)
    for change in (
        {"business_type": "fund"},
        {"customer_type": "personal"},
        {"mode": "self_service"},
        {"agents": ("wang",)},
    ):
        assert not flt.matches(Candidate(**{**match.__dict__, **change}))
    assert SampleFilters.from_json(flt.to_json()) == flt


def test_review_keeps_the_machine_claims_of_a_report_not_its_notes() -> None:
    report = {
        "checks": [
            {
                "id": "black_screen",
                "title": "黑屏",
                "findings": [{"severity": "major", "message": "黑屏", "start": 3.0}],
            },
            {
                "id": "sensitive_words",
                "findings": [
                    {"severity": "info", "message": "note"},
                    {"severity": "critical", "message": "保本", "evidence": {"quote": "保本"}},
                ],
            },
        ]
    }
    raised = raised_findings(report)
    assert [f["key"] for f in raised] == ["black_screen:0", "sensitive_words:1"]
    assert raised[1]["evidence"]["quote"] == "保本" and raised[0]["check_title"] == "黑屏"
