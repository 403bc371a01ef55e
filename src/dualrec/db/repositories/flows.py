from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dualrec.core.flow_versions import FlowVersion, StoredFlow
from dualrec.core.routing import RoutingRule
from dualrec.db.models import FlowRow, FlowVersionRow, RoutingRuleRow

__all__ = ["FlowRepository"]


def _flow(row: FlowRow) -> StoredFlow:
    return StoredFlow(
        id=row.id,
        code=row.code,
        name=row.name,
        business_type=row.business_type,
        draft=dict(row.draft),
        draft_updated_at=row.draft_updated_at,
        draft_updated_by=row.draft_updated_by,
        latest_version=row.latest_version,
        archived=row.archived,
        created_at=row.created_at,
    )


def _version(row: FlowVersionRow, code: str) -> FlowVersion:
    return FlowVersion(
        flow_id=row.flow_id,
        code=code,
        version=row.version,
        definition=dict(row.definition),
        sha256=row.sha256,
        published_at=row.published_at,
        published_by=row.published_by,
        changes=list(row.changes),
        review_hits=list(row.review_hits),
        override_reason=row.override_reason,
    )


def _rule(row: RoutingRuleRow) -> RoutingRule:
    return RoutingRule(
        id=row.id,
        priority=row.priority,
        flow_code=row.flow_code,
        mode=row.mode,  # type: ignore[arg-type]
        customer_types=frozenset(row.customer_types),
        business_types=frozenset(row.business_types),
        risk_levels=frozenset(row.risk_levels),
        enabled=row.enabled,
        name=row.name,
    )


class FlowRepository:
    """Flows, their immutable published versions, and the routing rules that pick them."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, *, code: str, name: str, business_type: str, draft: dict[str, Any], by: str) -> StoredFlow:
        now = datetime.now(UTC)
        row = FlowRow(
            code=code,
            name=name,
            business_type=business_type,
            draft=draft,
            draft_updated_at=now,
            draft_updated_by=by,
            latest_version=0,
            archived=False,
            created_at=now,
        )
        self._s.add(row)
        self._s.flush()
        return _flow(row)

    def get(self, code: str, *, for_update: bool = False) -> StoredFlow | None:
        stmt = select(FlowRow).where(FlowRow.code == code)
        if for_update:
            stmt = stmt.with_for_update()
        row = self._s.scalars(stmt).first()
        return _flow(row) if row else None

    def get_by_id(self, flow_id: int) -> StoredFlow | None:
        row = self._s.get(FlowRow, flow_id)
        return _flow(row) if row else None

    def all(self, *, include_archived: bool = False) -> list[StoredFlow]:
        stmt = select(FlowRow).order_by(FlowRow.code)
        if not include_archived:
            stmt = stmt.where(FlowRow.archived.is_(False))
        return [_flow(r) for r in self._s.scalars(stmt)]

    def save_draft(self, code: str, *, name: str, business_type: str, draft: dict[str, Any], by: str) -> None:
        row = self._s.scalars(select(FlowRow).where(FlowRow.code == code)).one()
        row.name, row.business_type, row.draft = name, business_type, draft
        row.draft_updated_at, row.draft_updated_by = datetime.now(UTC), by
        self._s.flush()

    def set_archived(self, code: str, archived: bool) -> None:
        row = self._s.scalars(select(FlowRow).where(FlowRow.code == code)).one()
        row.archived = archived
        self._s.flush()

    def add_version(
        self,
        flow_id: int,
        *,
        version: int,
        definition: dict[str, Any],
        sha256: str,
        by: str,
        changes: list[dict[str, Any]],
        review_hits: list[dict[str, Any]],
        override_reason: str,
    ) -> FlowVersion:
        flow = self._s.get_one(FlowRow, flow_id)
        row = FlowVersionRow(
            flow_id=flow_id,
            version=version,
            definition=definition,
            sha256=sha256,
            published_at=datetime.now(UTC),
            published_by=by,
            changes=changes,
            review_hits=review_hits,
            override_reason=override_reason,
        )
        self._s.add(row)
        flow.latest_version = version
        self._s.flush()
        return _version(row, flow.code)

    def version(self, flow_id: int, version: int) -> FlowVersion | None:
        row = self._s.scalars(
            select(FlowVersionRow).where(FlowVersionRow.flow_id == flow_id, FlowVersionRow.version == version)
        ).first()
        if row is None:
            return None
        return _version(row, self._s.get_one(FlowRow, flow_id).code)

    def versions(self, flow_id: int) -> list[FlowVersion]:
        code = self._s.get_one(FlowRow, flow_id).code
        rows = self._s.scalars(
            select(FlowVersionRow)
            .where(FlowVersionRow.flow_id == flow_id)
            .order_by(FlowVersionRow.version.desc())
        )
        return [_version(r, code) for r in rows]

    # routing rules

    def rules(self) -> list[RoutingRule]:
        rows = self._s.scalars(select(RoutingRuleRow).order_by(RoutingRuleRow.priority, RoutingRuleRow.id))
        return [_rule(r) for r in rows]

    def replace_rules(self, rules: list[RoutingRule]) -> list[RoutingRule]:
        """The rules table becomes exactly ``rules`` (ids are reassigned)."""
        for row in self._s.scalars(select(RoutingRuleRow)):
            self._s.delete(row)
        self._s.flush()
        now = datetime.now(UTC)
        for r in rules:
            self._s.add(
                RoutingRuleRow(
                    name=r.name,
                    priority=r.priority,
                    customer_types=sorted(r.customer_types),
                    business_types=sorted(r.business_types),
                    risk_levels=sorted(r.risk_levels),
                    mode=r.mode,
                    flow_code=r.flow_code,
                    enabled=r.enabled,
                    updated_at=now,
                )
            )
        self._s.flush()
        return self.rules()
