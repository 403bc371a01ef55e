"""Understanding a customer's spoken or typed answer: yes / no / which expected option / unclear.

Shared by QC (did the customer agree?) and the live flow (which branch follows the answer?).
Matching is on characters after dropping punctuation and spaces; a form preceded by a negator
(不, 没, 别, 未, 非) does not count (不是 is not 是). Silence is never consent.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "AFFIRMATIVE",
    "NEGATIVE",
    "AnswerMatch",
    "choices",
    "clean_answer",
    "has_form",
    "match_option",
    "opposite",
]

AFFIRMATIVE: tuple[str, ...] = (
    "是的",
    "是",
    "对的",
    "对",
    "好的",
    "好",
    "同意",
    "确认",
    "明白",
    "清楚",
    "知道",
    "了解",
    "理解",
    "可以",
    "愿意",
    "没问题",
    "接受",
    "知晓",
    "嗯",
    "行",
)
NEGATIVE: tuple[str, ...] = (
    "不是",
    "不同意",
    "不清楚",
    "不明白",
    "不知道",
    "不确认",
    "不愿意",
    "不需要",
    "不了解",
    "不理解",
    "不可以",
    "不接受",
    "不对",
    "不行",
    "不好",
    "没听清",
    "没听懂",
    "拒绝",
    "否",
)
NEGATOR_CHARS = "不没别未非"


def clean_answer(text: str) -> str:
    """Letters and digits only (drops punctuation, spaces, ASR filler marks)."""
    return "".join(ch for ch in text if ch.isalnum()).lower()


def has_form(text: str, form: str) -> bool:
    """``form`` occurs in ``text`` and is not negated by the character before it (不是 is not 是)."""
    form = clean_answer(form)
    if not form:
        return False
    start = text.find(form)
    while start != -1:
        if start == 0 or text[start - 1] not in NEGATOR_CHARS or form[0] in NEGATOR_CHARS:
            return True
        start = text.find(form, start + 1)
    return False


def _longest_form(text: str, forms: Sequence[str]) -> int:
    return max((len(clean_answer(f)) for f in forms if has_form(text, f)), default=0)


@dataclass(frozen=True)
class AnswerMatch:
    """``matched``: ``option`` is the index of the expected answer; otherwise ``option`` is None."""

    kind: Literal["matched", "unclear", "silent"]
    option: int | None = None
    form_length: int = 0


def _forms(text: str, synonyms: Sequence[str]) -> tuple[str, ...]:
    """An option's own forms, plus the built-in yes/no words when the option itself means yes/no."""
    forms = (text, *synonyms)
    key = clean_answer(text)
    if key in ("是", "是的", "对", "同意", "确认", "愿意", "明白", "清楚", "了解", "知道", "可以"):
        forms += AFFIRMATIVE
    elif key in ("否", "不是", "不", "不同意", "不确认", "不愿意", "不明白", "不清楚", "不了解", "没有"):
        forms += NEGATIVE
    return forms


def match_option(answer: str, options: Sequence[tuple[str, Sequence[str]]]) -> AnswerMatch:
    """Which of ``options`` (``(text, synonyms)`` pairs) the answer gives.

    The option with the longest matching form wins (不同意 beats 同意 inside "我不同意"); a tie
    between different options is unclear rather than a guess.
    """
    clean = clean_answer(answer)
    if not clean:
        return AnswerMatch("silent")
    scores = [_longest_form(clean, _forms(text, syns)) for text, syns in options]
    best = max(scores, default=0)
    if best == 0 or scores.count(best) > 1:
        return AnswerMatch("unclear")
    return AnswerMatch("matched", scores.index(best), best)


_OPPOSITES: dict[str, str] = {
    "是": "否",
    "否": "是",
    "是的": "不是",
    "对": "不对",
    "有": "没有",
    "没有": "有",
    "无": "有",
    "会": "不会",
    "不会": "会",
}
_SHORT = 4  # an answer this short gets its negation as the other choice (了解 → 不了解)


def opposite(answer: str) -> str:
    """The other way of answering a question whose only expected answer is ``answer``:
    没有 → 有, 是 → 否, 了解 → 不了解, 不同意 → 同意; a long answer (a sentence) → 否."""
    text = answer.strip()
    if text in _OPPOSITES:
        return _OPPOSITES[text]
    if len(text) > _SHORT:
        return "否"
    if text[:1] in "不没" and len(text) > 1:
        return text[1:]
    return "不" + text


def choices(expected: Sequence[str], seed: str) -> list[str]:
    """The answers a customer may tap, in a neutral order: every expected answer, and when there is
    only one (or none), its opposite too, so that the page never shows the one expected answer
    alone; shuffled by ``seed`` (the same order on every reload of the same ask)."""
    options = [e for e in dict.fromkeys(x.strip() for x in expected) if e]
    if not options:
        options = ["是", "否"]
    elif len(options) == 1:
        options.append(opposite(options[0]))
    random.Random(f"dualrec-choices:{seed}").shuffle(options)
    return options
