"""User administration use cases (scoped to the actor's branch subtree)."""

from __future__ import annotations

from dataclasses import dataclass

from dualrec.core.audit import AuditAction
from dualrec.core.branches import Branch, in_scope
from dualrec.core.identity import Principal, User
from dualrec.core.rbac import BUILTIN_ROLES, Permission, role_permissions
from dualrec.db.uow import UnitOfWork, UnitOfWorkFactory
from dualrec.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from dualrec.i18n import LANGUAGES, msg
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
        raise PermissionDeniedError(msg("identity.login_required"))
    return actor.principal


def _visible_user(uow: UnitOfWork, actor: Actor, user_id: int) -> User:
    user = uow.users.get(user_id)
    if user is None or not in_scope(_principal(actor).branch_path, user.branch_path):
        raise NotFoundError(msg("identity.user_found"), details={"user_id": user_id})
    return user


def _custom_roles(uow: UnitOfWork) -> dict[str, frozenset[Permission]]:
    return {r.id: r.permissions for r in uow.roles.all()}


def _refuse(
    uows: UnitOfWorkFactory,
    uow: UnitOfWork,
    actor: Actor,
    target_id: int | str,
    reason: str,
    message: str,
    **details: object,
) -> PermissionDeniedError:
    """A 403 recorded in the audit log as a denial (committed on its own: the change is not)."""
    uow.rollback()  # nothing of the refused change; frees SQLite's write lock for the audit row
    audit.record_now(
        uows,
        actor=actor,
        action=AuditAction.PERMISSION_DENIED,
        target_type="user",
        target_id=target_id,
        outcome="denied",
        details={"reason": reason, **details},
    )
    return PermissionDeniedError(message, details=details)


def _check_role_assignable(
    uows: UnitOfWorkFactory, uow: UnitOfWork, actor: Actor, role: str, target_id: int | str
) -> None:
    custom = _custom_roles(uow)
    if role not in BUILTIN_ROLES and role not in custom:
        raise InvalidInputError(
            msg("identity.unknown_role", role=role),
            details={"errors": [{"loc": ["role"], "msg": "unknown role"}]},
        )
    missing = role_permissions(role, custom) - _principal(actor).permissions
    if missing:  # nobody hands out more than they hold
        raise _refuse(
            uows,
            uow,
            actor,
            target_id,
            "role_beyond_own",
            "不能授予高于自身的权限 / cannot grant permissions you do not hold",
            role=role,
            missing=sorted(missing),
        )


def _check_within_reach(uows: UnitOfWorkFactory, uow: UnitOfWork, actor: Actor, user: User) -> None:
    """Nobody changes a user who holds a permission they do not hold (a password reset would hand
    them that permission). Users outside the actor's branch subtree never get here (404)."""
    missing = role_permissions(user.role, _custom_roles(uow)) - _principal(actor).permissions
    if missing:
        raise _refuse(
            uows,
            uow,
            actor,
            user.id,
            "target_holds_more",
            "不能修改权限高于自己的用户 / cannot change a user who holds permissions you do not hold",
            missing=sorted(missing),
        )


def _writable_user(uows: UnitOfWorkFactory, uow: UnitOfWork, actor: Actor, user_id: int) -> User:
    user = _visible_user(uow, actor, user_id)
    _check_within_reach(uows, uow, actor, user)
    return user


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
        _check_role_assignable(uows, uow, actor, role, username)
        if uow.users.by_username(username):
            raise ConflictError(
                msg("identity.username_already_taken"),
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
        user = _writable_user(uows, uow, actor, user_id)
        fields: dict[str, object] = {}
        changes: dict[str, object] = {}
        if patch.display_name is not None:
            fields["display_name"] = changes["display_name"] = patch.display_name
        if patch.role is not None and patch.role != user.role:
            _check_role_assignable(uows, uow, actor, patch.role, user.id)
            if user.id == actor.id:
                raise InvalidInputError(msg("identity.you_cannot_change_your_own"))
            fields["role"] = changes["role"] = patch.role
        if patch.branch_id is not None and patch.branch_id != user.branch_id:
            branch_in_scope(uow, _principal(actor), patch.branch_id)
            fields["branch_id"] = changes["branch_id"] = patch.branch_id
        if patch.is_active is not None and patch.is_active != user.is_active:
            if user.id == actor.id and not patch.is_active:
                raise InvalidInputError(msg("identity.you_cannot_deactivate_yourself"))
            fields["is_active"] = changes["is_active"] = patch.is_active
        if patch.password is not None:
            if user.id == actor.id:  # a stolen session must not set a password without the old one
                raise _refuse(
                    uows,
                    uow,
                    actor,
                    user.id,
                    "own_password",
                    "修改自己的密码请使用 /auth/password（需原密码） / "
                    "change your own password through /auth/password (needs the current one)",
                )
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
        user = _writable_user(uows, uow, actor, user_id)
        uow.users.update(user.id, failed_logins=0, locked_until=None)
        audit.record(
            uow, actor=actor, action=AuditAction.USER_UNLOCKED, target_type="user", target_id=user.id
        )
        uow.commit()


def delete_user(uows: UnitOfWorkFactory, *, actor: Actor, user_id: int) -> None:
    with uows() as uow:
        user = _writable_user(uows, uow, actor, user_id)
        if user.id == actor.id:
            raise InvalidInputError(msg("identity.you_cannot_delete_yourself"))
        if user.role == "admin" and uow.users.count_with_role("admin") <= 1:
            raise ConflictError(msg("identity.cannot_delete_last_administrator"))
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


def set_language(uows: UnitOfWorkFactory, *, actor: Actor, language: str | None) -> None:
    """The caller's own language for messages and reports (``zh-CN``/``en``; None: the browser's)."""
    if language not in (None, *LANGUAGES):
        raise InvalidInputError(msg("identity.unsupported_language", language=language))
    with uows() as uow:
        user = _visible_user(uow, actor, _principal(actor).id)
        uow.users.update(user.id, language=language)
        uow.commit()


def get_profile(uows: UnitOfWorkFactory, *, actor: Actor) -> tuple[User, Branch]:
    """The caller's own user record and branch."""
    with uows.read() as uow:
        user = _visible_user(uow, actor, _principal(actor).id)
        branch = uow.branches.get(user.branch_id)
        assert branch is not None
        return user, branch
