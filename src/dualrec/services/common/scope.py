"""Branch scoping helpers shared by the use cases: out-of-scope objects look like missing ones."""

from __future__ import annotations

from dualrec.core.branches import Branch, in_scope
from dualrec.core.identity import Principal
from dualrec.db.uow import UnitOfWork
from dualrec.errors import NotFoundError
from dualrec.i18n import msg
from dualrec.services.common.context import Actor

__all__ = ["branch_in_scope", "scope_branch_ids"]


def branch_in_scope(uow: UnitOfWork, principal: Principal, branch_id: int) -> Branch:
    branch = uow.branches.get(branch_id)
    if branch is None or not in_scope(principal.branch_path, branch.path):
        raise NotFoundError(msg("common.branch_found"), details={"branch_id": branch_id})
    return branch


def scope_branch_ids(uow: UnitOfWork, actor: Actor, branch_id: int | None) -> list[int] | None:
    """Ids of the branches a search may see: the caller's subtree, or that of ``branch_id`` inside it
    (an id outside the subtree is a 404). None when that is every branch (no filter needed)."""
    assert actor.principal is not None
    path = actor.principal.branch_path
    if branch_id is not None:
        path = branch_in_scope(uow, actor.principal, branch_id).path
    ids, every = uow.archive.branch_scope(path)
    return None if len(ids) == every else ids
