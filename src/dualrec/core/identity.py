"""Identity records as plain frozen values (what repositories return)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dualrec.core.rbac import Permission

__all__ = ["ApiKey", "AuditEvent", "CustomRole", "Principal", "User", "UserSession"]


@dataclass(frozen=True)
class User:
    id: int
    username: str
    display_name: str
    role: str
    branch_id: int
    branch_path: str
    branch_name: str
    is_active: bool
    failed_logins: int
    locked_until: datetime | None
    created_at: datetime
    password_hash: str = field(repr=False, default="")
    language: str | None = None  # "zh-CN" | "en"; None: the browser's Accept-Language decides


@dataclass(frozen=True)
class CustomRole:
    id: str
    name_zh: str
    name_en: str
    permissions: frozenset[Permission]


@dataclass(frozen=True)
class UserSession:
    id_hash: str
    user_id: int
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class ApiKey:
    id: int
    key_id: str
    name: str
    branch_id: int
    branch_path: str
    business_types: tuple[str, ...]
    permissions: frozenset[Permission]
    is_active: bool
    created_at: datetime
    secret: str = field(repr=False, default="")


@dataclass(frozen=True)
class Principal:
    """Who is calling: a logged-in user or a business system (API key)."""

    kind: str  # "user" | "api_key"
    id: int
    name: str
    role: str
    branch_id: int
    branch_path: str
    permissions: frozenset[Permission]
    language: str | None = None  # a user's own language setting (None: Accept-Language)

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions


@dataclass(frozen=True)
class AuditEvent:
    id: int
    at: datetime
    actor: str
    actor_id: int | None
    action: str
    target_type: str
    target_id: str
    outcome: str
    ip: str
    user_agent: str
    details: dict[str, Any]
    prev_hash: str = ""
    hash: str = ""
    branch_id: int | None = None  # None: a system event, visible to head office only
    hash_version: int = 1  # core.audit.row_hash version
