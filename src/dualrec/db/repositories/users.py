from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from dualrec.core.identity import User
from dualrec.db.models import BranchRow, UserRow

__all__ = ["UserRepository"]


def _to_core(row: UserRow, branch: BranchRow) -> User:
    return User(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        role=row.role,
        branch_id=row.branch_id,
        branch_path=branch.path,
        branch_name=branch.name,
        is_active=row.is_active,
        failed_logins=row.failed_logins,
        locked_until=row.locked_until,
        created_at=row.created_at,
        password_hash=row.password_hash,
        language=row.language,
    )


class UserRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def _base(self) -> Select[UserRow, BranchRow]:
        return select(UserRow, BranchRow).join(BranchRow, UserRow.branch_id == BranchRow.id)

    def get(self, user_id: int) -> User | None:
        pair = self._s.execute(self._base().where(UserRow.id == user_id)).first()
        return _to_core(pair[0], pair[1]) if pair else None

    def by_username(self, username: str) -> User | None:
        pair = self._s.execute(self._base().where(UserRow.username == username)).first()
        return _to_core(pair[0], pair[1]) if pair else None

    def search(
        self, *, scope_path: str, q: str | None, branch_path: str | None, offset: int, limit: int
    ) -> tuple[list[User], int]:
        stmt = self._base().where(BranchRow.path.startswith(scope_path, autoescape=True))
        if branch_path:
            stmt = stmt.where(BranchRow.path.startswith(branch_path, autoescape=True))
        if q:
            stmt = stmt.where(
                or_(
                    UserRow.username.contains(q, autoescape=True),
                    UserRow.display_name.contains(q, autoescape=True),
                )
            )
        total = self._s.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = self._s.execute(stmt.order_by(UserRow.id).offset(offset).limit(limit)).all()
        return [_to_core(r[0], r[1]) for r in rows], total

    def add(self, *, username: str, display_name: str, password_hash: str, role: str, branch_id: int) -> int:
        now = datetime.now(UTC)
        row = UserRow(
            username=username,
            display_name=display_name,
            password_hash=password_hash,
            role=role,
            branch_id=branch_id,
            is_active=True,
            failed_logins=0,
            created_at=now,
            updated_at=now,
        )
        self._s.add(row)
        self._s.flush()
        return row.id

    def update(self, user_id: int, **fields: object) -> None:
        row = self._s.get_one(UserRow, user_id)
        for key, value in fields.items():
            if not hasattr(row, key):
                raise AttributeError(key)
            setattr(row, key, value)
        row.updated_at = datetime.now(UTC)
        self._s.flush()

    def delete(self, user_id: int) -> None:
        self._s.delete(self._s.get_one(UserRow, user_id))
        self._s.flush()

    def count(self) -> int:
        return self._s.scalar(select(func.count()).select_from(UserRow)) or 0

    def count_with_role(self, role: str) -> int:
        return self._s.scalar(select(func.count()).where(UserRow.role == role)) or 0
