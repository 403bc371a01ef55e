"""Tasks and attempts. ``id_number``/``phone`` come back SEALED; the tasks service opens them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from dualrec.core.tasks import Attempt, Task
from dualrec.db.models import BranchRow, FlowRow, TaskAttemptRow, TaskRow
from dualrec.db.sealing import FieldSealer

__all__ = ["TaskRepository"]


def _attempt(row: TaskAttemptRow) -> Attempt:
    return Attempt(
        number=row.number,
        status=row.status,
        flow_version=row.flow_version,
        draws=list(row.draws),
        entry_expires_at=row.entry_expires_at,
        created_at=row.created_at,
        reason=row.reason,
        recording_id=row.recording_id,
        result=row.result,
        started_at=row.started_at,
        finished_at=row.finished_at,
    )


class TaskRepository:
    """With a sealer, the customer's name is stored sealed with a blind-index hash (exact search) and
    opened on read; ``id_number``/``phone`` are sealed by the tasks service and returned SEALED."""

    def __init__(self, session: Session, sealer: FieldSealer | None = None) -> None:
        self._s = session
        self._sealer = sealer

    def _customer_name(self, row: TaskRow) -> str:
        if row.customer_name_sealed and self._sealer is not None:
            return self._sealer.open(row.customer_name_sealed)
        return row.customer_name or row.customer_name_sealed

    def _to_core(self, row: TaskRow, branch: BranchRow, flow_code: str, *, with_attempts: bool) -> Task:
        attempts: tuple[Attempt, ...] = ()
        if with_attempts:
            attempts = tuple(
                _attempt(a)
                for a in self._s.scalars(
                    select(TaskAttemptRow)
                    .where(TaskAttemptRow.task_id == row.id)
                    .order_by(TaskAttemptRow.number)
                )
            )
        return Task(
            id=row.id,
            source_key=row.source_key,
            branch_id=row.branch_id,
            branch_path=branch.path,
            created_by=row.created_by,
            business_type=row.business_type,
            business_no=row.business_no,
            contract_no=row.contract_no,
            product=row.product,
            amount=row.amount,
            customer_id=row.customer_id,
            customer_name=self._customer_name(row),
            customer_type=row.customer_type,
            risk_level=row.risk_level,
            id_number=row.id_number_sealed,
            phone=row.phone_sealed,
            documents=list(row.documents),
            callback_url=row.callback_url,
            mode=row.mode,
            flow_id=row.flow_id,
            flow_code=flow_code,
            flow_version=row.flow_version,
            status=row.status,
            attempt_no=row.attempt_no,
            created_at=row.created_at,
            updated_at=row.updated_at,
            finished_at=row.finished_at,
            idempotency_key=row.idempotency_key,
            request_sha256=row.request_sha256,
            attempts=attempts,
        )

    def _select(self) -> Any:
        return (
            select(TaskRow, BranchRow, FlowRow.code)
            .join(BranchRow, TaskRow.branch_id == BranchRow.id)
            .join(FlowRow, TaskRow.flow_id == FlowRow.id)
        )

    def add(self, **fields: Any) -> None:
        now = datetime.now(UTC)
        name = str(fields.get("customer_name") or "")
        if self._sealer is not None and name:
            fields.update(
                customer_name="",
                customer_name_sealed=self._sealer.seal(name),
                customer_name_hash=self._sealer.name_hash(name),
            )
        self._s.add(TaskRow(created_at=now, updated_at=now, **fields))
        self._s.flush()

    def add_attempt(self, task_id: str, **fields: Any) -> None:
        self._s.add(TaskAttemptRow(task_id=task_id, created_at=datetime.now(UTC), **fields))
        self._s.flush()

    def get(self, task_id: str, *, for_update: bool = False) -> Task | None:
        stmt = self._select().where(TaskRow.id == task_id)
        if for_update:
            stmt = stmt.with_for_update(of=TaskRow)
        found = self._s.execute(stmt).first()
        return self._to_core(found[0], found[1], found[2], with_attempts=True) if found else None

    def by_idempotency_key(self, source_key: str, key: str) -> Task | None:
        found = self._s.execute(
            self._select().where(TaskRow.source_key == source_key, TaskRow.idempotency_key == key)
        ).first()
        return self._to_core(found[0], found[1], found[2], with_attempts=True) if found else None

    def search(
        self,
        *,
        scope_path: str,
        filters: dict[str, Any],
        business_types: tuple[str, ...] | None,
        offset: int,
        limit: int,
    ) -> tuple[list[Task], int]:
        stmt = self._select().where(BranchRow.path.startswith(scope_path, autoescape=True))
        for name in (
            "status",
            "business_type",
            "business_no",
            "contract_no",
            "customer_id",
            "id_number_hash",
            "source_key",
        ):
            if filters.get(name):
                stmt = stmt.where(getattr(TaskRow, name) == filters[name])
        if filters.get("customer_name"):  # exact match on the blind index (legacy rows: plaintext)
            name = str(filters["customer_name"])
            legacy = TaskRow.customer_name.contains(name, autoescape=True)
            if self._sealer is None:
                stmt = stmt.where(legacy)
            else:
                stmt = stmt.where(or_(TaskRow.customer_name_hash == self._sealer.name_hash(name), legacy))
        if filters.get("created_from"):
            stmt = stmt.where(TaskRow.created_at >= filters["created_from"])
        if filters.get("created_to"):
            stmt = stmt.where(TaskRow.created_at < filters["created_to"])
        if business_types is not None:
            stmt = stmt.where(TaskRow.business_type.in_(business_types))
        total = self._s.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = self._s.execute(
            stmt.order_by(TaskRow.created_at.desc(), TaskRow.id).offset(offset).limit(limit)
        ).all()
        return [self._to_core(r[0], r[1], r[2], with_attempts=False) for r in rows], total

    def update(self, task_id: str, **fields: Any) -> None:
        row = self._s.get_one(TaskRow, task_id)
        for key, value in fields.items():
            if not hasattr(row, key):
                raise AttributeError(key)
            setattr(row, key, value)
        row.updated_at = datetime.now(UTC)
        self._s.flush()

    def update_attempt(self, task_id: str, number: int, **fields: Any) -> None:
        row = self._s.scalars(
            select(TaskAttemptRow).where(TaskAttemptRow.task_id == task_id, TaskAttemptRow.number == number)
        ).one()
        for key, value in fields.items():
            if not hasattr(row, key):
                raise AttributeError(key)
            setattr(row, key, value)
        self._s.flush()
