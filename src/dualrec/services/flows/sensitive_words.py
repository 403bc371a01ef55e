"""The editable sensitive-word list, shared by text review (flows, questions) and QC."""

from __future__ import annotations

from dualrec.core.audit import AuditAction
from dualrec.core.sensitive_words import parse_word_list
from dualrec.db.uow import UnitOfWorkFactory
from dualrec.errors import InvalidInputError
from dualrec.i18n import msg
from dualrec.services.common import audit
from dualrec.services.common.context import Actor

__all__ = ["current_words", "replace_words"]

MAX_WORDS = 5000


def current_words(uows: UnitOfWorkFactory) -> tuple[str, ...]:
    with uows.read() as uow:
        return uow.sensitive_words.all()


def replace_words(uows: UnitOfWorkFactory, *, actor: Actor, words: list[str]) -> tuple[str, ...]:
    clean = parse_word_list("\n".join(words))
    if len(clean) > MAX_WORDS:
        raise InvalidInputError(msg("flows.most_words", MAX_WORDS=MAX_WORDS))
    too_long = [w for w in clean if len(w) > 100]
    if too_long:
        raise InvalidInputError(msg("flows.word_longer_than_100_characters"))
    with uows() as uow:
        added, removed = uow.sensitive_words.replace(clean, by=actor.name)
        if added or removed:
            audit.record(
                uow,
                actor=actor,
                action=AuditAction.SENSITIVE_WORDS_CHANGED,
                target_type="sensitive_words",
                details={"added": added, "removed": removed},
            )
        uow.commit()
        return uow.sensitive_words.all()
