"""Roles and the permission catalogue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from dualrec.api.deps import ContainerDep, perm
from dualrec.api.schemas.identity import PermissionOut, RoleCreate, RoleOut, RolePatch
from dualrec.core.identity import CustomRole
from dualrec.core.rbac import PERMISSIONS
from dualrec.core.rbac import Permission as P
from dualrec.services.common.context import Actor
from dualrec.services.identity import roles as svc

router = APIRouter(tags=["roles"])


def role_out(role: CustomRole, builtin: bool) -> RoleOut:
    return RoleOut(
        id=role.id,
        name_zh=role.name_zh,
        name_en=role.name_en,
        builtin=builtin,
        permissions=sorted(role.permissions),
    )


@router.get("/permissions", response_model=list[PermissionOut], summary="权限清单 / permission catalogue")
def list_permissions(actor: Annotated[Actor, perm(P.ROLES_READ)]) -> list[PermissionOut]:
    return [
        PermissionOut(id=p.id.value, group=p.group, name_zh=p.name_zh, name_en=p.name_en) for p in PERMISSIONS
    ]


@router.get("/roles", response_model=list[RoleOut], summary="角色列表 / list roles")
def list_roles(actor: Annotated[Actor, perm(P.ROLES_READ)], container: ContainerDep) -> list[RoleOut]:
    return [role_out(r, b) for r, b in svc.list_roles(container.uows)]


@router.post("/roles", response_model=RoleOut, status_code=201, summary="新建角色 / create a role")
def create_role(
    body: RoleCreate, actor: Annotated[Actor, perm(P.ROLES_WRITE)], container: ContainerDep
) -> RoleOut:
    role = svc.create_role(
        container.uows,
        actor=actor,
        role_id=body.id,
        name_zh=body.name_zh,
        name_en=body.name_en,
        permissions=body.permissions,
    )
    return role_out(role, False)


@router.patch("/roles/{role_id}", response_model=RoleOut, summary="修改角色 / update a role")
def update_role(
    role_id: Annotated[str, Path(max_length=40)],
    body: RolePatch,
    actor: Annotated[Actor, perm(P.ROLES_WRITE)],
    container: ContainerDep,
) -> RoleOut:
    role = svc.update_role(
        container.uows,
        actor=actor,
        role_id=role_id,
        name_zh=body.name_zh,
        name_en=body.name_en,
        permissions=body.permissions,
    )
    return role_out(role, False)


@router.delete("/roles/{role_id}", status_code=204, summary="删除角色 / delete a role")
def delete_role(
    role_id: Annotated[str, Path(max_length=40)],
    actor: Annotated[Actor, perm(P.ROLES_WRITE)],
    container: ContainerDep,
) -> None:
    svc.delete_role(container.uows, actor=actor, role_id=role_id)
