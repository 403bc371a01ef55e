"""Roles: the built-in matrix from core plus custom roles stored in the database."""

from __future__ import annotations

from dualrec.core.audit import AuditAction
from dualrec.core.identity import CustomRole
from dualrec.core.rbac import BUILTIN_ROLES, Permission, is_valid_role_id
from dualrec.db.uow import UnitOfWork, UnitOfWorkFactory
from dualrec.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from dualrec.i18n import msg
from dualrec.services.common import audit
from dualrec.services.common.context import Actor

__all__ = ["create_role", "delete_role", "list_roles", "update_role"]


def list_roles(uows: UnitOfWorkFactory) -> list[tuple[CustomRole, bool]]:
    """All roles as (role, builtin)."""
    builtin = [(CustomRole(r.id, r.name_zh, r.name_en, r.permissions), True) for r in BUILTIN_ROLES.values()]
    with uows.read() as uow:
        return builtin + [(r, False) for r in uow.roles.all()]


def _parse_permissions(actor: Actor, names: list[str]) -> frozenset[Permission]:
    unknown = [n for n in names if n not in Permission._value2member_map_]
    if unknown:
        raise InvalidInputError(
            msg("identity.unknown_permissions_2", value=", ".join(unknown)),
            details={"errors": [{"loc": ["permissions"], "msg": "unknown permission"}]},
        )
    perms = frozenset(Permission(n) for n in names)
    assert actor.principal is not None
    if perms - actor.principal.permissions:
        raise PermissionDeniedError(
            msg("identity.cannot_grant_permissions_you_do"),
            details={"missing": sorted(perms - actor.principal.permissions)},
        )
    return perms


def _check_within_reach(uows: UnitOfWorkFactory, uow: UnitOfWork, actor: Actor, role: CustomRole) -> None:
    """Changing or deleting a role changes every user holding it: refused (and audited) when the role
    holds a permission the actor does not hold, as for the users themselves."""
    assert actor.principal is not None
    missing = role.permissions - actor.principal.permissions
    if missing:
        uow.rollback()
        audit.record_now(
            uows,
            actor=actor,
            action=AuditAction.PERMISSION_DENIED,
            target_type="role",
            target_id=role.id,
            outcome="denied",
            details={"reason": "role_holds_more", "missing": sorted(missing)},
        )
        raise PermissionDeniedError(
            msg("identity.cannot_change_role_holds_permissions"),
            details={"missing": sorted(missing)},
        )


def create_role(
    uows: UnitOfWorkFactory, *, actor: Actor, role_id: str, name_zh: str, name_en: str, permissions: list[str]
) -> CustomRole:
    if not is_valid_role_id(role_id):
        raise InvalidInputError(
            msg("identity.role_id_2_40_chars"),
            details={"errors": [{"loc": ["id"], "msg": "invalid id"}]},
        )
    role = CustomRole(role_id, name_zh, name_en, _parse_permissions(actor, permissions))
    with uows() as uow:
        if role_id in BUILTIN_ROLES or uow.roles.get(role_id):
            raise ConflictError(msg("identity.role_already_exists"))
        uow.roles.add(role)
        audit.record(
            uow,
            actor=actor,
            action=AuditAction.ROLE_CREATED,
            target_type="role",
            target_id=role_id,
            details={"permissions": sorted(role.permissions)},
        )
        uow.commit()
    return role


def update_role(
    uows: UnitOfWorkFactory,
    *,
    actor: Actor,
    role_id: str,
    name_zh: str | None,
    name_en: str | None,
    permissions: list[str] | None,
) -> CustomRole:
    if role_id in BUILTIN_ROLES:
        raise ConflictError(msg("identity.built_roles_cannot_changed"))
    with uows() as uow:
        current = uow.roles.get(role_id)
        if current is None:
            raise NotFoundError(msg("identity.role_found"))
        _check_within_reach(uows, uow, actor, current)
        perms = _parse_permissions(actor, permissions) if permissions is not None else current.permissions
        role = CustomRole(role_id, name_zh or current.name_zh, name_en or current.name_en, perms)
        uow.roles.update(role)
        audit.record(
            uow,
            actor=actor,
            action=AuditAction.ROLE_UPDATED,
            target_type="role",
            target_id=role_id,
            details={"before": sorted(current.permissions), "after": sorted(perms)},
        )
        uow.commit()
    return role


def delete_role(uows: UnitOfWorkFactory, *, actor: Actor, role_id: str) -> None:
    if role_id in BUILTIN_ROLES:
        raise ConflictError(msg("identity.built_roles_cannot_deleted"))
    with uows() as uow:
        current = uow.roles.get(role_id)
        if current is None:
            raise NotFoundError(msg("identity.role_found"))
        _check_within_reach(uows, uow, actor, current)
        if uow.users.count_with_role(role_id):
            raise ConflictError(msg("identity.users_still_role"))
        uow.roles.delete(role_id)
        audit.record(uow, actor=actor, action=AuditAction.ROLE_DELETED, target_type="role", target_id=role_id)
        uow.commit()
