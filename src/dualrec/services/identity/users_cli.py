"""User creation by an operator on the command line (acts as the system, fully audited)."""

from __future__ import annotations

from dualrec.core.audit import AuditAction
from dualrec.core.identity import User
from dualrec.core.rbac import BUILTIN_ROLES
from dualrec.db.uow import UnitOfWorkFactory
from dualrec.errors import ConflictError, InvalidInputError, NotFoundError
from dualrec.i18n import msg
from dualrec.services.common import audit
from dualrec.services.common.context import SYSTEM
from dualrec.services.identity.passwords import check_policy, hash_password

__all__ = ["create_user_as_system"]


def create_user_as_system(
    uows: UnitOfWorkFactory, *, username: str, role: str, branch_code: str, display_name: str, password: str
) -> User:
    check_policy(password)
    with uows() as uow:
        branch = uow.branches.by_code(branch_code)
        if branch is None:
            raise NotFoundError(msg("identity.branch_code_run_dualrec_seed", branch_code=branch_code))
        if role not in BUILTIN_ROLES and uow.roles.get(role) is None:
            raise InvalidInputError(msg("identity.unknown_role_2", role=role))
        if uow.users.by_username(username):
            raise ConflictError(msg("identity.username_already_taken_2", username=username))
        user_id = uow.users.add(
            username=username,
            display_name=display_name,
            password_hash=hash_password(password),
            role=role,
            branch_id=branch.id,
        )
        audit.record(
            uow,
            actor=SYSTEM,
            action=AuditAction.USER_CREATED,
            target_type="user",
            target_id=user_id,
            details={"username": username, "role": role, "via": "cli"},
            branch_id=branch.id,  # the new user's branch: its auditors see the event
        )
        user = uow.users.get(user_id)
        assert user is not None
        uow.commit()
        return user
