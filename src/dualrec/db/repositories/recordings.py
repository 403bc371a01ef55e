from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dualrec.core.recordings import Recording
from dualrec.db.models import BranchRow, RecordingRow

__all__ = ["RecordingRepository"]


def _to_core(row: RecordingRow, branch: BranchRow) -> Recording:
    return Recording(
        id=row.id,
        branch_id=row.branch_id,
        branch_path=branch.path,
        created_by=row.created_by,
        running_no=row.running_no,
        filename=row.filename,
        content_type=row.content_type,
        size=row.size,
        sha256=row.sha256,
        blob_key=row.blob_key,
        status=row.status,
        created_at=row.created_at,
        updated_at=row.updated_at,
        inputs=dict(row.inputs or {}),
        job_id=row.job_id,
        verdict=row.verdict,
        risk_score=row.risk_score,
        summary=row.summary,
        artifacts=row.artifacts,
        error=row.error,
        finished_at=row.finished_at,
    )


class RecordingRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, rec: Recording) -> None:
        self._s.add(
            RecordingRow(
                id=rec.id,
                branch_id=rec.branch_id,
                created_by=rec.created_by,
                running_no=rec.running_no,
                filename=rec.filename,
                content_type=rec.content_type,
                size=rec.size,
                sha256=rec.sha256,
                blob_key=rec.blob_key,
                inputs=rec.inputs,
                status=rec.status,
                created_at=rec.created_at,
                updated_at=rec.updated_at,
            )
        )
        self._s.flush()

    def get(self, recording_id: str) -> Recording | None:
        pair = self._s.execute(
            select(RecordingRow, BranchRow)
            .join(BranchRow, RecordingRow.branch_id == BranchRow.id)
            .where(RecordingRow.id == recording_id)
        ).first()
        return _to_core(pair[0], pair[1]) if pair else None

    def search(
        self,
        *,
        scope_path: str,
        running_no: str | None,
        status: str | None,
        verdict: str | None,
        offset: int,
        limit: int,
    ) -> tuple[list[Recording], int]:
        stmt = (
            select(RecordingRow, BranchRow)
            .join(BranchRow, RecordingRow.branch_id == BranchRow.id)
            .where(BranchRow.path.startswith(scope_path, autoescape=True))
        )
        if running_no:
            stmt = stmt.where(RecordingRow.running_no == running_no)
        if status:
            stmt = stmt.where(RecordingRow.status == status)
        if verdict:
            stmt = stmt.where(RecordingRow.verdict == verdict)
        total = self._s.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = self._s.execute(
            stmt.order_by(RecordingRow.created_at.desc()).offset(offset).limit(limit)
        ).all()
        return [_to_core(r[0], r[1]) for r in rows], total

    def update(self, recording_id: str, **fields: Any) -> None:
        row = self._s.get_one(RecordingRow, recording_id)
        for key, value in fields.items():
            if not hasattr(row, key):
                raise AttributeError(key)
            setattr(row, key, value)
        row.updated_at = datetime.now(UTC)
        self._s.flush()
