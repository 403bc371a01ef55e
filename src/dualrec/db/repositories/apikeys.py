from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dualrec.core.identity import ApiKey
from dualrec.core.rbac import Permission
from dualrec.db.models import ApiKeyRow, ApiNonceRow, BranchRow

__all__ = ["ApiKeyRepository"]


class ApiKeyRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def _to_core(self, row: ApiKeyRow, secret: str = "") -> ApiKey:
        branch = self._s.get_one(BranchRow, row.branch_id)
        perms = frozenset(Permission(p) for p in row.permissions if p in Permission._value2member_map_)
        return ApiKey(
            id=row.id,
            key_id=row.key_id,
            name=row.name,
            branch_id=row.branch_id,
            branch_path=branch.path,
            business_types=tuple(row.business_types),
            permissions=perms,
            is_active=row.is_active,
            created_at=row.created_at,
            secret=secret,
        )

    def add(
        self,
        *,
        key_id: str,
        name: str,
        secret_encrypted: str,
        branch_id: int,
        business_types: list[str],
        permissions: list[str],
    ) -> ApiKey:
        row = ApiKeyRow(
            key_id=key_id,
            name=name,
            secret_encrypted=secret_encrypted,
            branch_id=branch_id,
            business_types=business_types,
            permissions=permissions,
            is_active=True,
            created_at=datetime.now(UTC),
        )
        self._s.add(row)
        self._s.flush()
        return self._to_core(row)

    def by_key_id(self, key_id: str) -> tuple[ApiKey, str] | None:
        """The key and its encrypted secret."""
        row = self._s.scalar(select(ApiKeyRow).where(ApiKeyRow.key_id == key_id))
        return (self._to_core(row), row.secret_encrypted) if row else None

    def list(self, scope_path: str) -> list[ApiKey]:
        rows = self._s.scalars(
            select(ApiKeyRow)
            .join(BranchRow, ApiKeyRow.branch_id == BranchRow.id)
            .where(BranchRow.path.startswith(scope_path, autoescape=True))
            .order_by(ApiKeyRow.id)
        )
        return [self._to_core(r) for r in rows]

    def deactivate(self, key_id: str) -> None:
        row = self._s.scalar(select(ApiKeyRow).where(ApiKeyRow.key_id == key_id))
        if row:
            row.is_active = False
            self._s.flush()

    def mark_used(self, key_id: str, now: datetime) -> None:
        row = self._s.scalar(select(ApiKeyRow).where(ApiKeyRow.key_id == key_id))
        if row:
            row.last_used_at = now
            self._s.flush()

    def remember_nonce(self, key_id: str, nonce: str, now: datetime) -> bool:
        """False when the nonce was already used (a replay)."""
        try:
            with self._s.begin_nested():
                self._s.add(ApiNonceRow(key_id=key_id, nonce=nonce, seen_at=now))
                self._s.flush()
        except IntegrityError:
            return False
        return True

    def forget_nonces_before(self, cutoff: datetime) -> None:
        self._s.execute(delete(ApiNonceRow).where(ApiNonceRow.seen_at < cutoff))
