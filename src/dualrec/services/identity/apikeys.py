"""Credentials for business systems (API key id + HMAC secret, shown once)."""

from __future__ import annotations

import secrets

from dualrec.core.audit import AuditAction
from dualrec.core.identity import ApiKey
from dualrec.core.rbac import Permission
from dualrec.db.uow import UnitOfWorkFactory
from dualrec.errors import InvalidInputError, NotFoundError
from dualrec.i18n import msg
from dualrec.services.common import audit
from dualrec.services.common.context import Actor
from dualrec.services.common.scope import branch_in_scope
from dualrec.services.common.secretbox import SecretBox

__all__ = ["DEFAULT_API_PERMISSIONS", "create_api_key", "list_api_keys", "revoke_api_key"]

DEFAULT_API_PERMISSIONS = [
    Permission.TASKS_READ.value,
    Permission.TASKS_WRITE.value,
    Permission.QC_READ.value,
    Permission.RECORDINGS_UPLOAD.value,
]


def create_api_key(
    uows: UnitOfWorkFactory,
    box: SecretBox,
    *,
    actor: Actor,
    name: str,
    branch_id: int,
    business_types: list[str],
    permissions: list[str] | None = None,
) -> ApiKey:
    """Returns the key with its plaintext ``secret`` — the only time it is ever shown."""
    assert actor.principal is not None
    perms = permissions if permissions is not None else DEFAULT_API_PERMISSIONS
    bad = [p for p in perms if p not in Permission._value2member_map_]
    if bad:
        raise InvalidInputError(msg("identity.unknown_permissions", bad=bad))
    key_id = "dk_" + secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    with uows() as uow:
        branch_in_scope(uow, actor.principal, branch_id)
        key = uow.api_keys.add(
            key_id=key_id,
            name=name,
            secret_encrypted=box.seal(secret),
            branch_id=branch_id,
            business_types=business_types,
            permissions=perms,
        )
        audit.record(
            uow,
            actor=actor,
            action=AuditAction.APIKEY_CREATED,
            target_type="api_key",
            target_id=key_id,
            details={"name": name, "business_types": business_types},
        )
        uow.commit()
    return ApiKey(**{**key.__dict__, "secret": secret})


def list_api_keys(uows: UnitOfWorkFactory, *, actor: Actor) -> list[ApiKey]:
    assert actor.principal is not None
    with uows.read() as uow:
        return uow.api_keys.list(actor.principal.branch_path)


def revoke_api_key(uows: UnitOfWorkFactory, *, actor: Actor, key_id: str) -> None:
    assert actor.principal is not None
    with uows() as uow:
        found = uow.api_keys.by_key_id(key_id)
        if found is None or not found[0].branch_path.startswith(actor.principal.branch_path):
            raise NotFoundError(msg("identity.api_key_found"))
        uow.api_keys.deactivate(key_id)
        audit.record(
            uow, actor=actor, action=AuditAction.APIKEY_REVOKED, target_type="api_key", target_id=key_id
        )
        uow.commit()
