from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dualrec.core.identity import UserSession
from dualrec.db.models import SessionRow

__all__ = ["SessionRepository"]


def _to_core(row: SessionRow) -> UserSession:
    return UserSession(
        id_hash=row.id_hash,
        user_id=row.user_id,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        expires_at=row.expires_at,
    )


class SessionRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(
        self, *, id_hash: str, user_id: int, now: datetime, expires_at: datetime, ip: str, user_agent: str
    ) -> None:
        self._s.add(
            SessionRow(
                id_hash=id_hash,
                user_id=user_id,
                created_at=now,
                last_seen_at=now,
                expires_at=expires_at,
                ip=ip[:64],
                user_agent=user_agent[:255],
            )
        )
        self._s.flush()

    def get(self, id_hash: str) -> UserSession | None:
        row = self._s.get(SessionRow, id_hash)
        return _to_core(row) if row else None

    def touch(self, id_hash: str, now: datetime) -> None:
        row = self._s.get(SessionRow, id_hash)
        if row:
            row.last_seen_at = now
            self._s.flush()

    def delete(self, id_hash: str) -> None:
        self._s.execute(delete(SessionRow).where(SessionRow.id_hash == id_hash))

    def delete_for_user(self, user_id: int) -> None:
        self._s.execute(delete(SessionRow).where(SessionRow.user_id == user_id))

    def delete_expired(self, now: datetime) -> int:
        ids = list(self._s.scalars(select(SessionRow.id_hash).where(SessionRow.expires_at < now)))
        if ids:
            self._s.execute(delete(SessionRow).where(SessionRow.id_hash.in_(ids)))
        return len(ids)
