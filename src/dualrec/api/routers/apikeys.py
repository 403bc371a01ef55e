"""Credentials of business systems."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from dualrec.api.deps import ContainerDep, perm
from dualrec.api.schemas.identity import ApiKeyCreate, ApiKeyCreated, ApiKeyOut
from dualrec.core.identity import ApiKey
from dualrec.core.rbac import Permission as P
from dualrec.services.common.context import Actor
from dualrec.services.identity import apikeys as svc

router = APIRouter(prefix="/api-keys", tags=["api-keys"])


def key_out(k: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(
        key_id=k.key_id,
        name=k.name,
        branch_id=k.branch_id,
        business_types=list(k.business_types),
        permissions=sorted(k.permissions),
        is_active=k.is_active,
        created_at=k.created_at,
    )


@router.get("", response_model=list[ApiKeyOut], summary="接入系统密钥 / list API keys")
def list_keys(actor: Annotated[Actor, perm(P.APIKEYS_MANAGE)], container: ContainerDep) -> list[ApiKeyOut]:
    return [key_out(k) for k in svc.list_api_keys(container.uows, actor=actor)]


@router.post("", response_model=ApiKeyCreated, status_code=201, summary="新建密钥 / create an API key")
def create_key(
    body: ApiKeyCreate, actor: Annotated[Actor, perm(P.APIKEYS_MANAGE)], container: ContainerDep
) -> ApiKeyCreated:
    key = svc.create_api_key(
        container.uows,
        container.secretbox,
        actor=actor,
        name=body.name,
        branch_id=body.branch_id,
        business_types=body.business_types,
        permissions=body.permissions,
    )
    return ApiKeyCreated(**key_out(key).model_dump(), secret=key.secret)


@router.delete("/{key_id}", status_code=204, summary="吊销密钥 / revoke an API key")
def revoke_key(
    key_id: Annotated[str, Path(max_length=64)],
    actor: Annotated[Actor, perm(P.APIKEYS_MANAGE)],
    container: ContainerDep,
) -> None:
    svc.revoke_api_key(container.uows, actor=actor, key_id=key_id)
