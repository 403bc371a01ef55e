from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dualrec.core.identity import CustomRole
from dualrec.core.rbac import Permission
from dualrec.db.models import RoleRow

__all__ = ["RoleRepository"]


def _to_core(row: RoleRow) -> CustomRole:
    perms = frozenset(Permission(p) for p in row.permissions if p in Permission._value2member_map_)
    return CustomRole(id=row.id, name_zh=row.name_zh, name_en=row.name_en, permissions=perms)


class RoleRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def all(self) -> list[CustomRole]:
        return [_to_core(r) for r in self._s.scalars(select(RoleRow).order_by(RoleRow.id))]

    def get(self, role_id: str) -> CustomRole | None:
        row = self._s.get(RoleRow, role_id)
        return _to_core(row) if row else None

    def add(self, role: CustomRole) -> None:
        self._s.add(
            RoleRow(
                id=role.id,
                name_zh=role.name_zh,
                name_en=role.name_en,
                permissions=sorted(role.permissions),
                created_at=datetime.now(UTC),
            )
        )
        self._s.flush()

    def update(self, role: CustomRole) -> None:
        row = self._s.get_one(RoleRow, role.id)
        row.name_zh, row.name_en, row.permissions = role.name_zh, role.name_en, sorted(role.permissions)
        self._s.flush()

    def delete(self, role_id: str) -> None:
        self._s.delete(self._s.get_one(RoleRow, role_id))
        self._s.flush()
