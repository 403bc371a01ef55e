"""Interview-mode and flow selection (SPEC §2.2): customer type × business type × risk level →
AI (self-service) or human interview, and which flow.

Rules are tried by ascending ``priority`` (then id); an empty criterion matches anything. The
first enabled rule that matches decides; no match is an explicit error for the caller to report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dualrec.core.flow import FlowMode

__all__ = ["RoutingRule", "select_route"]


@dataclass(frozen=True)
class RoutingRule:
    id: int
    priority: int
    flow_code: str
    mode: FlowMode = "self_service"
    customer_types: frozenset[str] = frozenset()
    business_types: frozenset[str] = frozenset()
    risk_levels: frozenset[str] = frozenset()
    enabled: bool = True
    name: str = ""

    def matches(self, *, customer_type: str, business_type: str, risk_level: str) -> bool:
        return (
            self.enabled
            and (not self.customer_types or customer_type in self.customer_types)
            and (not self.business_types or business_type in self.business_types)
            and (not self.risk_levels or risk_level in self.risk_levels)
        )


def select_route(
    rules: Sequence[RoutingRule], *, customer_type: str, business_type: str, risk_level: str
) -> RoutingRule | None:
    for rule in sorted(rules, key=lambda r: (r.priority, r.id)):
        if rule.matches(customer_type=customer_type, business_type=business_type, risk_level=risk_level):
            return rule
    return None
