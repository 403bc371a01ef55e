from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dualrec.core.branches import Branch, child_path
from dualrec.db.models import BranchRow

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

    def in_use(self, branch_id: int) -> list[str]:
        """What still belongs to the branch, as the names of the tables that point at it (empty:
        nothing): sub-branches, users, API keys, tasks, recordings, review rules and samples, and
        whatever table a later migration adds with a foreign key to branches — the database would
        refuse the delete then (a recording must outlive its branch)."""
        found = []
        for table in BranchRow.metadata.sorted_tables:
            for fk in table.foreign_keys:
                if fk.column is not BranchRow.__table__.c.id:
                    continue
                q = select(fk.parent).where(fk.parent == branch_id).limit(1)
                if self._s.execute(q).first() is not None:
                    found.append(table.name)
                    break
        return found

    def count(self) -> int:
        return self._s.scalar(select(func.count()).select_from(BranchRow)) or 0
