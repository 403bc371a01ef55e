"""Question banks (题库) and the risk-level draw.

A bank holds the questions of one business type; its draw rules say, per customer risk level,
how many questions a customer answers and of which difficulty (e.g. R4/R5 answer 3). The draw is
random but reproducible: ``draw_questions`` is a pure function of the pool, the rule and a seed,
and the seed, the chosen codes and a digest of the pool are recorded with the attempt, so an
auditor can replay it (``verify_draw``) and see that nobody picked the easy questions by hand.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from dualrec.core.flow import AnswerOption, Flow, FlowNode, parse_flow
from dualrec.errors import InvalidInputError
from dualrec.i18n import msg

__all__ = [
    "RISK_LEVELS",
    "Draw",
    "DrawRule",
    "Question",
    "attempt_flow",
    "draw_questions",
    "expand_drawn",
    "pool_digest",
    "rule_for",
    "verify_draw",
]

RISK_LEVELS: tuple[str, ...] = ("R1", "R2", "R3", "R4", "R5")
MAX_DIFFICULTY = 5


@dataclass(frozen=True)
class Question:
    code: str  # unique within its bank, e.g. "WM-003"
    bank: str  # the business type the bank belongs to
    text: str
    answers: tuple[AnswerOption, ...]  # expected answers (with synonyms)
    difficulty: int = 1  # 1 (easy) … 5
    enabled: bool = True


@dataclass(frozen=True)
class DrawRule:
    """For customers of ``risk_level``: ``count`` questions of difficulty within [min, max]."""

    risk_level: str
    count: int
    min_difficulty: int = 1
    max_difficulty: int = MAX_DIFFICULTY

    def __post_init__(self) -> None:
        if self.risk_level not in RISK_LEVELS:
            raise InvalidInputError(msg("questions.unknown_risk_level", risk_level=self.risk_level))
        if not 0 <= self.count <= 20:
            raise InvalidInputError(msg("questions.count_must_0_20"))
        if not 1 <= self.min_difficulty <= self.max_difficulty <= MAX_DIFFICULTY:
            raise InvalidInputError(msg("questions.invalid_difficulty_range"))


@dataclass(frozen=True)
class Draw:
    """What was drawn, and everything needed to replay the draw."""

    bank: str
    risk_level: str
    seed: str
    pool_digest: str
    codes: tuple[str, ...]


def rule_for(rules: Sequence[DrawRule], risk_level: str) -> DrawRule | None:
    return next((r for r in rules if r.risk_level == risk_level), None)


def _pool(questions: Sequence[Question], rule: DrawRule) -> list[Question]:
    return sorted(
        (q for q in questions if q.enabled and rule.min_difficulty <= q.difficulty <= rule.max_difficulty),
        key=lambda q: q.code,
    )


def pool_digest(questions: Sequence[Question]) -> str:
    """SHA-256 over the pool's codes, texts, answers and difficulties in code order."""
    rows = [
        [q.code, q.text, [[a.text, list(a.synonyms)] for a in q.answers], q.difficulty]
        for q in sorted(questions, key=lambda q: q.code)
    ]
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


def draw_questions(
    questions: Sequence[Question], rules: Sequence[DrawRule], *, bank: str, risk_level: str, seed: str
) -> tuple[Draw, tuple[Question, ...]]:
    """Draw for a customer of ``risk_level``; the same inputs always give the same questions."""
    rule = rule_for(rules, risk_level)
    if rule is None:
        raise InvalidInputError(
            msg("questions.bank_draw_rule", bank=bank, risk_level=risk_level),
            details={"bank": bank, "risk_level": risk_level},
        )
    pool = _pool([q for q in questions if q.bank == bank], rule)
    if len(pool) < rule.count:
        raise InvalidInputError(
            msg("questions.bank_eligible_questions_needed", bank=bank, len_pool=len(pool), count=rule.count),
            details={"bank": bank, "risk_level": risk_level, "eligible": len(pool), "needed": rule.count},
        )
    chosen = tuple(random.Random(f"{seed}|{bank}|{risk_level}").sample(pool, rule.count))
    draw = Draw(bank, risk_level, seed, pool_digest(pool), tuple(q.code for q in chosen))
    return draw, chosen


def verify_draw(draw: Draw, questions: Sequence[Question], rules: Sequence[DrawRule]) -> list[str]:
    """Replays ``draw`` against the bank as it is now; returns the problems (empty: reproduced)."""
    problems: list[str] = []
    rule = rule_for(rules, draw.risk_level)
    if rule is None:
        return [f"no draw rule for {draw.risk_level} any more"]
    pool = _pool([q for q in questions if q.bank == draw.bank], rule)
    if pool_digest(pool) != draw.pool_digest:
        problems.append("the bank's eligible questions changed since the draw")
    try:
        again, _ = draw_questions(
            questions, rules, bank=draw.bank, risk_level=draw.risk_level, seed=draw.seed
        )
    except InvalidInputError as exc:
        return [*problems, str(exc)]
    if again.codes != draw.codes:
        problems.append(f"replay gives {list(again.codes)}, recorded {list(draw.codes)}")
    return problems


def expand_drawn(flow: Flow, drawn: Mapping[str, Sequence[Question]]) -> Flow:
    """The flow a customer actually runs: each qa node that draws from a bank becomes one node per
    drawn question (``<id>#1``, ``<id>#2`` …) with the question's text and expected answers; the
    last one continues where the original node did, and references to the node point at the first.
    """
    if not drawn:
        return flow
    renamed: dict[str, str] = {}
    nodes: list[FlowNode] = []
    for node in flow.nodes:
        questions = drawn.get(node.id)
        if not node.draw_bank or questions is None:
            nodes.append(node)
            continue
        if not questions:  # nothing drawn (count 0 for this risk level): the node is skipped
            renamed[node.id] = flow.successor(node.id)
            continue
        ids = [f"{node.id}#{i + 1}" for i in range(len(questions))]
        renamed[node.id] = ids[0]
        for i, q in enumerate(questions):
            last = i == len(questions) - 1
            nodes.append(
                replace(
                    node,
                    id=ids[i],
                    title=f"{node.title or node.id} {i + 1}/{len(questions)}",
                    script=q.text,
                    subtitle="",
                    expected_answers=q.answers,
                    branches=tuple(b for b in node.branches if last),
                    next=(node.next or flow.successor(node.id)) if last else ids[i + 1],
                    draw_bank="",
                    params={**node.params, "question_code": q.code, "bank": q.bank},
                )
            )

    def fix(target: str | None) -> str | None:
        seen: set[str] = set()
        while target in renamed and target not in seen:
            seen.add(target)
            target = renamed[target]
        return target

    return replace(
        flow,
        nodes=tuple(
            replace(
                n,
                next=fix(n.next),
                branches=tuple(replace(b, next=fix(b.next) or b.next) for b in n.branches),
            )
            for n in nodes
        ),
    )


def attempt_flow(definition: dict[str, Any], draws: list[dict[str, Any]]) -> Flow:
    """The flow as a task's attempt runs it: the published version ``definition`` with the attempt's
    drawn questions (``draws``, as stored on the attempt) expanded. The session, a console upload and
    an agent upload for the task all use it."""
    flow = parse_flow(definition)
    drawn: dict[str, list[Question]] = {}
    for d in draws:
        drawn[d["node_id"]] = [
            Question(
                q["code"],
                d["bank"],
                q["text"],
                tuple(AnswerOption(a["text"], tuple(a.get("synonyms", ()))) for a in q["answers"]),
                int(q.get("difficulty", 1)),
            )
            for q in d["questions"]
        ]
    return expand_drawn(flow, drawn)
