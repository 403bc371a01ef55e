"""The fast subset of the QC evaluation kit (``make eval`` runs all of it): real photos and real
speech, the real engines; every verdict acceptable and every labelled check right."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from evalkit.cases import by_name
from evalkit.run import Runner, default_cache, evaluate
from evalkit.scenes import available

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def runner() -> Runner:
    why = available()
    if why is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(why)
        pytest.skip(why)
    return Runner(Path(default_cache()))


def test_fast_cases_get_the_right_verdict_and_the_right_findings(runner: Runner) -> None:
    cases = by_name(fast=True)
    assert {c.name for c in cases} >= {"clean", "swap", "wrong_person", "missing_statement", "truncated_file"}
    outcomes = [o for o, _ in evaluate(runner, cases)]
    wrong = {o.name: (o.verdict, o.wrong) for o in outcomes if not o.verdict_ok or o.wrong}
    assert not wrong, wrong
