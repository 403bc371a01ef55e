"""Pinyin-aware fuzzy matching of expected texts against a timed transcript.

Small ASR models confuse homophones and near-homophones (达摩院 → 达摩运). Both sides are turned
into toneless pinyin syllables, folded for common confusions (zh/z, ch/c, sh/s, n/l, -ng/-n), each
syllable coded as one character, and a sliding-window alignment (rapidfuzz partial ratio) finds the
window of the transcript that best covers the expected text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from pypinyin import lazy_pinyin
from rapidfuzz import fuzz
from rapidfuzz.distance import LCSseq

from dualrec.media.ports import TranscriptSegment

__all__ = ["TextMatch", "TimedText", "align", "syllables"]

_DROP = re.compile(r"[\s\W_]+", re.UNICODE)
_FOLD = (("zh", "z"), ("ch", "c"), ("sh", "s"))


def _fold(syl: str) -> str:
    for a, b in _FOLD:
        if syl.startswith(a):
            syl = b + syl[len(a) :]
            break
    if syl.startswith("n") and not syl.startswith("ng"):
        syl = "l" + syl[1:]
    if syl.endswith("ng") and len(syl) > 2:
        syl = syl[:-1]
    return syl


@lru_cache(maxsize=8192)
def _char_syllable(ch: str) -> str:
    if "\u4e00" <= ch <= "\u9fff":
        return _fold(lazy_pinyin(ch)[0])
    return ch.lower()


def syllables(text: str) -> list[str]:
    """Folded toneless syllables of ``text`` (punctuation and spaces dropped)."""
    return [_char_syllable(ch) for ch in _DROP.sub("", text)]


@dataclass(frozen=True)
class TimedText:
    """Transcript characters (punctuation dropped) with a start/end time each, and the recogniser's
    probability for each (its word's probability, else its segment's confidence; None: none given)."""

    chars: str
    starts: tuple[float, ...]
    ends: tuple[float, ...]
    probabilities: tuple[float | None, ...] = ()

    @classmethod
    def from_segments(cls, segments: Sequence[TranscriptSegment]) -> TimedText:
        chars: list[str] = []
        starts: list[float] = []
        ends: list[float] = []
        probs: list[float | None] = []
        for seg in segments:
            pieces = [(w.text, w.start, w.end, w.probability) for w in seg.words] or [
                (seg.text, seg.start, seg.end, seg.confidence)
            ]
            for text, a, b, p in pieces:
                clean = _DROP.sub("", text)
                n = len(clean)
                for i, ch in enumerate(clean):
                    chars.append(ch)
                    starts.append(a + (b - a) * i / n)
                    ends.append(a + (b - a) * (i + 1) / n)
                    probs.append(p)
        return cls("".join(chars), tuple(starts), tuple(ends), tuple(probs))

    def confidence(self, lo: int, hi: int) -> float | None:
        """The recogniser's mean probability for the characters ``[lo, hi)``; None when it gave none."""
        given = [p for p in self.probabilities[lo:hi] if p is not None]
        return round(sum(given) / len(given), 3) if given else None

    def between(self, start: float, end: float) -> tuple[int, int]:
        """Index range of the characters that start within [start, end)."""
        lo = next((i for i, s in enumerate(self.starts) if s >= start), len(self.starts))
        hi = next((i for i in range(len(self.starts) - 1, -1, -1) if self.starts[i] < end), -1) + 1
        return lo, max(lo, hi)


@dataclass(frozen=True)
class TextMatch:
    coverage: float  # 0..1: share of the expected syllables found, in order, in the best window
    quote: str
    start: float | None
    end: float | None
    lo: int  # character index range in the TimedText
    hi: int


def _encode(seqs: Sequence[list[str]]) -> list[str]:
    table: dict[str, str] = {}
    return ["".join(table.setdefault(s, chr(0xE000 + len(table))) for s in seq) for seq in seqs]


def align(expected: str, text: TimedText, lo: int = 0, hi: int | None = None) -> TextMatch:
    """Best window of ``text.chars[lo:hi]`` for ``expected``."""
    hi = len(text.chars) if hi is None else hi
    want = syllables(expected)
    have = [_char_syllable(ch) for ch in text.chars[lo:hi]]
    if not want or not have:
        return TextMatch(0.0, "", None, None, lo, lo)
    needle, hay = _encode([want, have])
    if len(needle) >= len(hay):
        coverage = LCSseq.similarity(needle, hay) / len(needle)
        a, b = 0, len(hay)
    else:
        res = fuzz.partial_ratio_alignment(needle, hay)
        coverage = res.score / 100.0 if res else 0.0
        a, b = (res.dest_start, res.dest_end) if res else (0, 0)
        if b > a:  # tighten: drop unmatched syllables at both ends of the window
            wanted = set(needle)
            while a < b and hay[a] not in wanted:
                a += 1
            while b > a and hay[b - 1] not in wanted:
                b -= 1
    if b <= a:
        return TextMatch(coverage, "", None, None, lo, lo)
    return TextMatch(
        coverage, text.chars[lo + a : lo + b], text.starts[lo + a], text.ends[lo + b - 1], lo + a, lo + b
    )
