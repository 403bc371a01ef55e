"""Built-in checks, one module each; the order here is the report order."""

from __future__ import annotations

from dualrec.checks import llm
from dualrec.checks.base import Check
from dualrec.checks.builtin import (
    answers,
    black_screen,
    call_quality,
    face_presence,
    file_integrity,
    frozen_picture,
    id_card,
    identity_consistency,
    identity_match,
    live_call,
    liveness,
    people_count,
    portrait,
    script_coverage,
    sensitive_words,
    silence,
    technical_quality,
    transcript,
)

__all__ = ["BUILTIN_CHECKS"]

BUILTIN_CHECKS: tuple[Check, ...] = (
    file_integrity.CHECK,
    technical_quality.CHECK,
    black_screen.CHECK,
    frozen_picture.CHECK,
    silence.CHECK,
    face_presence.CHECK,
    people_count.CHECK,
    identity_match.CHECK,
    identity_consistency.CHECK,
    liveness.CHECK,
    id_card.CHECK,
    transcript.CHECK,
    script_coverage.CHECK,
    answers.CHECK,
    sensitive_words.CHECK,
    portrait.CHECK,
    call_quality.CHECK,
    live_call.CHECK,  # after the others: weighs the live face alerts against their findings
    llm.CHECK,  # runs after the others (after_others), on their findings
)
