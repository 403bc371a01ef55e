"""The checkpoint chain (core.evidence.checkpoint_chain_problems) and the full audit row hash."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from dualrec.core.audit import chain_hash, row_hash
from dualrec.core.evidence import (
    GENESIS_HASH,
    checkpoint_chain_problems,
    checkpoint_hash,
    checkpoint_payload,
    checkpoint_payload_v1,
)

AT = datetime(2026, 12, 5, 10, 0, 0, 123456, tzinfo=UTC)


def _chain(n: int, *, v1_first: int = 0) -> list[tuple[int, dict[str, Any]]]:
    out: list[tuple[int, dict[str, Any]]] = []
    for number in range(1, n + 1):
        if number <= v1_first:
            payload = checkpoint_payload_v1(seq=number * 10, head_hash="a" * 64, root="b" * 64, at=AT,
                                            key_id="k", algorithm="ed25519")  # fmt: skip
        else:
            payload = checkpoint_payload(
                number=number, seq=number * 10, head_hash="a" * 64, root="b" * 64, at=AT, key_id="k",
                algorithm="ed25519", prev_number=number - 1,
                prev_hash=checkpoint_hash(out[-1][1]) if out else GENESIS_HASH,
                audit_seq=number, audit_hash="c" * 64, audited=False,
            )  # fmt: skip
        out.append((number, payload))
    return out


def test_an_intact_chain_and_one_continuing_format_1_have_no_problem() -> None:
    assert checkpoint_chain_problems(_chain(5)) == []
    assert checkpoint_chain_problems(_chain(5, v1_first=2)) == []
    assert checkpoint_chain_problems(_chain(5)[2:]) == []  # a segment: its first link is not checked


def _rewrite(chain: list[tuple[int, dict[str, Any]]]) -> None:
    chain[1][1]["merkle_root"] = "d" * 64  # re-signed by the key holder, say: the next link breaks


def _set(position: int, **changes: Any) -> Any:
    return lambda c: c.__setitem__(position - 1, (position, {**c[position - 1][1], **changes}))


V1 = checkpoint_payload_v1(seq=40, head_hash="a" * 64, root="b" * 64, at=AT, key_id="k", algorithm="ed25519")


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (_rewrite, "checkpoint 3: does not link to checkpoint 2 (checkpoint 2 was rewritten or replaced)"),
        (lambda c: c.pop(2), "checkpoint 3 missing (the chain goes from 2 to 4)"),
        (
            _set(1, prev_hash="e" * 64),
            "checkpoint 1: the first checkpoint does not start at the genesis hash",
        ),
        (_set(4, number=7), "checkpoint 4: signed as number 7"),
        (_set(4, seq=5), "checkpoint 4: the ledger position goes back"),
        (_set(4, audit_seq=1), "checkpoint 4: the audit log position goes back"),
        (lambda c: c.__setitem__(3, (4, V1)), "checkpoint 4: format 1 after format 2"),
    ],
)
def test_a_changed_chain_is_named(tamper: Any, expected: str) -> None:
    chain = _chain(5)
    tamper(chain)
    problems = checkpoint_chain_problems(chain)
    assert any(expected in p for p in problems), problems


def _row(**over: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "at": AT, "actor": "admin", "actor_id": 1, "branch_id": 2, "action": "auth.login",
        "target_type": "user", "target_id": "1", "outcome": "success", "ip": "10.0.0.1",
        "user_agent": "Firefox", "details": {"a": 1},
    }  # fmt: skip
    row.update(over)
    return row


@pytest.mark.parametrize(
    "field", ["at", "actor", "actor_id", "branch_id", "action", "target_type", "target_id", "outcome", "ip",
              "user_agent", "details"],
)  # fmt: skip
def test_version_2_covers_every_column_version_1_did_not(field: str) -> None:
    other = {"at": datetime(2026, 12, 5, 10, 0, 1, tzinfo=UTC), "actor_id": 9, "branch_id": 9,
             "details": {"a": 2}}.get(field, "changed")  # fmt: skip
    assert row_hash(2, GENESIS_HASH, **_row()) != row_hash(2, GENESIS_HASH, **_row(**{field: other}))
    same_in_v1 = field in ("actor_id", "branch_id", "ip", "user_agent")
    v1 = row_hash(1, GENESIS_HASH, **_row()) == row_hash(1, GENESIS_HASH, **_row(**{field: other}))
    assert v1 == same_in_v1
    assert row_hash(1, GENESIS_HASH, **_row()) == chain_hash(
        GENESIS_HASH, AT, "admin", "auth.login", "user:1", "success", {"a": 1}
    )
