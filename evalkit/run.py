"""``make eval``: build the cases, run the real QC on each, print the scores.

Usage: ``.venv/bin/python -m evalkit.run [--fast] [--cache DIR] [--json OUT] [case ...]``

Exit status 0 when every verdict is acceptable and every check meets the goals (precision ≥ 0.95,
recall ≥ 0.98 on the cases that label it), 1 otherwise. Speeds are printed, never judged.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from evalkit.cases import Case, by_name
from evalkit.scenes import DATA, SceneBuilder, available
from evalkit.score import CaseOutcome, judge, meets_goals, per_check

ROOT = Path(__file__).resolve().parents[1]


def default_cache() -> Path:
    return Path(tempfile.gettempdir()) / f"dualrec-eval-{os.getuid()}"


class Runner:
    """Builds the cases' recordings and runs the real QC pipeline on them (engines load once)."""

    def __init__(self, cache: Path, *, cpu_threads: int = 2) -> None:
        from dualrec.bootstrap.engines import build_qc_engines

        why = available()
        if why:
            raise RuntimeError(why)
        self.builder = SceneBuilder(cache / "media")
        self.engines = build_qc_engines(data_dir=cache / "data", cpu_threads=cpu_threads, ocr=False)
        if self.engines.unavailable:
            raise RuntimeError(f"QC engines unavailable: {self.engines.unavailable}")
        self._clean: Path | None = None

    def recording(self, case: Case) -> Path:
        if case.scene is not None:
            return self.builder.build(case.scene)
        from evalkit.cases import CASES

        clean = next(c for c in CASES if c.name == "clean")
        assert clean.scene is not None
        return self.builder.damaged(case.damaged, self.builder.build(clean.scene))

    def report(self, case: Case) -> tuple[dict[str, Any], float]:
        import numpy as np
        from PIL import Image

        from dualrec.core.flow import parse_flow
        from dualrec.core.qc import QcTask
        from dualrec.pipeline.qc import run_qc
        from dualrec.pipeline.report import native_report
        from dualrec.pipeline.request import QcRequest

        path = self.recording(case)
        flow = None
        if case.script:
            node = {
                "id": "open",
                "type": "risk_disclosure",
                "title": "开场",
                "required_statements": [case.script],
            }
            flow = parse_flow({"id": "eval", "nodes": [node]})
        photo = None
        if case.id_photo:
            photo = np.asarray(Image.open(DATA / "faces" / case.id_photo).convert("RGB"), dtype=np.uint8)
        request = QcRequest(
            path, task=QcTask(f"EVAL-{case.name}", None, None, case.mode), flow=flow, id_photo=photo
        )
        started = time.perf_counter()
        report = run_qc(request, self.engines)
        return native_report(report), time.perf_counter() - started


def evaluate(runner: Runner, cases: list[Case]) -> list[tuple[CaseOutcome, dict[str, Any]]]:
    out = []
    for case in cases:
        report, seconds = runner.report(case)
        out.append((judge(case.name, case.truth, case.verdicts, report, seconds), report))
    return out


def _pct(x: float | None) -> str:
    return "  —  " if x is None else f"{x:5.3f}"


def print_scores(cases: list[Case], outcomes: list[CaseOutcome]) -> bool:
    ok = True
    print(f"{'case':24} {'verdict':8} {'want':12} {'ok':3} {'QC s':>6}  problems")
    for case, o in zip(cases, outcomes, strict=True):
        good = o.verdict_ok and not o.wrong
        ok &= good
        want = "|".join(sorted(case.verdicts))
        mark = "✓" if good else "✗"
        print(f"{case.name:24} {o.verdict:8} {want:12} {mark:3} {o.seconds:6.1f}  {'; '.join(o.wrong)}")
    scores = per_check([(c.name, c.truth) for c in cases], outcomes)
    print(f"\n{'check':22} {'TP':>3} {'FP':>3} {'FN':>3} {'TN':>3} {'und':>3}  precision recall  goal")
    for check, s in scores.items():
        met = meets_goals(s)
        ok &= met
        print(
            f"{check:22} {s.tp:3} {s.fp:3} {s.fn:3} {s.tn:3} {s.undecided:3}  {_pct(s.precision):9} "
            f"{_pct(s.recall):6}  {'✓' if met else '✗'}"
            + (f"  missed: {', '.join(s.misses)}" if s.misses else "")
            + (f"  false alarms: {', '.join(s.false_alarms)}" if s.false_alarms else "")
        )
    right = sum(o.verdict_ok for o in outcomes)
    unsafe_pass = [
        c.name
        for c, o in zip(cases, outcomes, strict=True)
        if "PASS" not in c.verdicts and o.verdict == "PASS"
    ]
    print(f"\nverdicts right: {right}/{len(outcomes)}")
    print(f"PASS given to a recording with a defect: {', '.join(unsafe_pass) or 'none'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*")
    parser.add_argument("--fast", action="store_true", help="only the subset make test runs")
    parser.add_argument("--cache", type=Path, default=default_cache())
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "out" / "eval.json")
    args = parser.parse_args()
    cases = by_name(args.cases, fast=args.fast)
    runner = Runner(args.cache)
    results = evaluate(runner, cases)
    outcomes = [o for o, _ in results]
    ok = print_scores(cases, outcomes)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps(
            {
                c.name: {"verdict": o.verdict, "wrong": o.wrong, "report": r}
                for c, (o, r) in zip(cases, results, strict=True)
            },
            ensure_ascii=False,
            indent=1,
            default=str,
        ),
        encoding="utf-8",
    )
    print(f"reports: {args.json}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
