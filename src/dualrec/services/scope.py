"""Branch scoping helpers shared by the use cases: out-of-scope objects look like missing ones."""

from __future__ import annotations

from dualrec.core.branches import Branch, in_scope
from dualrec.core.identity import Principal
from dualrec.db.uow import UnitOfWork
from dualrec.errors import NotFoundError

__all__ = ["branch_in_scope"]


def branch_in_scope(uow: UnitOfWork, principal: Principal, branch_id: int) -> Branch:
    branch = uow.branches.get(branch_id)
    if branch is None or not in_scope(principal.branch_path, branch.path):
        raise NotFoundError("网点不存在 / branch not found", details={"branch_id": branch_id})
    return branch
