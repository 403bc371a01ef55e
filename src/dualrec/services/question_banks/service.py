"""Question banks, their questions and draw rules, and script templates — with text review.

Every question and template text is checked against the editable sensitive-word list when it is
saved; the hits go back to the caller (word + offset, for highlighting). A question with hits is
saved disabled — never drawn — unless the caller may override the review
(``flows:override_review``) and gives a reason, or a reviewer approves it later; either is audited.
The review follows the text: a question whose text did not change keeps its approval.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from dualrec.core.audit import AuditAction
from dualrec.core.question_banks import (
    Problem,
    QuestionBank,
    ReviewHit,
    ScriptTemplate,
    Shortfall,
    check_code,
    check_name,
    check_question,
    check_rules,
    check_template,
    review_text,
    rules_to_json,
    shortfalls,
)
from dualrec.core.questions import DrawRule, Question
from dualrec.core.rbac import Permission
from dualrec.db.uow import UnitOfWork, UnitOfWorkFactory
from dualrec.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from dualrec.i18n import msg
from dualrec.services.common import audit
from dualrec.services.common.context import Actor

__all__ = [
    "BankDetail",
    "SavedQuestion",
    "SavedTemplate",
    "approve_question",
    "bank_questions",
    "bank_rules",
    "create_bank",
    "delete_bank",
    "delete_question",
    "delete_template",
    "get_bank",
    "get_question",
    "get_template",
    "list_banks",
    "list_questions",
    "list_templates",
    "require_override",
    "review_outcome",
    "save_question",
    "save_template",
    "update_bank",
]


@dataclass(frozen=True)
class BankDetail:
    bank: QuestionBank
    shortfalls: tuple[Shortfall, ...]
    questions: tuple[Question, ...] = ()


@dataclass(frozen=True)
class SavedQuestion:
    question: Question
    hits: tuple[ReviewHit, ...]
    held_for_review: bool  # saved disabled because of ``hits``
    created: bool = False


@dataclass(frozen=True)
class SavedTemplate:
    template: ScriptTemplate
    hits: tuple[ReviewHit, ...]


def _invalid(problems: Sequence[Problem]) -> InvalidInputError:
    return InvalidInputError(
        "; ".join(p.message for p in problems),
        details={"fields": [{"field": p.field, "problem": p.message} for p in problems]},
    )


def _hits(hits: Sequence[ReviewHit]) -> list[dict[str, object]]:
    return [{"field": h.field, "word": h.word, "index": h.index} for h in hits]


# -------------------------------------------------------------------------- for the task service


def bank_questions(uow: UnitOfWork, bank: str) -> list[Question]:
    """Every question of ``bank`` (disabled ones too: the draw leaves them out itself)."""
    return uow.questions.questions(bank)


def bank_rules(uow: UnitOfWork, bank: str) -> list[DrawRule]:
    found = uow.questions.bank(bank)
    if found is None:
        raise NotFoundError(msg("question_banks.question_bank_found", bank=bank), details={"bank": bank})
    return list(found.rules)


# ---------------------------------------------------------------------------------------- review


def review_outcome(
    q: Question, hits: Sequence[ReviewHit], previous: Question | None, *, override: bool
) -> tuple[Question, bool]:
    """The question as saved and whether it is held (disabled) for review."""
    if not hits or not q.enabled or override:
        return q, False
    if previous is not None and previous.enabled and previous.text == q.text:
        return q, False  # this very text was approved before
    return replace(q, enabled=False), True


def require_override(uows: UnitOfWorkFactory, actor: Actor, reason: str | None) -> str:
    """The reason, once the actor is known to be allowed to override the review."""
    if actor.principal is not None and not actor.principal.can(Permission.FLOWS_OVERRIDE_REVIEW):
        permission = Permission.FLOWS_OVERRIDE_REVIEW.value
        audit.record_now(
            uows,
            actor=actor,
            action=AuditAction.PERMISSION_DENIED,
            target_type="review_override",
            outcome="denied",
            details={"permission": permission},
        )
        raise PermissionDeniedError(
            msg("question_banks.forbidden_overriding_review_requires", permission=permission),
            details={"permission": permission},
        )
    if not reason or not reason.strip():
        raise InvalidInputError(msg("question_banks.override_needs_reason"))
    return reason.strip()


# ----------------------------------------------------------------------------------------- banks


def list_banks(uows: UnitOfWorkFactory) -> list[BankDetail]:
    with uows.read() as uow:
        return [
            BankDetail(b, tuple(shortfalls(uow.questions.questions(b.code), b.rules)))
            for b in uow.questions.banks()
        ]


def _bank(uow: UnitOfWork, code: str) -> QuestionBank:
    found = uow.questions.bank(code)
    if found is None:
        raise NotFoundError(msg("question_banks.question_bank_found_2", code=code), details={"bank": code})
    return found


def get_bank(uows: UnitOfWorkFactory, code: str) -> BankDetail:
    with uows() as uow:
        bank = _bank(uow, code)
        questions = uow.questions.questions(code)
        return BankDetail(bank, tuple(shortfalls(questions, bank.rules)), tuple(questions))


def _check_bank(name: str, rules: Sequence[DrawRule]) -> None:
    problems = check_name(name) + check_rules(rules)
    if problems:
        raise _invalid(problems)


def create_bank(
    uows: UnitOfWorkFactory, *, actor: Actor, code: str, name: str, rules: Sequence[DrawRule]
) -> BankDetail:
    problems = check_code(code)
    if problems:
        raise _invalid(problems)
    _check_bank(name, rules)
    with uows() as uow:
        if uow.questions.bank(code) is not None:
            raise ConflictError(msg("question_banks.question_bank_exists", code=code), details={"bank": code})
        uow.questions.add_bank(code=code, name=name, rules=rules, by=actor.name)
        audit.record(
            uow,
            actor=actor,
            action=AuditAction.QUESTIONS_CHANGED,
            target_type="question_bank",
            target_id=code,
            details={"op": "bank_created", "name": name, "rules": rules_to_json(rules)},
        )
        uow.commit()
        return BankDetail(_bank(uow, code), tuple(shortfalls([], rules)))


def update_bank(
    uows: UnitOfWorkFactory,
    *,
    actor: Actor,
    code: str,
    name: str | None = None,
    rules: Sequence[DrawRule] | None = None,
) -> BankDetail:
    with uows() as uow:
        bank = _bank(uow, code)
        new_name = bank.name if name is None else name
        new_rules = tuple(bank.rules if rules is None else rules)
        _check_bank(new_name, new_rules)
        uow.questions.update_bank(code, name=new_name, rules=new_rules, by=actor.name)
        audit.record(
            uow,
            actor=actor,
            action=AuditAction.QUESTIONS_CHANGED,
            target_type="question_bank",
            target_id=code,
            details={
                "op": "bank_updated",
                "name": [bank.name, new_name],
                "rules": [rules_to_json(bank.rules), rules_to_json(new_rules)],
            },
        )
        uow.commit()
        questions = uow.questions.questions(code)
        return BankDetail(_bank(uow, code), tuple(shortfalls(questions, new_rules)))


def delete_bank(uows: UnitOfWorkFactory, *, actor: Actor, code: str) -> None:
    with uows() as uow:
        bank = _bank(uow, code)
        gone = uow.questions.delete_bank(code)
        audit.record(
            uow,
            actor=actor,
            action=AuditAction.QUESTIONS_CHANGED,
            target_type="question_bank",
            target_id=code,
            details={"op": "bank_deleted", "name": bank.name, "questions_deleted": gone},
        )
        uow.commit()


# ------------------------------------------------------------------------------------- questions


def list_questions(uows: UnitOfWorkFactory, bank: str) -> list[Question]:
    with uows() as uow:
        _bank(uow, bank)
        return uow.questions.questions(bank)


def get_question(uows: UnitOfWorkFactory, bank: str, code: str) -> Question:
    with uows() as uow:
        _bank(uow, bank)
        found = uow.questions.question(bank, code)
    if found is None:
        raise NotFoundError(
            msg("question_banks.question_found", code=code), details={"bank": bank, "code": code}
        )
    return found


def save_question(
    uows: UnitOfWorkFactory,
    *,
    actor: Actor,
    question: Question,
    create: bool,
    override: bool = False,
    override_reason: str | None = None,
) -> SavedQuestion:
    """Creates (``create``) or replaces a question, after the review (see the module docstring)."""
    problems = check_question(question)
    if problems:
        raise _invalid(problems)
    reason = require_override(uows, actor, override_reason) if override else None
    with uows() as uow:
        _bank(uow, question.bank)
        previous = uow.questions.question(question.bank, question.code)
        if create and previous is not None:
            raise ConflictError(
                msg("question_banks.question_exists", code=question.code),
                details={"bank": question.bank, "code": question.code},
            )
        if not create and previous is None:
            raise NotFoundError(
                msg("question_banks.question_found", code=question.code),
                details={"bank": question.bank, "code": question.code},
            )
        hits = review_text("text", question.text, uow.sensitive_words.all())
        saved, held = review_outcome(question, hits, previous, override=reason is not None)
        uow.questions.save_questions([saved])
        audit.record(
            uow,
            actor=actor,
            action=AuditAction.QUESTIONS_CHANGED,
            target_type="question_bank",
            target_id=question.bank,
            details={
                "op": "question_created" if create else "question_updated",
                "question": question.code,
                "enabled": saved.enabled,
                "held_for_review": held,
                "hits": _hits(hits),
            },
        )
        if reason is not None and hits and question.enabled:
            _record_override(uow, actor, saved, hits, reason)
        uow.commit()
    return SavedQuestion(saved, tuple(hits), held, created=create)


def _record_override(
    uow: UnitOfWork, actor: Actor, q: Question, hits: Sequence[ReviewHit], reason: str
) -> None:
    audit.record(
        uow,
        actor=actor,
        action=AuditAction.FLOW_REVIEW_OVERRIDDEN,
        target_type="question_bank",
        target_id=q.bank,
        details={"question": q.code, "reason": reason, "hits": _hits(hits)},
    )


def approve_question(
    uows: UnitOfWorkFactory, *, actor: Actor, bank: str, code: str, reason: str | None
) -> SavedQuestion:
    """A reviewer enables a question held because of sensitive words."""
    why = require_override(uows, actor, reason)
    with uows() as uow:
        _bank(uow, bank)
        q = uow.questions.question(bank, code)
        if q is None:
            raise NotFoundError(msg("question_banks.question_found", code=code))
        hits = review_text("text", q.text, uow.sensitive_words.all())
        if q.enabled or not hits:
            raise ConflictError(
                msg("question_banks.question_held_review_enabled_sensitive"),
                details={"bank": bank, "code": code, "enabled": q.enabled},
            )
        saved = replace(q, enabled=True)
        uow.questions.save_questions([saved])
        _record_override(uow, actor, saved, hits, why)
        uow.commit()
    return SavedQuestion(saved, tuple(hits), False)


def delete_question(uows: UnitOfWorkFactory, *, actor: Actor, bank: str, code: str) -> None:
    with uows() as uow:
        _bank(uow, bank)
        if not uow.questions.delete_question(bank, code):
            raise NotFoundError(msg("question_banks.question_found", code=code))
        audit.record(
            uow,
            actor=actor,
            action=AuditAction.QUESTIONS_CHANGED,
            target_type="question_bank",
            target_id=bank,
            details={"op": "question_deleted", "question": code},
        )
        uow.commit()


# ------------------------------------------------------------------------------------- templates


def list_templates(uows: UnitOfWorkFactory, business_type: str | None = None) -> list[ScriptTemplate]:
    with uows.read() as uow:
        return uow.questions.templates(business_type)


def get_template(uows: UnitOfWorkFactory, template_id: int) -> ScriptTemplate:
    with uows.read() as uow:
        found = uow.questions.template(template_id)
    if found is None:
        raise NotFoundError(msg("question_banks.script_template_found"), details={"id": template_id})
    return found


def save_template(uows: UnitOfWorkFactory, *, actor: Actor, template: ScriptTemplate) -> SavedTemplate:
    """Creates (``id`` 0) or updates a template; sensitive words are reported, not blocked here:
    a template is copied into flows, and publishing a flow applies the review."""
    problems = check_template(template)
    if problems:
        raise _invalid(problems)
    with uows() as uow:
        if template.id and uow.questions.template(template.id) is None:
            raise NotFoundError(msg("question_banks.script_template_found"), details={"id": template.id})
        same = uow.questions.template_by_key(template.business_type, template.node_type, template.title)
        if same is not None and same.id != template.id:
            raise ConflictError(
                msg("question_banks.template_title_exists_business_node"),
                details={"id": same.id},
            )
        words = uow.sensitive_words.all()
        hits = review_text("title", template.title, words) + review_text("text", template.text, words)
        saved = uow.questions.save_template(template)
        audit.record(
            uow,
            actor=actor,
            action=AuditAction.QUESTIONS_CHANGED,
            target_type="script_template",
            target_id=saved.id,
            details={
                "op": "template_updated" if template.id else "template_created",
                "business_type": saved.business_type,
                "node_type": saved.node_type,
                "title": saved.title,
                "hits": _hits(hits),
            },
        )
        uow.commit()
    return SavedTemplate(saved, tuple(hits))


def delete_template(uows: UnitOfWorkFactory, *, actor: Actor, template_id: int) -> None:
    with uows() as uow:
        found = uow.questions.template(template_id)
        if found is None or not uow.questions.delete_template(template_id):
            raise NotFoundError(msg("question_banks.script_template_found"), details={"id": template_id})
        audit.record(
            uow,
            actor=actor,
            action=AuditAction.QUESTIONS_CHANGED,
            target_type="script_template",
            target_id=template_id,
            details={"op": "template_deleted", "title": found.title},
        )
        uow.commit()
