"""Question banks and script templates as values, and the rules every saved one must meet.

``core.questions`` holds the question and the risk-level draw; this module adds what an editor
works with: the bank (with its draw rules), the script template (话术模板), the field checks shared
by the API and the Excel import, the text review (sensitive words) and the bank's shortfalls (a
rule the enabled questions cannot satisfy, so a draw for that risk level would fail).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dualrec.core.flow import NODE_TYPES, AnswerOption
from dualrec.core.questions import MAX_DIFFICULTY, RISK_LEVELS, DrawRule, Question
from dualrec.core.sensitive_words import find_words
from dualrec.errors import InvalidInputError
from dualrec.i18n import msg

__all__ = [
    "ANSWER_FORBIDDEN",
    "MAX_ANSWERS",
    "MAX_QUESTION_TEXT",
    "MAX_SYNONYMS",
    "MAX_TEMPLATE_TEXT",
    "Problem",
    "QuestionBank",
    "ReviewHit",
    "ScriptTemplate",
    "Shortfall",
    "answers_from_json",
    "answers_to_json",
    "check_code",
    "check_name",
    "check_question",
    "check_rules",
    "check_template",
    "review_text",
    "rules_from_json",
    "rules_to_json",
    "shortfalls",
]

CODE_RE = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
MAX_QUESTION_TEXT = 2000
MAX_TEMPLATE_TEXT = 10000
MAX_TITLE = 200
MAX_NAME = 200
MAX_ANSWERS = 10
MAX_SYNONYMS = 20
MAX_ANSWER_TEXT = 100
#: answers and synonyms are written to Excel as "是|否" and "是:是的,对;否:不是", so these are not
#: allowed inside one (full-width forms included)
ANSWER_FORBIDDEN = "|｜;；:：,，、\n"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class QuestionBank:
    code: str  # the business type
    name: str
    rules: tuple[DrawRule, ...] = ()
    question_count: int = 0
    enabled_count: int = 0
    updated_at: datetime | None = None
    updated_by: str = ""


@dataclass(frozen=True)
class ScriptTemplate:
    """话术模板: a reusable node text for one business type and node type."""

    id: int
    business_type: str
    node_type: str  # a key of core.flow.NODE_TYPES
    title: str
    text: str
    updated_at: datetime | None = None


@dataclass(frozen=True)
class Problem:
    """A field that fails a rule; ``field`` names the attribute (``text``, ``answers`` …)."""

    field: str
    message: str  # "中文 / English"


@dataclass(frozen=True)
class ReviewHit:
    """A sensitive word found in ``field`` at character ``index``."""

    field: str
    word: str
    index: int


@dataclass(frozen=True)
class Shortfall:
    """A draw rule the bank cannot satisfy: ``eligible`` enabled questions, ``needed`` asked for."""

    risk_level: str
    needed: int
    eligible: int


def check_code(value: str, field: str = "code") -> list[Problem]:
    if not CODE_RE.match(value):
        return [
            Problem(
                field,
                "编号只能包含字母、数字、_ 和 -，最长 64 位 / a code is 1–64 letters, digits, _ or -",
            )
        ]
    return []


def _text(value: str, field: str, limit: int, what: str) -> list[Problem]:
    if not value.strip():
        return [Problem(field, f"{what}不能为空 / {field} is required")]
    if len(value) > limit:
        return [Problem(field, f"{what}超过 {limit} 字 / {field} is longer than {limit} characters")]
    if _CONTROL.search(value):
        return [Problem(field, f"{what}含有控制字符 / {field} contains control characters")]
    return []


def _answer_form(value: str, field: str) -> list[Problem]:
    if not value.strip() or len(value) > MAX_ANSWER_TEXT:
        return [
            Problem(field, f"答案须为 1–{MAX_ANSWER_TEXT} 字 / an answer is 1–{MAX_ANSWER_TEXT} characters")
        ]
    bad = sorted({c for c in value if c in ANSWER_FORBIDDEN} | set(_CONTROL.findall(value)))
    if bad:
        shown = " ".join(repr(c) for c in bad)
        return [
            Problem(field, f"答案或同义词中不能含有 {shown} / answers and synonyms cannot contain {shown}")
        ]
    return []


def check_question(q: Question) -> list[Problem]:
    """Everything wrong with ``q`` (empty: it can be saved)."""
    problems = check_code(q.bank, "bank") + check_code(q.code)
    problems += _text(q.text, "text", MAX_QUESTION_TEXT, "题目")
    if not q.answers:
        problems.append(Problem("answers", "至少需要一个标准答案 / at least one expected answer"))
    if len(q.answers) > MAX_ANSWERS:
        problems.append(Problem("answers", f"标准答案最多 {MAX_ANSWERS} 个 / at most {MAX_ANSWERS} answers"))
    texts = [a.text for a in q.answers]
    if len(set(texts)) != len(texts):
        problems.append(Problem("answers", "标准答案重复 / duplicate expected answers"))
    for a in q.answers:
        problems += _answer_form(a.text, "answers")
        if len(a.synonyms) > MAX_SYNONYMS:
            problems.append(
                Problem("synonyms", f"每个答案最多 {MAX_SYNONYMS} 个同义词 / at most {MAX_SYNONYMS} synonyms")
            )
        for s in a.synonyms:
            problems += _answer_form(s, "synonyms")
    if isinstance(q.difficulty, bool) or not 1 <= q.difficulty <= MAX_DIFFICULTY:
        problems.append(
            Problem("difficulty", f"难度须为 1–{MAX_DIFFICULTY} 的整数 / difficulty is 1–{MAX_DIFFICULTY}")
        )
    return _unique(problems)


def check_template(t: ScriptTemplate) -> list[Problem]:
    problems = check_code(t.business_type, "business_type")
    if t.node_type not in NODE_TYPES:
        zh = "、".join(z for z, _ in NODE_TYPES.values())
        problems.append(
            Problem(
                "node_type",
                f"未知节点类型「{t.node_type[:30]}」，可选：{zh} / "
                f"unknown node type {t.node_type[:30]!r} (one of: {', '.join(NODE_TYPES)})",
            )
        )
    problems += _text(t.title, "title", MAX_TITLE, "标题")
    problems += _text(t.text, "text", MAX_TEMPLATE_TEXT, "话术")
    return problems


def check_rules(rules: Sequence[DrawRule]) -> list[Problem]:
    """Rule values are checked by ``DrawRule`` itself; here: one rule per risk level."""
    levels = [r.risk_level for r in rules]
    dup = sorted({lv for lv in levels if levels.count(lv) > 1})
    if dup:
        return [Problem("rules", f"风险等级重复 / duplicate risk levels: {', '.join(dup)}")]
    return []


def check_name(value: str) -> list[Problem]:
    return _text(value, "name", MAX_NAME, "名称")


def review_text(field: str, text: str, words: Iterable[str]) -> list[ReviewHit]:
    return [ReviewHit(field, h.word, h.index) for h in find_words(text, words, skip_negated=True)]


def shortfalls(questions: Sequence[Question], rules: Sequence[DrawRule]) -> list[Shortfall]:
    out: list[Shortfall] = []
    for rule in sorted(rules, key=lambda r: r.risk_level):
        eligible = sum(
            1 for q in questions if q.enabled and rule.min_difficulty <= q.difficulty <= rule.max_difficulty
        )
        if eligible < rule.count:
            out.append(Shortfall(rule.risk_level, rule.count, eligible))
    return out


def rules_to_json(rules: Sequence[DrawRule]) -> list[dict[str, Any]]:
    return [
        {
            "risk_level": r.risk_level,
            "count": r.count,
            "min_difficulty": r.min_difficulty,
            "max_difficulty": r.max_difficulty,
        }
        for r in sorted(rules, key=lambda r: RISK_LEVELS.index(r.risk_level))
    ]


def rules_from_json(data: Iterable[dict[str, Any]]) -> tuple[DrawRule, ...]:
    try:
        return tuple(
            DrawRule(
                risk_level=str(d["risk_level"]),
                count=int(d["count"]),
                min_difficulty=int(d.get("min_difficulty", 1)),
                max_difficulty=int(d.get("max_difficulty", MAX_DIFFICULTY)),
            )
            for d in data
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInputError(msg("question_banks.malformed_draw_rules", exc=exc)) from exc


def answers_to_json(answers: Sequence[AnswerOption]) -> list[dict[str, Any]]:
    return [{"text": a.text, "synonyms": list(a.synonyms)} for a in answers]


def answers_from_json(data: Iterable[dict[str, Any]]) -> tuple[AnswerOption, ...]:
    return tuple(AnswerOption(str(d["text"]), tuple(str(s) for s in d.get("synonyms", ()))) for d in data)


def _unique(problems: list[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))
