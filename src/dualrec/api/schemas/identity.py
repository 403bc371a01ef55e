"""Bodies of the identity endpoints: sign-in, users, roles, branches and API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from dualrec.api.schemas.common import Code, Id, StrictModel

__all__ = [
    "ApiKeyCreate",
    "ApiKeyCreated",
    "ApiKeyOut",
    "BranchCreate",
    "BranchOut",
    "BranchPatch",
    "BranchRef",
    "LanguageSetting",
    "LoginRequest",
    "MeOut",
    "PasswordChange",
    "PermissionOut",
    "RoleCreate",
    "RoleOut",
    "RolePatch",
    "UserCreate",
    "UserOut",
    "UserPatch",
]

Username = Annotated[str, StringConstraints(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.\-@]+$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Password = Annotated[str, StringConstraints(min_length=1, max_length=256)]
RoleId = Annotated[str, StringConstraints(min_length=2, max_length=40)]


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
    language: Literal["zh-CN", "en"] | None = Field(
        default=None, description="用户自选语言；为空时按浏览器 Accept-Language"
    )


class LanguageSetting(StrictModel):
    """A user's own language for messages and reports; null follows the browser."""

    language: Literal["zh-CN", "en"] | None


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
