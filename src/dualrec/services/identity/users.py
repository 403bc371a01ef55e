"""User administration use cases (scoped to the actor's branch subtree)."""

from __future__ import annotations

from dataclasses import dataclass

from dualrec.core.audit import AuditAction
from dualrec.core.branches import Branch, in_scope
from dualrec.core.identity import Principal, User
from dualrec.core.rbac import BUILTIN_ROLES, role_permissions
from dualrec.db.uow import UnitOfWork, UnitOfWorkFactory
from dualrec.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from dualrec.services.common import audit
from dualrec.services.common.context import Actor
from dualrec.services.common.scope import branch_in_scope
from dualrec.services.identity.passwords import check_policy, hash_password

__all__ = [
    "UserPatch",
    "create_user",
    "delete_user",
    "get_profile",
    "get_user",
    "list_users",
    "unlock_user",
    "update_user",
]


@dataclass(frozen=True)
class UserPatch:
    display_name: str | None = None
    role: str | None = None
    branch_id: int | None = None
    is_active: bool | None = None
    password: str | None = None


def _principal(actor: Actor) -> Principal:
    if actor.principal is None:
        raise PermissionDeniedError("需要登录 / login required")
    return actor.principal


def _visible_user(uow: UnitOfWork, actor: Actor, user_id: int) -> User:
    user = uow.users.get(user_id)
    if user is None or not in_scope(_principal(actor).branch_path, user.branch_path):
        raise NotFoundError("用户不存在 / user not found", details={"user_id": user_id})
    return user


def _check_role_assignable(uow: UnitOfWork, actor: Actor, role: str) -> None:
    custom = {r.id: r.permissions for r in uow.roles.all()}
    if role not in BUILTIN_ROLES and role not in custom:
        raise InvalidInputError(
            f"角色不存在 / unknown role: {role}",
            details={"errors": [{"loc": ["role"], "msg": "unknown role"}]},
        )
    granted = role_permissions(role, custom)
    missing = granted - _principal(actor).permissions
    if missing:  # nobody hands out more than they hold
        raise PermissionDeniedError(
            "不能授予高于自身的权限 / cannot grant permissions you do not hold",
            details={"missing": sorted(missing)},
        )


def list_users(
    uows: UnitOfWorkFactory, *, actor: Actor, q: str | None, branch_id: int | None, page: int, page_size: int
) -> tuple[list[User], int]:
    with uows() as uow:
        branch_path = branch_in_scope(uow, _principal(actor), branch_id).path if branch_id else None
        return uow.users.search(
            scope_path=_principal(actor).branch_path,
            q=q,
            branch_path=branch_path,
            offset=(page - 1) * page_size,
            limit=page_size,
        )


def get_user(uows: UnitOfWorkFactory, *, actor: Actor, user_id: int) -> User:
    with uows() as uow:
        return _visible_user(uow, actor, user_id)


def create_user(
    uows: UnitOfWorkFactory,
    *,
    actor: Actor,
    username: str,
    display_name: str,
    password: str,
    role: str,
    branch_id: int,
) -> User:
    check_policy(password)
    with uows() as uow:
        branch_in_scope(uow, _principal(actor), branch_id)
        _check_role_assignable(uow, actor, role)
        if uow.users.by_username(username):
            raise ConflictError(
                "用户名已存在 / username already taken",
                details={"errors": [{"loc": ["username"], "msg": "already taken"}]},
            )
        user_id = uow.users.add(
            username=username,
            display_name=display_name,
            password_hash=hash_password(password),
            role=role,
            branch_id=branch_id,
        )
        audit.record(
            uow,
            actor=actor,
            action=AuditAction.USER_CREATED,
            target_type="user",
            target_id=user_id,
            details={"username": username, "role": role, "branch_id": branch_id},
        )
        user = uow.users.get(user_id)
        assert user is not None
        uow.commit()
        return user


def update_user(uows: UnitOfWorkFactory, *, actor: Actor, user_id: int, patch: UserPatch) -> User:
    with uows() as uow:
        user = _visible_user(uow, actor, user_id)
        fields: dict[str, object] = {}
        changes: dict[str, object] = {}
        if patch.display_name is not None:
            fields["display_name"] = changes["display_name"] = patch.display_name
        if patch.role is not None and patch.role != user.role:
            _check_role_assignable(uow, actor, patch.role)
            if user.id == actor.id:
                raise InvalidInputError("不能修改自己的角色 / you cannot change your own role")
            fields["role"] = changes["role"] = patch.role
        if patch.branch_id is not None and patch.branch_id != user.branch_id:
            branch_in_scope(uow, _principal(actor), patch.branch_id)
            fields["branch_id"] = changes["branch_id"] = patch.branch_id
        if patch.is_active is not None and patch.is_active != user.is_active:
            if user.id == actor.id and not patch.is_active:
                raise InvalidInputError("不能停用自己的账户 / you cannot deactivate yourself")
            fields["is_active"] = changes["is_active"] = patch.is_active
        if patch.password is not None:
            check_policy(patch.password)
            fields["password_hash"] = hash_password(patch.password)
            changes["password"] = "changed"
        if fields:
            uow.users.update(user.id, **fields)
            if "password_hash" in fields or fields.get("is_active") is False or "role" in fields:
                uow.sessions.delete_for_user(user.id)
            audit.record(
                uow,
                actor=actor,
                action=AuditAction.USER_UPDATED,
                target_type="user",
                target_id=user.id,
                details=changes,
            )
        updated = uow.users.get(user.id)
        assert updated is not None
        uow.commit()
        return updated


def unlock_user(uows: UnitOfWorkFactory, *, actor: Actor, user_id: int) -> None:
    with uows() as uow:
        user = _visible_user(uow, actor, user_id)
        uow.users.update(user.id, failed_logins=0, locked_until=None)
        audit.record(
            uow, actor=actor, action=AuditAction.USER_UNLOCKED, target_type="user", target_id=user.id
        )
        uow.commit()


def delete_user(uows: UnitOfWorkFactory, *, actor: Actor, user_id: int) -> None:
    with uows() as uow:
        user = _visible_user(uow, actor, user_id)
        if user.id == actor.id:
            raise InvalidInputError("不能删除自己 / you cannot delete yourself")
        if user.role == "admin" and uow.users.count_with_role("admin") <= 1:
            raise ConflictError("不能删除最后一个管理员 / cannot delete the last administrator")
        uow.users.delete(user.id)
        audit.record(
            uow,
            actor=actor,
            action=AuditAction.USER_DELETED,
            target_type="user",
            target_id=user.id,
            details={"username": user.username},
        )
        uow.commit()


def get_profile(uows: UnitOfWorkFactory, *, actor: Actor) -> tuple[User, Branch]:
    """The caller's own user record and branch."""
    with uows() as uow:
        user = _visible_user(uow, actor, _principal(actor).id)
        branch = uow.branches.get(user.branch_id)
        assert branch is not None
        return user, branch
