"""The default, editable list of sensitive financial words (违规承诺用语) and matching helpers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["DEFAULT_SENSITIVE_WORDS", "WordHit", "find_words", "parse_word_list"]

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


def find_words(text: str, words: Iterable[str]) -> list[WordHit]:
    """Every occurrence of every word; a hit inside a longer hit (保本 in 保本保息) is dropped."""
    hits: list[WordHit] = []
    for word in sorted(set(words), key=len, reverse=True):
        start = text.find(word)
        while start != -1:
            end = start + len(word)
            if not any(h.index <= start and end <= h.index + len(h.word) for h in hits):
                hits.append(WordHit(word, start))
            start = text.find(word, start + 1)
    return sorted(hits, key=lambda h: h.index)
