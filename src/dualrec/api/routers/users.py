"""User administration."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from dualrec.api.deps import ContainerDep, perm
from dualrec.api.schemas.common import MAX_ID, SEARCH_PATTERN, IdPath, Page
from dualrec.api.schemas.identity import UserCreate, UserOut, UserPatch
from dualrec.core.identity import User
from dualrec.core.rbac import Permission as P
from dualrec.services.common.context import Actor
from dualrec.services.identity import users as svc

router = APIRouter(prefix="/users", tags=["users"])


def user_out(u: User) -> UserOut:
    return UserOut(
        id=u.id,
        username=u.username,
        display_name=u.display_name,
        role=u.role,
        branch_id=u.branch_id,
        branch_name=u.branch_name,
        is_active=u.is_active,
        locked_until=u.locked_until,
        created_at=u.created_at,
    )


@router.get("", response_model=Page[UserOut], summary="用户列表 / list users")
def list_users(
    actor: Annotated[Actor, perm(P.USERS_READ)],
    container: ContainerDep,
    q: Annotated[str | None, Query(max_length=64, pattern=SEARCH_PATTERN)] = None,
    branch_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 20,
) -> Page[UserOut]:
    items, total = svc.list_users(
        container.uows, actor=actor, q=q, branch_id=branch_id, page=page, page_size=page_size
    )
    return Page[UserOut](items=[user_out(u) for u in items], total=total, page=page, page_size=page_size)


@router.post("", response_model=UserOut, status_code=201, summary="新建用户 / create a user")
def create_user(
    body: UserCreate, actor: Annotated[Actor, perm(P.USERS_WRITE)], container: ContainerDep
) -> UserOut:
    return user_out(
        svc.create_user(
            container.uows,
            actor=actor,
            username=body.username,
            display_name=body.display_name,
            password=body.password,
            role=body.role,
            branch_id=body.branch_id,
        )
    )


@router.get("/{user_id}", response_model=UserOut, summary="用户详情 / get a user")
def get_user(
    user_id: IdPath, actor: Annotated[Actor, perm(P.USERS_READ)], container: ContainerDep
) -> UserOut:
    return user_out(svc.get_user(container.uows, actor=actor, user_id=user_id))


@router.patch("/{user_id}", response_model=UserOut, summary="修改用户 / update a user")
def update_user(
    user_id: IdPath, body: UserPatch, actor: Annotated[Actor, perm(P.USERS_WRITE)], container: ContainerDep
) -> UserOut:
    patch = svc.UserPatch(**body.model_dump(exclude_unset=True))
    return user_out(svc.update_user(container.uows, actor=actor, user_id=user_id, patch=patch))


@router.post("/{user_id}/unlock", status_code=204, summary="解锁用户 / unlock a user")
def unlock_user(
    user_id: IdPath, actor: Annotated[Actor, perm(P.USERS_WRITE)], container: ContainerDep
) -> None:
    svc.unlock_user(container.uows, actor=actor, user_id=user_id)


@router.delete("/{user_id}", status_code=204, summary="删除用户 / delete a user")
def delete_user(
    user_id: IdPath, actor: Annotated[Actor, perm(P.USERS_WRITE)], container: ContainerDep
) -> None:
    svc.delete_user(container.uows, actor=actor, user_id=user_id)
