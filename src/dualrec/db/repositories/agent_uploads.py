from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dualrec.core.agent_package import AgentUpload
from dualrec.db.models import BranchRow
from dualrec.db.models_uploads import AgentUploadChunkRow, AgentUploadRow

__all__ = ["AgentUploadRepository"]


def _to_core(row: AgentUploadRow, branch: BranchRow) -> AgentUpload:
    return AgentUpload(
        id=row.id,
        package_id=row.package_id,
        branch_id=row.branch_id,
        branch_path=branch.path,
        created_by=row.created_by,
        running_no=row.running_no,
        business_type=row.business_type,
        manifest=dict(row.manifest),
        size=row.size,
        received=row.received,
        status=row.status,
        created_at=row.created_at,
        updated_at=row.updated_at,
        task_id=row.task_id,
        recording_id=row.recording_id,
        artifacts=row.artifacts,
        error=row.error,
        completed_at=row.completed_at,
    )


class AgentUploadRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, **fields: Any) -> bool:
        """False when a row with the same package id exists (added concurrently)."""
        now = datetime.now(UTC)
        try:
            with self._s.begin_nested():
                self._s.add(AgentUploadRow(created_at=now, updated_at=now, received=0, **fields))
                self._s.flush()
        except IntegrityError:
            return False
        return True

    def _one(self, where: Any, for_update: bool) -> AgentUpload | None:
        stmt = select(AgentUploadRow, BranchRow).join(BranchRow, AgentUploadRow.branch_id == BranchRow.id)
        stmt = stmt.where(where)
        if for_update:
            stmt = stmt.with_for_update(of=AgentUploadRow)
        pair = self._s.execute(stmt).first()
        return _to_core(pair[0], pair[1]) if pair else None

    def get(self, upload_id: str, *, for_update: bool = False) -> AgentUpload | None:
        return self._one(AgentUploadRow.id == upload_id, for_update)

    def by_package(self, package_id: str, *, for_update: bool = False) -> AgentUpload | None:
        return self._one(AgentUploadRow.package_id == package_id, for_update)

    def search(
        self, *, scope_path: str, running_no: str | None, status: str | None, offset: int, limit: int
    ) -> tuple[list[AgentUpload], int]:
        stmt = (
            select(AgentUploadRow, BranchRow)
            .join(BranchRow, AgentUploadRow.branch_id == BranchRow.id)
            .where(BranchRow.path.startswith(scope_path, autoescape=True))
        )
        if running_no:
            stmt = stmt.where(AgentUploadRow.running_no == running_no)
        if status:
            stmt = stmt.where(AgentUploadRow.status == status)
        total = self._s.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = self._s.execute(
            stmt.order_by(AgentUploadRow.created_at.desc(), AgentUploadRow.id).offset(offset).limit(limit)
        ).all()
        return [_to_core(r[0], r[1]) for r in rows], total

    def update(self, upload_id: str, **fields: Any) -> None:
        row = self._s.get_one(AgentUploadRow, upload_id)
        for key, value in fields.items():
            if not hasattr(row, key):
                raise AttributeError(key)
            setattr(row, key, value)
        row.updated_at = datetime.now(UTC)
        self._s.flush()

    def add_chunk(self, upload_id: str, *, start: int, size: int, blob_key: str) -> None:
        self._s.add(
            AgentUploadChunkRow(
                upload_id=upload_id, start=start, size=size, blob_key=blob_key, created_at=datetime.now(UTC)
            )
        )
        self._s.flush()

    def chunks(self, upload_id: str) -> list[tuple[int, int, str]]:
        """(start, size, blob key) of every stored chunk, in content order."""
        rows = self._s.execute(
            select(AgentUploadChunkRow.start, AgentUploadChunkRow.size, AgentUploadChunkRow.blob_key)
            .where(AgentUploadChunkRow.upload_id == upload_id)
            .order_by(AgentUploadChunkRow.start)
        ).all()
        return [(r[0], r[1], r[2]) for r in rows]

    def delete_chunks(self, upload_id: str) -> None:
        self._s.execute(delete(AgentUploadChunkRow).where(AgentUploadChunkRow.upload_id == upload_id))
        self._s.flush()
