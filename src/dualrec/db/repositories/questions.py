"""Question banks, questions and script templates (filled in by the question-bank work)."""

from __future__ import annotations

from sqlalchemy.orm import Session

__all__ = ["QuestionRepository"]


class QuestionRepository:
    def __init__(self, session: Session) -> None:
        self._s = session
