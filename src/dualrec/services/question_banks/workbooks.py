"""Excel import and export of question banks, draw rules and script templates.

Import is all or nothing: every row is checked first, and only a workbook without a single error
is written, in one transaction. Questions upsert by bank + code, templates by business type + node
type + title; a bank listed in 「抽题规则」 gets exactly the rules listed. A row identical to what is
stored is left alone, so importing an export changes nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from dualrec.core.audit import AuditAction
from dualrec.core.question_banks import QuestionBank, ReviewHit, ScriptTemplate, review_text, rules_to_json
from dualrec.core.questions import DrawRule, Question
from dualrec.db.uow import UnitOfWork, UnitOfWorkFactory
from dualrec.errors import InvalidInputError, NotFoundError
from dualrec.i18n import msg
from dualrec.services.common import audit
from dualrec.services.common.context import Actor
from dualrec.services.question_banks.service import require_override, review_outcome
from dualrec.services.question_banks.workbook_codec import (
    MAX_LISTED_ERRORS,
    ParsedWorkbook,
    RowError,
    question_row,
    read_workbook,
    rule_row,
    template_row,
    write_workbook,
)
from dualrec.services.question_banks.workbook_format import SHEET_QUESTIONS, SHEET_TEMPLATES

__all__ = ["ImportResult", "export_workbook", "import_workbook"]


@dataclass
class ImportResult:
    dry_run: bool
    sha256: str
    rows: int = 0
    banks_created: int = 0
    banks_updated: int = 0
    questions_created: int = 0
    questions_updated: int = 0
    questions_unchanged: int = 0
    templates_created: int = 0
    templates_updated: int = 0
    templates_unchanged: int = 0
    #: questions saved disabled because of sensitive words, and template texts with hits
    review: list[dict[str, Any]] = field(default_factory=list)

    @property
    def held_for_review(self) -> int:
        return sum(1 for r in self.review if r["held_for_review"])

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in self.__dict__.items() if isinstance(v, int) and not isinstance(v, bool)}


def _row_errors(errors: list[RowError]) -> InvalidInputError:
    listed = errors[:MAX_LISTED_ERRORS]
    return InvalidInputError(
        msg("question_banks.problems_workbook_nothing_imported", len_errors=len(errors)),
        details={
            "error_count": len(errors),
            "row_errors": [e.as_dict() for e in listed],
            "row_errors_truncated": len(errors) > len(listed),
        },
    )


def import_workbook(
    uows: UnitOfWorkFactory,
    *,
    actor: Actor,
    data: bytes,
    filename: str = "",
    dry_run: bool = False,
    override: bool = False,
    override_reason: str | None = None,
) -> ImportResult:
    """Checks the whole workbook, then writes it (unless ``dry_run``) or raises with every error."""
    reason = require_override(uows, actor, override_reason) if override else None
    parsed, errors = read_workbook(data)
    if errors:
        raise _row_errors(errors)
    result = ImportResult(dry_run=dry_run, sha256=hashlib.sha256(data).hexdigest(), rows=parsed.rows)
    with uows() as uow:
        words = uow.sensitive_words.all()
        _banks(uow, actor, parsed, result, apply=not dry_run)
        overridden = _questions(uow, parsed, words, result, override=reason is not None, apply=not dry_run)
        _templates(uow, parsed, words, result, apply=not dry_run)
        if dry_run:
            return result
        audit.record(
            uow,
            actor=actor,
            action=AuditAction.QUESTIONS_IMPORTED,
            target_type="question_bank",
            target_id=",".join(sorted({q.bank for _, q in parsed.questions} | set(parsed.rules)))[:64],
            details={
                "file": filename[:200],
                "sha256": result.sha256,
                **result.counts(),
                "held_for_review": result.held_for_review,
            },
        )
        if overridden:
            audit.record(
                uow,
                actor=actor,
                action=AuditAction.FLOW_REVIEW_OVERRIDDEN,
                target_type="question_import",
                target_id=result.sha256[:64],
                details={"reason": reason, "questions": overridden[:500], "count": len(overridden)},
            )
        uow.commit()
    return result


def _banks(
    uow: UnitOfWork, actor: Actor, parsed: ParsedWorkbook, result: ImportResult, *, apply: bool
) -> None:
    named = {q.bank for _, q in parsed.questions} | set(parsed.rules) | set(parsed.bank_names)
    existing = {b.code: b for b in uow.questions.banks(sorted(named))}
    for code in sorted(named):
        bank = existing.get(code)
        name = parsed.bank_names.get(code) or (bank.name if bank else code)
        rules: tuple[DrawRule, ...] = tuple(parsed.rules.get(code, bank.rules if bank else ()))
        if bank is None:
            result.banks_created += 1
            if apply:
                uow.questions.add_bank(code=code, name=name, rules=rules, by=actor.name)
        elif name != bank.name or rules_to_json(rules) != rules_to_json(bank.rules):
            result.banks_updated += 1
            if apply:
                uow.questions.update_bank(code, name=name, rules=rules, by=actor.name)


def _questions(
    uow: UnitOfWork,
    parsed: ParsedWorkbook,
    words: tuple[str, ...],
    result: ImportResult,
    *,
    override: bool,
    apply: bool,
) -> list[str]:
    """Counts (and saves) the questions; returns "bank/code" of those enabled by the override."""
    previous: dict[tuple[str, str], Question] = {}
    for bank in sorted({q.bank for _, q in parsed.questions}):
        previous.update({(q.bank, q.code): q for q in uow.questions.questions(bank)})
    changed: list[Question] = []
    overridden: list[str] = []
    for row_no, q in parsed.questions:
        before = previous.get((q.bank, q.code))
        hits = review_text("text", q.text, words)
        saved, held = review_outcome(q, hits, before, override=override)
        if hits:
            result.review.append(_review_entry(SHEET_QUESTIONS, row_no, hits, held, bank=q.bank, code=q.code))
            if override and q.enabled and not (before and before.enabled and before.text == q.text):
                overridden.append(f"{q.bank}/{q.code}")
        if before is None:
            result.questions_created += 1
        elif before == saved:
            result.questions_unchanged += 1
            continue
        else:
            result.questions_updated += 1
        changed.append(saved)
    if apply:
        uow.questions.save_questions(changed)
    return overridden


def _templates(
    uow: UnitOfWork, parsed: ParsedWorkbook, words: tuple[str, ...], result: ImportResult, *, apply: bool
) -> None:
    for row_no, t in parsed.templates:
        hits = review_text("title", t.title, words) + review_text("text", t.text, words)
        if hits:
            result.review.append(
                _review_entry(
                    SHEET_TEMPLATES, row_no, hits, False, business_type=t.business_type, title=t.title
                )
            )
        same = uow.questions.template_by_key(t.business_type, t.node_type, t.title)
        if same is None:
            result.templates_created += 1
        elif same.text == t.text:
            result.templates_unchanged += 1
            continue
        else:
            result.templates_updated += 1
        if apply:
            uow.questions.save_template(ScriptTemplate(same.id if same else 0, *_fields(t)))


def _fields(t: ScriptTemplate) -> tuple[str, str, str, str]:
    return t.business_type, t.node_type, t.title, t.text


def _review_entry(sheet: str, row: int, hits: list[ReviewHit], held: bool, **what: str) -> dict[str, Any]:
    return {
        "sheet": sheet,
        "row": row,
        **what,
        "held_for_review": held,
        "hits": [{"field": h.field, "word": h.word, "index": h.index} for h in hits],
    }


def export_workbook(uows: UnitOfWorkFactory, *, bank: str | None = None) -> bytes:
    """Banks (all, or one), their questions and rules, and the templates of those business types,
    in the import format."""
    with uows.read() as uow:
        banks: list[QuestionBank] = uow.questions.banks(None if bank is None else [bank])
        if bank is not None and not banks:
            raise NotFoundError(msg("question_banks.question_bank_found", bank=bank), details={"bank": bank})
        questions = [question_row(q, b.name) for b in banks for q in uow.questions.questions(b.code)]
        rules = [
            rule_row(b.code, b.name, r) for b in banks for r in sorted(b.rules, key=lambda r: r.risk_level)
        ]
        templates = [template_row(t) for t in uow.questions.templates(bank)]
    return write_workbook(questions, rules, templates)
