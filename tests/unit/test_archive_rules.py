"""Retention codes and expiry dates, and the approval-chain rules (pure, table-tested)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from dualrec.core.approvals import (
    DEFAULT_DELETE_CHAIN,
    ApprovalState,
    ApprovalStep,
    Decision,
    Refusal,
    RequestStatus,
    apply_decision,
    chain_problems,
    refusal,
)
from dualrec.core.archive import file_format
from dualrec.core.retention import (
    DEFAULT_POLICIES,
    RetentionBasis,
    add_years,
    compute_expiry,
    expiring_within,
    is_expired,
    normalize_retention_code,
    policy_for,
)
from dualrec.services.common.blind_index import BlindIndex, normalize_name

AT = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("code", "norm"),
    [
        ("Y", "Y"),
        ("y", "Y"),
        ("D30", "D30"),
        ("d10", "D10"),
        ("10Y", "D10"),
        (" 5y ", "D5"),
        ("D100", "D100"),
    ],
)
def test_retention_codes_normalise(code: str, norm: str) -> None:
    assert normalize_retention_code(code) == norm


@pytest.mark.parametrize("code", ["", "D", "D0", "0Y", "D101", "X10", "10", "YY", "D-1", "1.5Y"])
def test_invalid_retention_codes_are_refused(code: str) -> None:
    with pytest.raises(ValueError):
        normalize_retention_code(code)


@pytest.mark.parametrize(
    ("code", "basis", "contract_end", "expected"),
    [
        ("Y", "recorded_at", None, None),  # permanent
        ("D30", "recorded_at", None, date(2056, 11, 23)),
        ("D10", "contract_end", None, None),  # basis unknown: no date, never deleted on a guess
        ("D10", "contract_end", date(2031, 6, 30), date(2041, 6, 30)),
        ("D5", "contract_end", date(2028, 2, 29), date(2033, 2, 28)),  # leap day → 28 Feb
        ("Y", "contract_end", date(2031, 6, 30), None),
    ],
)
def test_expiry_dates(code: str, basis: str, contract_end: date | None, expected: date | None) -> None:
    assert compute_expiry(code, basis, recorded_at=AT, contract_end=contract_end) == expected


def test_expiry_windows() -> None:
    today = date(2026, 11, 23)
    assert add_years(date(2024, 2, 29), 1) == date(2025, 2, 28)
    assert (
        is_expired(today, today) and not is_expired(date(2026, 11, 24), today) and not is_expired(None, today)
    )
    assert expiring_within(date(2026, 12, 23), today, 30) and not expiring_within(
        date(2026, 12, 24), today, 30
    )
    assert expiring_within(date(2020, 1, 1), today, 0)  # already expired still waits for deletion
    assert not expiring_within(None, today, 36500)


def test_policies_fall_back_to_the_default_then_to_permanent() -> None:
    policies = {p.business_type: p for p in DEFAULT_POLICIES}
    assert policy_for(policies, "insurance").basis is RetentionBasis.CONTRACT_END
    assert policy_for(policies, "unknown").code == "D30"
    assert policy_for({}, "unknown").code == "Y"


def test_file_format() -> None:
    assert file_format("双录.MP4", "video/mp4") == "mp4"
    assert file_format("recording", "video/webm") == "webm"
    assert file_format(".hidden", "video/quicktime") == "quicktime"


def _state(*decisions: tuple[int, str, Decision]) -> ApprovalState:
    state = ApprovalState(requester_id=1, steps=DEFAULT_DELETE_CHAIN)
    for user_id, role, decision in decisions:
        state = apply_decision(
            state,
            user_id=user_id,
            username=f"u{user_id}",
            role=role,
            decision=decision,
            comment="",
            at=AT,
            legal_hold=False,
        )
    return state


A = Decision.APPROVE


@pytest.mark.parametrize(
    ("done", "user_id", "role", "hold", "why"),
    [
        ((), 2, "branch_supervisor", False, None),
        ((), 1, "branch_supervisor", False, Refusal.REQUESTER),
        ((), 2, "compliance", False, Refusal.WRONG_ROLE),
        ((), 2, "admin", False, Refusal.WRONG_ROLE),  # administrators are not every role
        ((), 2, "branch_supervisor", True, Refusal.LEGAL_HOLD),
        (((2, "branch_supervisor", A),), 2, "compliance", False, Refusal.ALREADY_DECIDED),
        (((2, "branch_supervisor", A),), 3, "compliance", False, None),
        (((2, "branch_supervisor", A),), 3, "branch_supervisor", False, Refusal.WRONG_ROLE),
        (((2, "branch_supervisor", A), (3, "compliance", A)), 4, "admin", False, None),
        (
            ((2, "branch_supervisor", A), (3, "compliance", A), (4, "admin", A)),
            5,
            "admin",
            False,
            Refusal.NOT_PENDING,
        ),
        (((2, "branch_supervisor", Decision.REJECT),), 3, "compliance", False, Refusal.NOT_PENDING),
    ],
)
def test_who_may_decide(
    done: tuple[tuple[int, str, Decision], ...], user_id: int, role: str, hold: bool, why: Refusal | None
) -> None:
    assert refusal(_state(*done), user_id=user_id, role=role, legal_hold=hold) == why


def test_a_request_is_fully_approved_only_after_every_step() -> None:
    s1 = _state((2, "branch_supervisor", A))
    s2 = _state((2, "branch_supervisor", A), (3, "compliance", A))
    s3 = _state((2, "branch_supervisor", A), (3, "compliance", A), (4, "admin", A))
    assert not s1.fully_approved and not s2.fully_approved and s3.fully_approved
    assert s3.status is RequestStatus.PENDING and s3.current_step == 3  # the caller executes, then completes
    rejected = _state((2, "branch_supervisor", Decision.REJECT))
    assert rejected.status is RequestStatus.REJECTED and not rejected.fully_approved
    with pytest.raises(ValueError, match="wrong_role"):
        apply_decision(
            s1, user_id=9, username="x", role="admin", decision=A, comment="", at=AT, legal_hold=False
        )


def test_chain_problems() -> None:
    roles = frozenset({"admin", "compliance"})
    assert chain_problems((ApprovalStep("admin"),), roles) == []
    assert chain_problems((), roles) == ["at least one step is required"]
    assert chain_problems((ApprovalStep("boss"),), roles) == ["step 1: unknown role 'boss'"]
    assert "at most 6 steps" in chain_problems(tuple(ApprovalStep("admin") for _ in range(7)), roles)


def test_blind_index_matches_the_task_lookup_hash_and_normalises_names() -> None:
    from datetime import timedelta

    from dualrec.services.common.secretbox import SecretBox
    from dualrec.services.tasks.service import TaskService

    index = BlindIndex("secret-1")
    tasks = TaskService(
        None, SecretBox("secret-1"), secret_key="secret-1", public_url="http://x", link_ttl=timedelta(hours=1)
    )  # type: ignore[arg-type]
    assert index.id_number("11010519491231002x") == tasks.id_number_hash("11010519491231002X")
    assert index.name("张三") == index.name(" 张 三 ".replace(" 三", "三")) and index.name(
        "Zhang  San"
    ) == index.name("zhang san")
    assert index.name("张三") != BlindIndex("secret-2").name("张三") and index.name("") == ""
    assert index.name("张三") != index.id_number("张三")
    assert normalize_name("ＺＨＡＮＧ") == "zhang"
