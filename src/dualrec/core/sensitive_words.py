"""The default, editable list of sensitive financial words (违规承诺用语) and matching helpers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["DEFAULT_SENSITIVE_WORDS", "WordHit", "find_words", "is_negated", "parse_word_list"]

DEFAULT_SENSITIVE_WORDS: tuple[str, ...] = (
    "保本",
    "稳赚",
    "无风险",
    "零风险",
    "保证收益",
    "高收益无风险",
    "稳赚不赔",
    "刚性兑付",
    "刚兑",
    "保底",
    "保本保息",
    "包赚",
    "只赚不赔",
    "绝对安全",
    "肯定赚钱",
    "一定赚钱",
    "承诺收益",
    "保证本金",
    "本金无忧",
    "收益有保障",
    "存款一样",
    "跟存款一样",
    "替代存款",
    "100%安全",
    "没有任何风险",
)


@dataclass(frozen=True)
class WordHit:
    word: str
    index: int  # character offset in the searched text


def parse_word_list(text: str) -> tuple[str, ...]:
    """One word per line; blank lines and lines starting with '#' are ignored; duplicates dropped."""
    seen: dict[str, None] = {}
    for line in text.splitlines():
        word = line.strip()
        if word and not word.startswith("#"):
            seen.setdefault(word, None)
    return tuple(seen)


NEGATORS = ("不", "非", "没", "未")
NEGATING_PHRASES = ("并非", "不是", "没有", "并不", "绝非", "不能", "不会")


def is_negated(text: str, index: int) -> bool:
    """The word starting at ``index`` is denied (本产品不保本, 并非保证收益): a disclosure, not a promise."""
    return (index > 0 and text[index - 1] in NEGATORS) or text[max(0, index - 2) : index] in NEGATING_PHRASES


def find_words(text: str, words: Iterable[str], *, skip_negated: bool = False) -> list[WordHit]:
    """Every occurrence of every word; a hit inside a longer hit (保本 in 保本保息) is dropped, and
    with ``skip_negated`` so is a denied one (不保本)."""
    hits: list[WordHit] = []
    for word in sorted(set(words), key=len, reverse=True):
        start = text.find(word)
        while start != -1:
            end = start + len(word)
            inside = any(h.index <= start and end <= h.index + len(h.word) for h in hits)
            if not inside and not (skip_negated and is_negated(text, start)):
                hits.append(WordHit(word, start))
            start = text.find(word, start + 1)
    return sorted(hits, key=lambda h: h.index)
