"""High-risk rules, the flag they put on recordings, and in-app notices (core/high_risk.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dualrec.core.high_risk import HighRiskFlag, HighRiskRule, Notice, RuleConditions
from dualrec.db.models import BranchRow
from dualrec.db.models_review import HighRiskFlagRow, HighRiskRuleRow, NoticeReadRow, NoticeRow

__all__ = ["HighRiskRepository"]


def _rule(row: HighRiskRuleRow, path: str) -> HighRiskRule:
    return HighRiskRule(
        id=row.id,
        name=row.name,
        enabled=row.enabled,
        branch_id=row.branch_id,
        branch_path=path,
        conditions=RuleConditions.from_json(row.conditions or {}),
        notify_roles=tuple(str(r) for r in row.notify_roles or ()),
        created_by=row.created_by,
        created_at=row.created_at,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
    )


def _flag(row: HighRiskFlagRow) -> HighRiskFlag:
    return HighRiskFlag(
        recording_id=row.recording_id,
        branch_id=row.branch_id,
        rules=tuple(dict(r) for r in row.rules or ()),
        flagged_at=row.flagged_at or row.evaluated_at,
        evaluated_at=row.evaluated_at,
    )


class HighRiskRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    # ---- rules ---------------------------------------------------------------------------------

    def add_rule(self, **fields: Any) -> int:
        row = HighRiskRuleRow(**fields)
        self._s.add(row)
        self._s.flush()
        return row.id

    def update_rule(self, rule_id: int, **fields: Any) -> None:
        row = self._s.get_one(HighRiskRuleRow, rule_id)
        for key, value in fields.items():
            setattr(row, key, value)
        self._s.flush()

    def rule(self, rule_id: int) -> HighRiskRule | None:
        pair = self._s.execute(
            select(HighRiskRuleRow, BranchRow.path)
            .join(BranchRow, HighRiskRuleRow.branch_id == BranchRow.id)
            .where(HighRiskRuleRow.id == rule_id)
        ).first()
        return _rule(pair[0], pair[1]) if pair else None

    def rules(self, *, scope_path: str | None = None, enabled_only: bool = False) -> list[HighRiskRule]:
        stmt = select(HighRiskRuleRow, BranchRow.path).join(
            BranchRow, HighRiskRuleRow.branch_id == BranchRow.id
        )
        if scope_path is not None:
            stmt = stmt.where(BranchRow.path.startswith(scope_path, autoescape=True))
        if enabled_only:
            stmt = stmt.where(HighRiskRuleRow.enabled.is_(True))
        return [_rule(r, p) for r, p in self._s.execute(stmt.order_by(HighRiskRuleRow.id)).all()]

    # ---- flags ---------------------------------------------------------------------------------

    def flag(self, recording_id: str) -> HighRiskFlag | None:
        row = self._s.get(HighRiskFlagRow, recording_id)
        return _flag(row) if row else None

    def flags(self, recording_ids: Sequence[str]) -> dict[str, HighRiskFlag]:
        out: dict[str, HighRiskFlag] = {}
        ids = list(recording_ids)
        for i in range(0, len(ids), 500):
            for row in self._s.scalars(
                select(HighRiskFlagRow).where(HighRiskFlagRow.recording_id.in_(ids[i : i + 500]))
            ).all():
                out[row.recording_id] = _flag(row)
        return out

    def put_flag(
        self, *, recording_id: str, branch_id: int, rules: list[dict[str, Any]], now: datetime
    ) -> tuple[HighRiskFlag | None, HighRiskFlag]:
        """Store an evaluation; returns (the previous one, the new one)."""
        row = self._s.get(HighRiskFlagRow, recording_id, with_for_update=True)
        before = _flag(row) if row is not None else None
        if row is None:
            row = HighRiskFlagRow(recording_id=recording_id, branch_id=branch_id)
            self._s.add(row)
        if rules and not row.high_risk:
            row.flagged_at = now
        row.branch_id, row.high_risk, row.rules, row.evaluated_at = branch_id, bool(rules), rules, now
        self._s.flush()
        return before, _flag(row)

    # ---- notices -------------------------------------------------------------------------------

    def add_notice(self, **fields: Any) -> int:
        row = NoticeRow(**fields)
        self._s.add(row)
        self._s.flush()
        return row.id

    def _visible(self, *, role: str, scope_path: str) -> Any:
        return (
            select(NoticeRow, BranchRow.path)
            .join(BranchRow, NoticeRow.branch_id == BranchRow.id)
            .where(NoticeRow.role == role, BranchRow.path.startswith(scope_path, autoescape=True))
        )

    def notices(
        self, *, role: str, scope_path: str, user_id: int, unread_only: bool, offset: int, limit: int
    ) -> tuple[list[Notice], int, int]:
        """(page, total, unread) of the notices to ``role`` in ``scope_path``, with the user's reads."""
        read = (
            select(NoticeReadRow.notice_id, NoticeReadRow.read_at)
            .where(NoticeReadRow.user_id == user_id)
            .subquery()
        )
        base = (
            self._visible(role=role, scope_path=scope_path)
            .add_columns(read.c.read_at)
            .outerjoin(read, read.c.notice_id == NoticeRow.id)
        )
        unread_stmt = base.where(read.c.read_at.is_(None))
        unread = self._s.scalar(select(func.count()).select_from(unread_stmt.subquery())) or 0
        stmt = unread_stmt if unread_only else base
        total = self._s.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = self._s.execute(
            stmt.order_by(NoticeRow.created_at.desc(), NoticeRow.id.desc()).offset(offset).limit(limit)
        ).all()
        return [self._notice(r, p, at) for r, p, at in rows], total, unread

    def notice(self, notice_id: int, *, role: str, scope_path: str) -> Notice | None:
        pair = self._s.execute(
            self._visible(role=role, scope_path=scope_path).where(NoticeRow.id == notice_id)
        ).first()
        return self._notice(pair[0], pair[1], None) if pair else None

    def mark_read(self, notice_ids: Sequence[int], user_id: int, now: datetime) -> int:
        done = set(
            self._s.scalars(
                select(NoticeReadRow.notice_id).where(
                    and_(NoticeReadRow.user_id == user_id, NoticeReadRow.notice_id.in_(list(notice_ids)))
                )
            ).all()
        )
        added = 0
        for nid in notice_ids:
            if nid in done:
                continue
            try:
                with self._s.begin_nested():
                    self._s.add(NoticeReadRow(notice_id=nid, user_id=user_id, read_at=now))
                    self._s.flush()
                added += 1
            except IntegrityError:  # read meanwhile in another tab
                pass
        return added

    def visible_ids(self, *, role: str, scope_path: str) -> list[int]:
        return list(
            self._s.scalars(
                select(NoticeRow.id)
                .join(BranchRow, NoticeRow.branch_id == BranchRow.id)
                .where(NoticeRow.role == role, BranchRow.path.startswith(scope_path, autoescape=True))
            ).all()
        )

    @staticmethod
    def _notice(row: NoticeRow, path: str, read_at: datetime | None) -> Notice:
        return Notice(
            id=row.id,
            kind=row.kind,
            role=row.role,
            branch_id=row.branch_id,
            branch_path=path,
            recording_id=row.recording_id,
            title=row.title,
            body=dict(row.body or {}),
            created_at=row.created_at,
            read_at=read_at,
        )
