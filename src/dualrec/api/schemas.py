"""Request and response bodies. Requests forbid unknown fields."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

__all__ = [
    "ApiKeyCreate",
    "ApiKeyCreated",
    "ApiKeyOut",
    "AuditEventOut",
    "BranchCreate",
    "BranchOut",
    "BranchPatch",
    "BranchRef",
    "LoginRequest",
    "MeOut",
    "Page",
    "PasswordChange",
    "PermissionOut",
    "RoleCreate",
    "RoleOut",
    "RolePatch",
    "UserCreate",
    "UserOut",
    "UserPatch",
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


Username = Annotated[str, StringConstraints(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.\-@]+$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Password = Annotated[str, StringConstraints(min_length=1, max_length=256)]
Code = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]
RoleId = Annotated[str, StringConstraints(min_length=2, max_length=40)]
MAX_ID = 2**53  # fits every backend's BIGINT and JavaScript numbers
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int


class LoginRequest(StrictModel):
    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: Password


class PasswordChange(StrictModel):
    old_password: Password
    new_password: Password


class BranchRef(BaseModel):
    id: int
    name: str
    code: str
    path: str


class MeOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    role_name: str
    branch: BranchRef
    permissions: list[str]


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    branch_id: int
    branch_name: str
    is_active: bool
    locked_until: datetime | None
    created_at: datetime


class UserCreate(StrictModel):
    username: Username
    display_name: Name
    password: Password
    role: RoleId
    branch_id: Id


class UserPatch(StrictModel):
    display_name: Name | None = None
    role: RoleId | None = None
    branch_id: Id | None = None
    is_active: bool | None = None
    password: Password | None = None


class PermissionOut(BaseModel):
    id: str
    group: str
    name_zh: str
    name_en: str


class RoleOut(BaseModel):
    id: str
    name_zh: str
    name_en: str
    builtin: bool
    permissions: list[str]


class RoleCreate(StrictModel):
    id: RoleId
    name_zh: Name
    name_en: Name
    permissions: list[str] = Field(max_length=100)


class RolePatch(StrictModel):
    name_zh: Name | None = None
    name_en: Name | None = None
    permissions: list[str] | None = Field(default=None, max_length=100)


class BranchOut(BaseModel):
    id: int
    name: str
    code: str
    parent_id: int | None
    path: str
    depth: int


class BranchCreate(StrictModel):
    name: Name
    code: Code
    parent_id: Id | None = None


class BranchPatch(StrictModel):
    name: Name | None = None
    code: Code | None = None


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


class ApiKeyCreate(StrictModel):
    name: Name
    branch_id: Id
    business_types: list[Annotated[str, StringConstraints(min_length=1, max_length=40)]] = Field(
        max_length=50
    )
    permissions: list[str] | None = Field(default=None, max_length=20)


class ApiKeyOut(BaseModel):
    key_id: str
    name: str
    branch_id: int
    business_types: list[str]
    permissions: list[str]
    is_active: bool
    created_at: datetime


class ApiKeyCreated(ApiKeyOut):
    secret: str = Field(description="HMAC secret — shown once, store it now")
