"""Sensitive words from the editable financial list, exact or homophone, with times."""

from __future__ import annotations

from dualrec.checks.base import CheckContext, FunctionCheck, finding, not_run, result
from dualrec.checks.textmatch import TimedText, syllables
from dualrec.core.qc import CheckResult, Finding, Severity
from dualrec.core.sensitive_words import find_words, is_negated
from dualrec.i18n import msg

ID = "sensitive_words"


def _homophones(chars: str, words: tuple[str, ...]) -> list[tuple[str, int, int]]:
    """(word, start, end) where the pinyin matches a word but the characters differ (ASR errors)."""
    syl = syllables(chars)
    out = []
    for word in words:
        ws = syllables(word)
        n = len(ws)
        if n < 2:
            continue
        for i in range(len(syl) - n + 1):
            if syl[i : i + n] == ws and chars[i : i + n] != word:
                out.append((word, i, i + n))
    return out


def run(ctx: CheckContext) -> CheckResult:
    if ctx.transcript is None:
        return not_run(ID, ctx.asr_error or "没有逐字稿 / no transcript")
    if not ctx.sensitive_words:
        return not_run(ID, "敏感词表为空 / the sensitive word list is empty")
    text = TimedText.from_segments(ctx.transcript)
    chars = text.chars
    hits = [(h.word, h.index, h.index + len(h.word), True) for h in find_words(chars, ctx.sensitive_words)]
    taken = {(a, b) for _, a, b, _ in hits}
    hits += [(w, a, b, False) for w, a, b in _homophones(chars, ctx.sensitive_words) if (a, b) not in taken]
    out: list[Finding] = []
    negated: list[str] = []
    for word, a, b, exact in sorted(hits, key=lambda h: h[1]):
        if is_negated(chars, a):
            negated.append(chars[max(0, a - 2) : b])
            continue
        quote = chars[max(0, a - 8) : b + 8]
        out.append(
            finding(
                ctx,
                ID,
                Severity.MAJOR,
                msg(
                    "finding.sensitive_words.sensitive_word"
                    if exact
                    else "finding.sensitive_words.sensitive_word_homophone",
                    word=word,
                ),
                start=text.starts[a],
                end=text.ends[b - 1],
                quote=quote,
                quote_start=text.starts[a],
                quote_end=text.ends[b - 1],
                # how sure the recogniser was of the characters it wrote: for an exact hit, that
                # the word was said; a homophone hit is a guess no engine scores (None)
                confidence=text.confidence(a, b) if exact else None,
            )
        )
    return result(
        ID, out, {"hits": len(out), "negated_mentions": negated, "words_checked": len(ctx.sensitive_words)}
    )


CHECK = FunctionCheck(ID, run)
