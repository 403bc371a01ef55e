"""Stored flows as the rest of the application sees them: the editable draft and published versions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = ["FlowVersion", "StoredFlow"]


@dataclass(frozen=True)
class StoredFlow:
    id: int
    code: str
    name: str
    business_type: str
    draft: dict[str, Any]  # core.flow.flow_to_dict form (may have validation problems)
    draft_updated_at: datetime
    draft_updated_by: str
    latest_version: int  # 0: never published
    archived: bool
    created_at: datetime


@dataclass(frozen=True)
class FlowVersion:
    flow_id: int
    code: str
    version: int
    definition: dict[str, Any]
    sha256: str
    published_at: datetime
    published_by: str
    changes: list[dict[str, Any]]
    review_hits: list[dict[str, Any]]
    override_reason: str
