"""Flow administration: drafts, validation and text review on save, publishing immutable versions.

Publishing runs ``validate_flow`` (any problem blocks it) and the sensitive-word review of every
text; review hits block publishing unless a user with ``flows:override_review`` gives a reason,
which is stored with the version and audited. A task keeps the version it started with.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

from dualrec.core.audit import AuditAction
from dualrec.core.flow import (
    Flow,
    FlowChange,
    FlowProblem,
    TextHit,
    diff_flows,
    flow_to_dict,
    parse_flow,
    review_flow_texts,
    validate_flow,
)
from dualrec.core.flow_versions import FlowVersion, StoredFlow
from dualrec.core.rbac import Permission
from dualrec.db.uow import UnitOfWork, UnitOfWorkFactory
from dualrec.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from dualrec.i18n import msg
from dualrec.services.common import audit
from dualrec.services.common.context import Actor

__all__ = [
    "FlowView",
    "create_flow",
    "definition_sha256",
    "get_flow",
    "get_version",
    "list_flows",
    "publish_flow",
    "save_draft",
    "set_archived",
]

_CODE_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_")


@dataclass(frozen=True)
class FlowView:
    """A flow with what the editor needs: problems, review hits, and the diff to the last version."""

    flow: StoredFlow
    problems: list[FlowProblem]
    hits: list[TextHit]
    changes: list[FlowChange]  # draft vs the latest published version
    unpublished_changes: bool


def definition_sha256(definition: dict[str, Any]) -> str:
    body = json.dumps(definition, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def _check_code(code: str) -> None:
    if not 2 <= len(code) <= 64 or not set(code) <= _CODE_CHARS:
        raise InvalidInputError(
            msg("flows.flow_code_2_64_z"),
            details={"where": "code"},
        )


def _parse(code: str, name: str, business_type: str, definition: dict[str, Any]) -> Flow:
    if not isinstance(definition, dict):
        raise InvalidInputError(msg("flows.flow_definition_must_object"))
    data = {k: v for k, v in definition.items() if k not in ("id", "name", "business_type")}
    return parse_flow({**data, "id": code, "name": name, "business_type": business_type})


def _view(uow: UnitOfWork, stored: StoredFlow) -> FlowView:
    flow = parse_flow(stored.draft)
    latest = uow.flows.version(stored.id, stored.latest_version) if stored.latest_version else None
    old = parse_flow(latest.definition) if latest else None
    changes = diff_flows(old, flow)
    return FlowView(
        flow=stored,
        problems=validate_flow(flow) + _bank_problems(uow, flow),
        hits=review_flow_texts(flow, uow.sensitive_words.all()),
        changes=changes,
        unpublished_changes=latest is None or latest.sha256 != definition_sha256(stored.draft),
    )


def _bank_problems(uow: UnitOfWork, flow: Flow) -> list[FlowProblem]:
    """A qa node that draws from a bank needs that bank to exist."""
    drawing = [n for n in flow.active_nodes if n.draw_bank]
    if not drawing:
        return []
    known = {b.code for b in uow.questions.banks()}
    return [
        FlowProblem(n.id, f"题库「{n.draw_bank}」不存在 / question bank {n.draw_bank!r} does not exist")
        for n in drawing
        if n.draw_bank not in known
    ]


def _stored(uow: UnitOfWork, code: str, *, for_update: bool = False) -> StoredFlow:
    stored = uow.flows.get(code, for_update=for_update)
    if stored is None:
        raise NotFoundError(msg("flows.flow_found"), details={"flow_code": code})
    return stored


def list_flows(uows: UnitOfWorkFactory, *, include_archived: bool = False) -> list[StoredFlow]:
    with uows.read() as uow:
        return uow.flows.all(include_archived=include_archived)


def get_flow(uows: UnitOfWorkFactory, code: str) -> FlowView:
    with uows() as uow:
        stored = _stored(uow, code)
        return _view(uow, stored)


def create_flow(
    uows: UnitOfWorkFactory,
    *,
    actor: Actor,
    code: str,
    name: str,
    business_type: str,
    definition: dict[str, Any],
) -> FlowView:
    _check_code(code)
    flow = _parse(code, name, business_type, definition)
    with uows() as uow:
        if uow.flows.get(code) is not None:
            raise ConflictError(msg("flows.flow_code_exists"), details={"flow_code": code})
        stored = uow.flows.add(
            code=code, name=name, business_type=business_type, draft=flow_to_dict(flow), by=actor.name
        )
        audit.record(uow, actor=actor, action=AuditAction.FLOW_CREATED, target_type="flow", target_id=code)
        view = _view(uow, stored)
        uow.commit()
        return view


def save_draft(
    uows: UnitOfWorkFactory,
    *,
    actor: Actor,
    code: str,
    name: str,
    business_type: str,
    definition: dict[str, Any],
) -> FlowView:
    flow = _parse(code, name, business_type, definition)
    with uows() as uow:
        stored = _stored(uow, code, for_update=True)
        if stored.archived:
            raise ConflictError(msg("flows.flow_archived"), details={"flow_code": code})
        uow.flows.save_draft(
            code, name=name, business_type=business_type, draft=flow_to_dict(flow), by=actor.name
        )
        view = _view(uow, uow.flows.get(code) or stored)
        audit.record(
            uow,
            actor=actor,
            action=AuditAction.FLOW_SAVED,
            target_type="flow",
            target_id=code,
            details={"problems": len(view.problems), "sensitive_hits": len(view.hits)},
        )
        uow.commit()
        return view


def publish_flow(
    uows: UnitOfWorkFactory, *, actor: Actor, code: str, override_reason: str = "", expected_sha256: str = ""
) -> FlowVersion:
    """Publishes the current draft as the next version.

    ``expected_sha256`` (optional) is the draft the publisher reviewed: if someone saved a different
    draft meanwhile, publishing is refused instead of publishing unseen changes.
    """
    assert actor.principal is not None
    override_reason = override_reason.strip()
    with uows() as uow:
        stored = _stored(uow, code, for_update=True)
        if stored.archived:
            raise ConflictError(msg("flows.flow_archived"), details={"flow_code": code})
        sha = definition_sha256(stored.draft)
        if expected_sha256 and expected_sha256 != sha:
            raise ConflictError(
                msg("flows.draft_changed_since_you_reviewed"),
                details={"flow_code": code, "draft_sha256": sha},
            )
        view = _view(uow, stored)
        if view.problems:
            raise InvalidInputError(
                msg("flows.flow_problems_cannot_published"),
                details={"problems": [asdict(p) for p in view.problems]},
            )
        if not view.unpublished_changes:
            raise ConflictError(msg("flows.nothing_changed_since_latest_version"))
        hits = [asdict(h) for h in view.hits]
        if hits and not override_reason:
            raise ConflictError(
                msg("flows.texts_contain_sensitive_words_publishing"),
                details={"hits": hits},
            )
        if override_reason and hits:
            if not actor.principal.can(Permission.FLOWS_OVERRIDE_REVIEW):
                audit.record(
                    uow,
                    actor=actor,
                    action=AuditAction.FLOW_REVIEW_OVERRIDDEN,
                    target_type="flow",
                    target_id=code,
                    outcome="denied",
                    details={"reason": override_reason},
                )
                uow.commit()
                raise PermissionDeniedError(
                    msg("flows.forbidden_requires_flows_override_review"),
                    details={"permission": Permission.FLOWS_OVERRIDE_REVIEW.value},
                )
            audit.record(
                uow,
                actor=actor,
                action=AuditAction.FLOW_REVIEW_OVERRIDDEN,
                target_type="flow",
                target_id=code,
                details={"reason": override_reason, "words": sorted({h["word"] for h in hits})},
            )
        version = uow.flows.add_version(
            stored.id,
            version=stored.latest_version + 1,
            definition=stored.draft,
            sha256=sha,
            by=actor.name,
            changes=[asdict(c) for c in view.changes],
            review_hits=hits,
            override_reason=override_reason if hits else "",
        )
        audit.record(
            uow,
            actor=actor,
            action=AuditAction.FLOW_PUBLISHED,
            target_type="flow",
            target_id=code,
            details={"version": version.version, "sha256": sha, "changes": len(view.changes)},
        )
        uow.commit()
        return version


def get_version(uows: UnitOfWorkFactory, code: str, version: int | None = None) -> list[FlowVersion]:
    """One version (``version``) or all of them, newest first."""
    with uows() as uow:
        stored = _stored(uow, code)
        if version is None:
            return uow.flows.versions(stored.id)
        found = uow.flows.version(stored.id, version)
        if found is None:
            raise NotFoundError(msg("flows.version_found"), details={"flow_code": code, "version": version})
        return [found]


def set_archived(uows: UnitOfWorkFactory, *, actor: Actor, code: str, archived: bool) -> None:
    with uows() as uow:
        _stored(uow, code)
        uow.flows.set_archived(code, archived)
        audit.record(
            uow,
            actor=actor,
            action=AuditAction.FLOW_SAVED,
            target_type="flow",
            target_id=code,
            details={"archived": archived},
        )
        uow.commit()
