from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dualrec.db.models import SensitiveWordRow

__all__ = ["SensitiveWordRepository"]


class SensitiveWordRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def all(self) -> tuple[str, ...]:
        return tuple(self._s.scalars(select(SensitiveWordRow.word).order_by(SensitiveWordRow.word)))

    def replace(self, words: tuple[str, ...], *, by: str) -> tuple[list[str], list[str]]:
        """Makes the list exactly ``words``; returns (added, removed)."""
        current = set(self.all())
        wanted = set(words)
        added, removed = sorted(wanted - current), sorted(current - wanted)
        if removed:
            self._s.execute(delete(SensitiveWordRow).where(SensitiveWordRow.word.in_(removed)))
        now = datetime.now(UTC)
        self._s.add_all(SensitiveWordRow(word=w, created_at=now, created_by=by) for w in added)
        self._s.flush()
        return added, removed
