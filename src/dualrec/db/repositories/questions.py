"""Question banks (with their draw rules), their questions, and script templates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import case, delete, func, insert, select
from sqlalchemy.orm import Session

from dualrec.core.question_banks import (
    QuestionBank,
    ScriptTemplate,
    answers_from_json,
    answers_to_json,
    rules_from_json,
    rules_to_json,
)
from dualrec.core.questions import DrawRule, Question
from dualrec.db.models import QuestionBankRow, QuestionRow, ScriptTemplateRow

__all__ = ["QuestionRepository"]


def _question(row: QuestionRow) -> Question:
    return Question(
        code=row.code,
        bank=row.bank,
        text=row.text,
        answers=answers_from_json(row.answers),
        difficulty=row.difficulty,
        enabled=row.enabled,
    )


def _template(row: ScriptTemplateRow) -> ScriptTemplate:
    return ScriptTemplate(
        id=row.id,
        business_type=row.business_type,
        node_type=row.node_type,
        title=row.title,
        text=row.text,
        updated_at=row.updated_at,
    )


def _bank(row: QuestionBankRow, total: int = 0, enabled: int = 0) -> QuestionBank:
    return QuestionBank(
        code=row.code,
        name=row.name,
        rules=rules_from_json(row.draw_rules),
        question_count=total,
        enabled_count=enabled,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


class QuestionRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    # ------------------------------------------------------------------ banks

    def banks(self, codes: Sequence[str] | None = None) -> list[QuestionBank]:
        """Banks in code order, each with its question counts (all, enabled)."""
        counts = (
            select(
                QuestionRow.bank,
                func.count().label("total"),
                func.sum(case((QuestionRow.enabled.is_(True), 1), else_=0)).label("enabled"),
            )
            .group_by(QuestionRow.bank)
            .subquery()
        )
        stmt = (
            select(QuestionBankRow, counts.c.total, counts.c.enabled)
            .outerjoin(counts, counts.c.bank == QuestionBankRow.code)
            .order_by(QuestionBankRow.code)
        )
        if codes is not None:
            stmt = stmt.where(QuestionBankRow.code.in_(list(codes)))
        return [
            _bank(row, int(total or 0), int(enabled or 0)) for row, total, enabled in self._s.execute(stmt)
        ]

    def bank(self, code: str) -> QuestionBank | None:
        found = self.banks([code])
        return found[0] if found else None

    def add_bank(self, *, code: str, name: str, rules: Sequence[DrawRule], by: str) -> None:
        self._s.add(
            QuestionBankRow(
                code=code,
                name=name,
                draw_rules=rules_to_json(rules),
                updated_at=datetime.now(UTC),
                updated_by=by,
            )
        )
        self._s.flush()

    def update_bank(self, code: str, *, name: str, rules: Sequence[DrawRule], by: str) -> None:
        row = self._s.get(QuestionBankRow, code)
        assert row is not None
        row.name = name
        row.draw_rules = rules_to_json(rules)
        row.updated_at = datetime.now(UTC)
        row.updated_by = by
        self._s.flush()

    def delete_bank(self, code: str) -> int:
        """Deletes the bank and its questions; returns how many questions went with it."""
        gone = self._s.execute(delete(QuestionRow).where(QuestionRow.bank == code)).rowcount  # type: ignore[attr-defined]
        self._s.execute(delete(QuestionBankRow).where(QuestionBankRow.code == code))
        self._s.flush()
        return int(gone or 0)

    # -------------------------------------------------------------- questions

    def questions(self, bank: str) -> list[Question]:
        rows = self._s.scalars(select(QuestionRow).where(QuestionRow.bank == bank).order_by(QuestionRow.code))
        return [_question(r) for r in rows]

    def question(self, bank: str, code: str) -> Question | None:
        row = self._row(bank, code)
        return _question(row) if row else None

    def save_questions(self, questions: Sequence[Question]) -> None:
        """Creates or updates (by bank + code) every question given; new ones in one bulk insert."""
        if not questions:
            return
        now = datetime.now(UTC)
        banks = sorted({q.bank for q in questions})
        existing = {
            (r.bank, r.code): r
            for r in self._s.scalars(select(QuestionRow).where(QuestionRow.bank.in_(banks)))
        }
        new: dict[tuple[str, str], dict[str, object]] = {}
        for q in questions:
            values = {
                "text": q.text,
                "answers": answers_to_json(q.answers),
                "difficulty": q.difficulty,
                "enabled": q.enabled,
                "updated_at": now,
            }
            row = existing.get((q.bank, q.code))
            if row is None:
                new[(q.bank, q.code)] = {"bank": q.bank, "code": q.code, **values}
                continue
            for name, value in values.items():
                setattr(row, name, value)
        self._s.flush()
        if new:
            self._s.execute(insert(QuestionRow), list(new.values()))

    def delete_question(self, bank: str, code: str) -> bool:
        row = self._row(bank, code)
        if row is None:
            return False
        self._s.delete(row)
        self._s.flush()
        return True

    def _row(self, bank: str, code: str) -> QuestionRow | None:
        return self._s.scalar(select(QuestionRow).where(QuestionRow.bank == bank, QuestionRow.code == code))

    # -------------------------------------------------------------- templates

    def templates(self, business_type: str | None = None) -> list[ScriptTemplate]:
        stmt = select(ScriptTemplateRow).order_by(
            ScriptTemplateRow.business_type, ScriptTemplateRow.node_type, ScriptTemplateRow.title
        )
        if business_type is not None:
            stmt = stmt.where(ScriptTemplateRow.business_type == business_type)
        return [_template(r) for r in self._s.scalars(stmt)]

    def template(self, template_id: int) -> ScriptTemplate | None:
        row = self._s.get(ScriptTemplateRow, template_id)
        return _template(row) if row else None

    def template_by_key(self, business_type: str, node_type: str, title: str) -> ScriptTemplate | None:
        row = self._s.scalar(
            select(ScriptTemplateRow).where(
                ScriptTemplateRow.business_type == business_type,
                ScriptTemplateRow.node_type == node_type,
                ScriptTemplateRow.title == title,
            )
        )
        return _template(row) if row else None

    def save_template(self, t: ScriptTemplate) -> ScriptTemplate:
        """Creates (``id`` 0) or updates the template ``t.id``."""
        row = self._s.get(ScriptTemplateRow, t.id) if t.id else None
        if row is None:
            row = ScriptTemplateRow()
            self._s.add(row)
        row.business_type = t.business_type
        row.node_type = t.node_type
        row.title = t.title
        row.text = t.text
        row.updated_at = datetime.now(UTC)
        self._s.flush()
        return _template(row)

    def delete_template(self, template_id: int) -> bool:
        row = self._s.get(ScriptTemplateRow, template_id)
        if row is None:
            return False
        self._s.delete(row)
        self._s.flush()
        return True
