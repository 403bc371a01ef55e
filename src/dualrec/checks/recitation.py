"""Scores of a willingness sentence read aloud (跟读) or copied by hand (抄录).

Shared by the live session (which decides the node) and QC (which checks the recording against the
same rule), so that both judge the same text the same way.

- ``reading_score``: the share of the sentence's syllables heard in order (toneless pinyin, folded
  like ``textmatch``): speech is judged by sound, a homophone the recogniser wrote is not the
  customer's error.
- ``copy_score``: the share of the sentence's characters written in order: handwriting is judged
  by the characters themselves, a different character with the same sound is a copying error.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from difflib import SequenceMatcher

from dualrec.checks.textmatch import syllables

__all__ = ["copy_score", "in_order_share", "reading_score"]

_DROP = re.compile(r"[\s\W_]+", re.UNICODE)


def in_order_share(want: Sequence[str], got: Sequence[str]) -> float:
    """Share of ``want`` found in ``got`` in the same order (longest matching blocks)."""
    if not want:
        return 1.0
    matcher = SequenceMatcher(a=list(want), b=list(got), autojunk=False)
    return sum(b.size for b in matcher.get_matching_blocks()) / len(want)


def reading_score(sentence: str, heard: str) -> float:
    """Share of the sentence's syllables found in order in what was heard."""
    return in_order_share(syllables(sentence), syllables(heard))


def copy_score(sentence: str, written: str) -> float:
    """Share of the sentence's characters (punctuation and spaces dropped) written in order."""
    return in_order_share(_DROP.sub("", sentence), _DROP.sub("", written))
