"""The branch tree (多级网点)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from dualrec.api.deps import ContainerDep, perm
from dualrec.api.schemas.common import IdPath
from dualrec.api.schemas.identity import BranchCreate, BranchOut, BranchPatch
from dualrec.core.branches import Branch
from dualrec.core.rbac import Permission as P
from dualrec.services.common.context import Actor
from dualrec.services.identity import branches as svc

router = APIRouter(prefix="/branches", tags=["branches"])


def branch_out(b: Branch) -> BranchOut:
    return BranchOut(id=b.id, name=b.name, code=b.code, parent_id=b.parent_id, path=b.path, depth=b.depth)


@router.get("", response_model=list[BranchOut], summary="网点树 / the caller's branch subtree")
def list_branches(actor: Annotated[Actor, perm(P.BRANCHES_READ)], container: ContainerDep) -> list[BranchOut]:
    return [branch_out(b) for b in svc.list_branches(container.uows, actor=actor)]


@router.post("", response_model=BranchOut, status_code=201, summary="新建网点 / create a branch")
def create_branch(
    body: BranchCreate, actor: Annotated[Actor, perm(P.BRANCHES_WRITE)], container: ContainerDep
) -> BranchOut:
    return branch_out(
        svc.create_branch(
            container.uows, actor=actor, name=body.name, code=body.code, parent_id=body.parent_id
        )
    )


@router.patch("/{branch_id}", response_model=BranchOut, summary="修改网点 / update a branch")
def update_branch(
    branch_id: IdPath,
    body: BranchPatch,
    actor: Annotated[Actor, perm(P.BRANCHES_WRITE)],
    container: ContainerDep,
) -> BranchOut:
    return branch_out(
        svc.update_branch(container.uows, actor=actor, branch_id=branch_id, name=body.name, code=body.code)
    )


@router.delete("/{branch_id}", status_code=204, summary="删除网点 / delete a branch")
def delete_branch(
    branch_id: IdPath, actor: Annotated[Actor, perm(P.BRANCHES_WRITE)], container: ContainerDep
) -> None:
    svc.delete_branch(container.uows, actor=actor, branch_id=branch_id)
