"""Verbatim transcript (逐字稿) with timestamps, and what keeps it from being trusted: speech the
recogniser heard in another language than Mandarin, sound in which no Mandarin was heard at all
(music, noise, another language the recogniser dropped), speech between Mandarin sentences that
the transcript does not contain (unheard), a low mean confidence.

Unheard speech: the recogniser drops what it cannot write as Mandarin — a short English phrase
(``Front Left``, 1.4 s) inside Mandarin answers leaves a hole in the transcript, and a stretch
shorter than ~2 s is too short for its language to be detected (measured: 1.5 s of Mandarin news
scored zh 0.008). A compliance officer cannot let that pass silently: every stretch of voice
activity of ``min_unheard_seconds`` or more that no segment (Mandarin or other) covers is a
finding with its times — not counted for scripts or answers, listen to it (REVIEW). A voice
region counts as heard when any segment touches it (see ``unheard``)."""

from __future__ import annotations

from collections.abc import Sequence

from dualrec.checks.base import CheckContext, FunctionCheck, finding, not_run, result
from dualrec.core.qc import CheckResult, Finding, Severity
from dualrec.i18n import msg, pair
from dualrec.media.ports import TranscriptSegment

ID = "transcript"
MERGE_GAP = 3.0  # other-language segments closer than this are one finding
QUOTE_CHARS = 80
COVER_PAD = 0.3  # a segment covers the voice activity this far beyond its own times
UNHEARD_GAP = 1.0  # unheard stretches closer than this are one finding

LANGUAGE_NAMES = {
    "en": "英语",
    "ja": "日语",
    "ko": "韩语",
    "yue": "粤语",
    "fr": "法语",
    "de": "德语",
    "es": "西班牙语",
    "ru": "俄语",
    "latn": "以拉丁字母写出的外语（如英语）",
    "und": "无法确定的语言",
}


def _runs(segments: Sequence[TranscriptSegment]) -> list[list[TranscriptSegment]]:
    runs: list[list[TranscriptSegment]] = []
    for seg in sorted(segments, key=lambda s: s.start):
        if runs and seg.start - runs[-1][-1].end <= MERGE_GAP:
            runs[-1].append(seg)
        else:
            runs.append([seg])
    return runs


def _other_language(ctx: CheckContext, run: list[TranscriptSegment]) -> Finding:
    """One finding for a stretch heard in another language, with what was heard and how sure the
    recogniser was that it is not Mandarin (1 − its probability of Mandarin)."""
    counts: dict[str, float] = {}
    for seg in run:
        lang = seg.language or "und"
        counts[lang] = counts.get(lang, 0.0) + seg.end - seg.start
    heard = max(counts, key=lambda lang: counts[lang])
    probs = [s.language_probability for s in run if s.language_probability is not None]
    mandarin = max(probs) if probs else None
    a, b = run[0].start, run[-1].end
    quote = " ".join(s.text for s in run)
    if len(quote) > QUOTE_CHARS:
        quote = quote[: QUOTE_CHARS - 1] + "…"
    name = LANGUAGE_NAMES.get(heard, heard)
    message = (
        msg("finding.transcript.not_mandarin", language=pair(name, heard), seconds=b - a)
        if mandarin is None
        else msg(
            "finding.transcript.not_mandarin_with_odds",
            language=pair(name, heard),
            seconds=b - a,
            probability=mandarin,
        )
    )
    return finding(
        ctx,
        ID,
        Severity.MAJOR,
        message,
        start=a,
        end=b,
        quote=quote,
        quote_start=a,
        quote_end=b,
        confidence=None if mandarin is None else round(1.0 - mandarin, 3),
    )


def unheard(ctx: CheckContext) -> list[tuple[float, float]]:
    """Regions of voice activity (``ctx.speech``: the VAD's, pauses of 0.3 s or more apart) that no
    transcript segment, Mandarin or other, touches (± ``COVER_PAD``), joined when closer than
    ``UNHEARD_GAP``, of ``min_unheard_seconds`` of voice or more. A region that a segment touches
    counts as heard (the recogniser's times are not exact enough to judge parts of a region), so a
    phrase in another language with no pause before the Mandarin around it is not found here."""
    covered = [
        (s.start - COVER_PAD, s.end + COVER_PAD) for s in (*(ctx.transcript or ()), *ctx.other_language)
    ]
    pieces = [(a, b) for a, b in ctx.speech if not any(c0 < b and a < c1 for c0, c1 in covered)]
    runs: list[list[tuple[float, float]]] = []
    for p in pieces:
        if runs and p[0] - runs[-1][-1][1] < UNHEARD_GAP:
            runs[-1].append(p)
        else:
            runs.append([p])
    need = ctx.threshold(ID, "min_unheard_seconds")
    return [(r[0][0], r[-1][1]) for r in runs if sum(b - a for a, b in r) >= need]


def run(ctx: CheckContext) -> CheckResult:
    if ctx.transcript is None:
        return not_run(ID, ctx.asr_error or ctx.audio_error or "没有音频可转写 / no audio to transcribe")
    segs = ctx.transcript
    scored = [s for s in segs if s.confidence is not None]
    seconds = sum(s.end - s.start for s in scored)
    conf = (
        round(sum((s.confidence or 0.0) * (s.end - s.start) for s in scored) / max(1e-6, seconds), 3)
        if scored
        else None
    )
    sound = round(sum(b - a for a, b in ctx.speech), 2)
    other = ctx.other_language
    metrics = {
        "segments": len(segs),
        "characters": sum(len(s.text) for s in segs),
        "mean_confidence": conf,
        "speech_seconds": sound,
        "other_language_segments": len(other),
        "other_language_seconds": round(sum(s.end - s.start for s in other), 2),
    }
    out = [_other_language(ctx, r) for r in _runs(other)]
    holes = unheard(ctx) if segs or other else []  # none heard at all: the finding below
    metrics["unheard_seconds"] = round(sum(b - a for a, b in holes), 2)
    for a, b in holes:
        out.append(
            finding(
                ctx,
                ID,
                Severity.MINOR,
                msg("finding.transcript.unheard_speech", start=a, end=b),
                start=a,
                end=b,
            )
        )
    if not segs and not other and sound >= ctx.threshold(ID, "min_sound_seconds"):
        out.append(
            finding(
                ctx,
                ID,
                Severity.MAJOR,
                msg("finding.transcript.sound_but_mandarin_speech_recognised", sound=sound),
                start=ctx.speech[0][0],
                end=ctx.speech[-1][1],
            )
        )
    if conf is not None and conf < ctx.threshold(ID, "min_confidence"):
        out.append(
            finding(
                ctx,
                ID,
                Severity.MINOR,
                msg("finding.transcript.low_transcription_confidence_verify_listening", conf=conf),
            )
        )
    return result(ID, out, metrics, confidence=conf)


CHECK = FunctionCheck(ID, run)
