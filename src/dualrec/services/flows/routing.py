"""The interview-mode / flow selection rules table (core.routing)."""

from __future__ import annotations

from dualrec.core.audit import AuditAction
from dualrec.core.routing import RoutingRule
from dualrec.db.uow import UnitOfWorkFactory
from dualrec.errors import InvalidInputError
from dualrec.i18n import msg
from dualrec.services.common import audit
from dualrec.services.common.context import Actor

__all__ = ["list_rules", "replace_rules"]


def list_rules(uows: UnitOfWorkFactory) -> list[RoutingRule]:
    with uows.read() as uow:
        return uow.flows.rules()


def replace_rules(uows: UnitOfWorkFactory, *, actor: Actor, rules: list[RoutingRule]) -> list[RoutingRule]:
    """Saves the whole table at once (the UI edits it as a table); every flow must exist."""
    with uows() as uow:
        known = {f.code: f for f in uow.flows.all(include_archived=True)}
        for i, rule in enumerate(rules):
            flow = known.get(rule.flow_code)
            if flow is None:
                raise InvalidInputError(
                    msg("flows.rule_flow", value=i + 1, flow_code=rule.flow_code),
                    details={"where": f"rules[{i}].flow_code"},
                )
            if flow.archived:
                raise InvalidInputError(
                    msg("flows.rule_flow_archived", value=i + 1, flow_code=rule.flow_code),
                    details={"where": f"rules[{i}].flow_code"},
                )
        saved = uow.flows.replace_rules(rules)
        audit.record(
            uow,
            actor=actor,
            action=AuditAction.ROUTING_CHANGED,
            target_type="routing_rules",
            details={"rules": len(saved)},
        )
        uow.commit()
        return saved
