"""Multi-level approval chains (多级审批), e.g. deleting an archived recording.

A chain is an ordered list of steps, each naming the role whose holders may decide it (部门负责人 →
合规 → 系统管理员 by default). A request copies the chain when it is made, so editing the chain later
never changes a request in flight. Rules, checked by ``refusal`` before anything is recorded:

* only a pending request can be decided, one step at a time, in order;
* the decider must hold the current step's role (exactly: an administrator is not a compliance
  officer);
* the requester never decides their own request, and nobody decides two steps of one request;
* nothing is decided while the item is under legal hold.

One rejection ends the request. The action (the deletion) happens only after the last approval.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

__all__ = [
    "DEFAULT_DELETE_CHAIN",
    "MAX_STEPS",
    "ApprovalState",
    "ApprovalStep",
    "Decision",
    "Refusal",
    "RequestStatus",
    "StepDecision",
    "apply_decision",
    "chain_problems",
    "refusal",
]

MAX_STEPS = 6


class RequestStatus(StrEnum):
    PENDING = "pending"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    COMPLETED = "completed"  # every step approved and the action carried out


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class Refusal(StrEnum):
    NOT_PENDING = "not_pending"
    LEGAL_HOLD = "legal_hold"
    WRONG_ROLE = "wrong_role"
    REQUESTER = "requester"
    ALREADY_DECIDED = "already_decided"


@dataclass(frozen=True)
class ApprovalStep:
    role: str
    name: str = ""  # how the console labels the step, e.g. "合规"


@dataclass(frozen=True)
class StepDecision:
    step: int  # 0-based index into the steps
    user_id: int
    username: str
    role: str
    decision: Decision
    comment: str
    at: datetime


@dataclass(frozen=True)
class ApprovalState:
    requester_id: int
    steps: tuple[ApprovalStep, ...]
    decisions: tuple[StepDecision, ...] = ()
    status: RequestStatus = RequestStatus.PENDING

    @property
    def current_step(self) -> int | None:
        """Index of the step waiting for a decision; None when the request is no longer pending."""
        return len(self.decisions) if self.status is RequestStatus.PENDING else None

    @property
    def fully_approved(self) -> bool:
        return len(self.decisions) == len(self.steps) and all(
            d.decision is Decision.APPROVE for d in self.decisions
        )


DEFAULT_DELETE_CHAIN: tuple[ApprovalStep, ...] = (
    ApprovalStep("branch_supervisor", "部门负责人"),
    ApprovalStep("compliance", "合规"),
    ApprovalStep("admin", "系统管理员"),
)


def refusal(state: ApprovalState, *, user_id: int, role: str, legal_hold: bool) -> Refusal | None:
    """Why this user may not decide the current step now; None when they may."""
    step = state.current_step
    if step is None or step >= len(state.steps):
        return Refusal.NOT_PENDING
    if legal_hold:
        return Refusal.LEGAL_HOLD
    if user_id == state.requester_id:
        return Refusal.REQUESTER
    if any(d.user_id == user_id for d in state.decisions):
        return Refusal.ALREADY_DECIDED
    if role != state.steps[step].role:
        return Refusal.WRONG_ROLE
    return None


def apply_decision(
    state: ApprovalState,
    *,
    user_id: int,
    username: str,
    role: str,
    decision: Decision,
    comment: str,
    at: datetime,
    legal_hold: bool,
) -> ApprovalState:
    """The state after the decision. ValueError(refusal) when ``refusal`` says no.

    A rejection ends the request; the last approval leaves it ``PENDING`` with every step approved
    (``fully_approved``) until the caller has carried out the action and marks it ``COMPLETED``."""
    why = refusal(state, user_id=user_id, role=role, legal_hold=legal_hold)
    if why is not None:
        raise ValueError(why.value)
    step = state.current_step
    assert step is not None
    made = StepDecision(step, user_id, username, role, Decision(decision), comment, at)
    decisions = (*state.decisions, made)
    status = RequestStatus.REJECTED if made.decision is Decision.REJECT else RequestStatus.PENDING
    return replace(state, decisions=decisions, status=status)


def chain_problems(steps: tuple[ApprovalStep, ...], known_roles: frozenset[str]) -> list[str]:
    """What is wrong with a chain configuration (empty when it can be saved)."""
    problems: list[str] = []
    if not steps:
        problems.append("at least one step is required")
    if len(steps) > MAX_STEPS:
        problems.append(f"at most {MAX_STEPS} steps")
    for i, step in enumerate(steps):
        if step.role not in known_roles:
            problems.append(f"step {i + 1}: unknown role {step.role!r}")
    return problems
