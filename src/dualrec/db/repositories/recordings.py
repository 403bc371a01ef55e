from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dualrec.core.recordings import Recording
from dualrec.db.models import BranchRow, RecordingRow
from dualrec.db.sealing import FieldSealer, is_sealed

__all__ = ["RecordingRepository"]


PERSONAL_TASK_FIELDS = ("customer_name", "id_number", "phone")  # sealed inside ``inputs.task``


def _map_task_fields(inputs: dict[str, Any], convert: Any) -> dict[str, Any]:
    task = inputs.get("task")
    if not isinstance(task, dict) or not any(task.get(k) for k in PERSONAL_TASK_FIELDS):
        return inputs
    task = {
        **task,
        **{k: convert(task[k]) for k in PERSONAL_TASK_FIELDS if isinstance(task.get(k), str) and task[k]},
    }
    return {**inputs, "task": task}


def _to_core(row: RecordingRow, branch: BranchRow, sealer: FieldSealer | None = None) -> Recording:
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
        inputs=_open_inputs(dict(row.inputs or {}), sealer),
        job_id=row.job_id,
        verdict=row.verdict,
        risk_score=row.risk_score,
        summary=row.summary,
        artifacts=row.artifacts,
        error=row.error,
        finished_at=row.finished_at,
    )


def _open_inputs(inputs: dict[str, Any], sealer: FieldSealer | None) -> dict[str, Any]:
    if sealer is None:
        return inputs
    return _map_task_fields(inputs, lambda v: sealer.open(v) if is_sealed(v) else v)


class RecordingRepository:
    """Customers' names, ID numbers and phones in ``inputs.task`` are sealed at rest (with a sealer)."""

    def __init__(self, session: Session, sealer: FieldSealer | None = None) -> None:
        self._s = session
        self._sealer = sealer

    def _seal_inputs(self, inputs: dict[str, Any]) -> dict[str, Any]:
        sealer = self._sealer
        if sealer is None:
            return inputs
        return _map_task_fields(inputs, lambda v: v if is_sealed(v) else sealer.seal(v))

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
                inputs=self._seal_inputs(rec.inputs),
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
        return _to_core(pair[0], pair[1], self._sealer) if pair else None

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
        return [_to_core(r[0], r[1], self._sealer) for r in rows], total

    def update(self, recording_id: str, **fields: Any) -> None:
        row = self._s.get_one(RecordingRow, recording_id)
        for key, value in fields.items():
            if not hasattr(row, key):
                raise AttributeError(key)
            setattr(row, key, self._seal_inputs(value) if key == "inputs" else value)
        row.updated_at = datetime.now(UTC)
        self._s.flush()
