"""Script templates (话术模板) per business type and node type, with the sensitive-word review."""

from __future__ import annotations

import dataclasses
from typing import Annotated

from fastapi import APIRouter, Query

from dualrec.api.deps import ContainerDep, perm
from dualrec.api.schemas.common import IdPath
from dualrec.api.schemas.question_banks import (
    ReviewHitOut,
    TemplateCreate,
    TemplateOut,
    TemplatePatch,
    TemplateSavedOut,
)
from dualrec.core.question_banks import ScriptTemplate
from dualrec.core.rbac import Permission as P
from dualrec.services.common.context import Actor
from dualrec.services.question_banks import service as svc

router = APIRouter(tags=["questions"])
Reader = Annotated[Actor, perm(P.FLOWS_READ)]
Writer = Annotated[Actor, perm(P.FLOWS_WRITE)]


def _template_out(t: ScriptTemplate) -> TemplateOut:
    return TemplateOut(**dataclasses.asdict(t))


@router.get("/script-templates", response_model=list[TemplateOut], summary="话术模板 / script templates")
def list_templates(
    actor: Reader,
    container: ContainerDep,
    business_type: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
) -> list[TemplateOut]:
    return [_template_out(t) for t in svc.list_templates(container.uows, business_type)]


@router.post(
    "/script-templates",
    response_model=TemplateSavedOut,
    status_code=201,
    summary="新增话术模板 / add a template",
)
def create_template(body: TemplateCreate, actor: Writer, container: ContainerDep) -> TemplateSavedOut:
    t = ScriptTemplate(0, body.business_type, body.node_type, body.title, body.text)
    saved = svc.save_template(container.uows, actor=actor, template=t)
    return TemplateSavedOut(
        **_template_out(saved.template).model_dump(),
        hits=[ReviewHitOut(**dataclasses.asdict(h)) for h in saved.hits],
    )


@router.get("/script-templates/{template_id}", response_model=TemplateOut, summary="话术模板 / a template")
def get_template(template_id: IdPath, actor: Reader, container: ContainerDep) -> TemplateOut:
    return _template_out(svc.get_template(container.uows, template_id))


@router.patch(
    "/script-templates/{template_id}",
    response_model=TemplateSavedOut,
    summary="修改话术模板 / edit a template",
)
def update_template(
    template_id: IdPath, body: TemplatePatch, actor: Writer, container: ContainerDep
) -> TemplateSavedOut:
    current = svc.get_template(container.uows, template_id)
    t = dataclasses.replace(current, **body.model_dump(exclude_none=True))
    saved = svc.save_template(container.uows, actor=actor, template=t)
    return TemplateSavedOut(
        **_template_out(saved.template).model_dump(),
        hits=[ReviewHitOut(**dataclasses.asdict(h)) for h in saved.hits],
    )


@router.delete("/script-templates/{template_id}", status_code=204, summary="删除话术模板 / delete a template")
def delete_template(template_id: IdPath, actor: Writer, container: ContainerDep) -> None:
    svc.delete_template(container.uows, actor=actor, template_id=template_id)
