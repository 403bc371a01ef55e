"""What every domain's bodies share: the strict request base, paging, common field types; and the
bodies of the cross-domain records (services/common): the audit trail and background jobs."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

__all__ = [
    "MAX_ID",
    "SEARCH_PATTERN",
    "AuditEventOut",
    "Code",
    "Id",
    "IdPath",
    "JobOut",
    "Page",
    "StrictModel",
]

T = TypeVar("T")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
SEARCH_PATTERN = r"^[^\x00-\x1f\x7f]*$"


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        items = value if isinstance(value, list) else [value]
        if any(isinstance(v, str) and _CONTROL.search(v) for v in items):
            raise ValueError("control characters are not allowed")
        return value


Code = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]
MAX_ID = 2**53  # fits every backend's BIGINT and JavaScript numbers
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int


class AuditEventOut(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    target_type: str
    target_id: str
    outcome: str
    ip: str
    user_agent: str
    details: dict[str, Any]
    branch_id: int | None = None  # None: a system event (head office only)


class JobOut(BaseModel):
    id: str
    kind: str
    status: str
    attempts: int
    max_attempts: int
    progress: float
    error: str | None
    result: dict[str, Any] | None
    created_at: datetime
