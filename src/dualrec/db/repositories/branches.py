from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dualrec.core.branches import Branch, child_path
from dualrec.db.models import BranchRow, UserRow

__all__ = ["BranchRepository"]


def _to_core(row: BranchRow) -> Branch:
    return Branch(id=row.id, name=row.name, code=row.code, parent_id=row.parent_id, path=row.path)


class BranchRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def get(self, branch_id: int) -> Branch | None:
        row = self._s.get(BranchRow, branch_id)
        return _to_core(row) if row else None

    def by_code(self, code: str) -> Branch | None:
        row = self._s.scalar(select(BranchRow).where(BranchRow.code == code))
        return _to_core(row) if row else None

    def subtree(self, scope_path: str) -> list[Branch]:
        rows = self._s.scalars(
            select(BranchRow)
            .where(BranchRow.path.startswith(scope_path, autoescape=True))
            .order_by(BranchRow.path)
        )
        return [_to_core(r) for r in rows]

    def add(self, *, name: str, code: str, parent: Branch | None) -> Branch:
        row = BranchRow(
            name=name,
            code=code,
            parent_id=parent.id if parent else None,
            path="",
            created_at=datetime.now(UTC),
        )
        self._s.add(row)
        self._s.flush()
        row.path = child_path(parent.path if parent else None, row.id)
        self._s.flush()
        return _to_core(row)

    def update(self, branch_id: int, *, name: str | None = None, code: str | None = None) -> Branch:
        row = self._s.get_one(BranchRow, branch_id)
        if name is not None:
            row.name = name
        if code is not None:
            row.code = code
        self._s.flush()
        return _to_core(row)

    def delete(self, branch_id: int) -> None:
        self._s.delete(self._s.get_one(BranchRow, branch_id))
        self._s.flush()

    def count_children(self, branch_id: int) -> int:
        return self._s.scalar(select(func.count()).where(BranchRow.parent_id == branch_id)) or 0

    def count_users(self, branch_id: int) -> int:
        return self._s.scalar(select(func.count()).where(UserRow.branch_id == branch_id)) or 0

    def count(self) -> int:
        return self._s.scalar(select(func.count()).select_from(BranchRow)) or 0
