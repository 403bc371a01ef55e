"""Branch tree (多级网点) administration, scoped to the actor's subtree."""

from __future__ import annotations

from dualrec.core.audit import AuditAction
from dualrec.core.branches import Branch
from dualrec.db.uow import UnitOfWorkFactory
from dualrec.errors import ConflictError, InvalidInputError
from dualrec.i18n import msg
from dualrec.services.common import audit
from dualrec.services.common.context import Actor
from dualrec.services.common.scope import branch_in_scope

__all__ = ["create_branch", "delete_branch", "list_branches", "update_branch"]


def _scope(actor: Actor) -> str:
    assert actor.principal is not None
    return actor.principal.branch_path


def list_branches(uows: UnitOfWorkFactory, *, actor: Actor) -> list[Branch]:
    with uows.read() as uow:
        return uow.branches.subtree(_scope(actor))


def create_branch(
    uows: UnitOfWorkFactory, *, actor: Actor, name: str, code: str, parent_id: int | None
) -> Branch:
    assert actor.principal is not None
    with uows() as uow:
        if parent_id is None:
            if actor.principal.branch_path.count("/") > 2 or uow.branches.count() > 0:
                raise InvalidInputError(
                    msg("identity.parent_branch_required"),
                    details={"errors": [{"loc": ["parent_id"], "msg": "required"}]},
                )
            parent = None
        else:
            parent = branch_in_scope(uow, actor.principal, parent_id)
        if uow.branches.by_code(code):
            raise ConflictError(
                msg("identity.branch_code_already_used"),
                details={"errors": [{"loc": ["code"], "msg": "already used"}]},
            )
        if parent and parent.path.count("/") > 12:
            raise InvalidInputError(msg("identity.branch_tree_too_deep_max"))
        branch = uow.branches.add(name=name, code=code, parent=parent)
        audit.record(
            uow,
            actor=actor,
            action=AuditAction.BRANCH_CREATED,
            target_type="branch",
            target_id=branch.id,
            details={"name": name, "code": code, "parent_id": parent_id},
        )
        uow.commit()
        return branch


def update_branch(
    uows: UnitOfWorkFactory, *, actor: Actor, branch_id: int, name: str | None, code: str | None
) -> Branch:
    assert actor.principal is not None
    with uows() as uow:
        current = branch_in_scope(uow, actor.principal, branch_id)
        if code is not None and code != current.code and uow.branches.by_code(code):
            raise ConflictError(
                msg("identity.branch_code_already_used"),
                details={"errors": [{"loc": ["code"], "msg": "already used"}]},
            )
        branch = uow.branches.update(branch_id, name=name, code=code)
        audit.record(
            uow,
            actor=actor,
            action=AuditAction.BRANCH_UPDATED,
            target_type="branch",
            target_id=branch_id,
            details={"name": name, "code": code},
        )
        uow.commit()
        return branch


def delete_branch(uows: UnitOfWorkFactory, *, actor: Actor, branch_id: int) -> None:
    assert actor.principal is not None
    with uows() as uow:
        branch = branch_in_scope(uow, actor.principal, branch_id)
        if branch.id == actor.principal.branch_id:
            raise ConflictError(msg("identity.cannot_delete_your_own_branch"))
        used_by = uow.branches.in_use(branch_id)
        if used_by:
            raise ConflictError(msg("identity.branch_still_sub_branches_users"), details={"used_by": used_by})
        uow.branches.delete(branch_id)
        audit.record(
            uow,
            actor=actor,
            action=AuditAction.BRANCH_DELETED,
            target_type="branch",
            target_id=branch_id,
            details={"name": branch.name, "code": branch.code},
        )
        uow.commit()
