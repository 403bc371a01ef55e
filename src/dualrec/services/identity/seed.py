"""Demo organisation and the first administrator."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from dualrec.core.audit import AuditAction
from dualrec.db.uow import UnitOfWorkFactory
from dualrec.services.common import audit
from dualrec.services.common.context import SYSTEM
from dualrec.services.identity.passwords import check_policy, hash_password

__all__ = ["SeedResult", "seed_demo"]

DEMO_TREE = [  # (code, name, parent code)
    ("HQ", "总行", None),
    ("BJ", "北京分行", "HQ"),
    ("BJ-CY", "北京朝阳支行", "BJ"),
    ("SH", "上海分行", "HQ"),
    ("SH-PD", "上海浦东支行", "SH"),
]


@dataclass(frozen=True)
class SeedResult:
    created_admin: bool
    admin_username: str
    admin_password: str | None  # only when generated here (print once)
    branches_created: int


def seed_demo(uows: UnitOfWorkFactory, *, admin_username: str, admin_password: str | None) -> SeedResult:
    """Idempotent: creates what is missing, never changes what exists."""
    created = 0
    with uows() as uow:
        for code, name, parent_code in DEMO_TREE:
            if uow.branches.by_code(code):
                continue
            parent = uow.branches.by_code(parent_code) if parent_code else None
            uow.branches.add(name=name, code=code, parent=parent)
            created += 1
        hq = uow.branches.by_code("HQ")
        assert hq is not None
        generated = None
        made_admin = False
        if uow.users.by_username(admin_username) is None:
            if admin_password:
                check_policy(admin_password)
                password = admin_password
            else:
                password = generated = secrets.token_urlsafe(12) + "-9a"
            user_id = uow.users.add(
                username=admin_username,
                display_name="系统管理员",
                role="admin",
                password_hash=hash_password(password),
                branch_id=hq.id,
            )
            audit.record(
                uow,
                actor=SYSTEM,
                action=AuditAction.USER_CREATED,
                target_type="user",
                target_id=user_id,
                details={"username": admin_username, "role": "admin", "via": "seed"},
            )
            made_admin = True
        uow.commit()
    return SeedResult(made_admin, admin_username, generated, created)
