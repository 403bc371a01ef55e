"""The remote-interview queue (排队, SPEC §3.2): who is served next, where a customer stands, how long
the wait should be, and when a waiting customer is given up on.

- Order: the VIP level first (higher first), then who came first. The VIP level comes from the
  task's customer type tag: ``vip`` is level 1, ``vip2``/``VIP3``… that level (``vip_level``).
- Routing: an entry belongs to a skill group (the task's business type, or what the configured skill
  map makes of it) and to the task's branch; an agent sees the entries of its skill groups (none
  configured: every group) inside its branch scope.
- Estimated wait: the customer's place divided among the agents available, times the average
  handling time of recent calls (a configured default until there are any).
- A waiting customer whose page stopped asking for the position is *abandoned*; one waiting longer
  than the queue timeout *timed out*.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from dualrec.core.branches import in_scope

__all__ = [
    "QueueEntry",
    "QueueStatus",
    "average_handling",
    "estimated_wait",
    "give_up_reason",
    "marks_to_markers",
    "next_for_agent",
    "order_key",
    "parse_skill_map",
    "position_of",
    "serves",
    "skill_group_of",
    "vip_level",
]

MAX_VIP = 9
_VIP = re.compile(r"^vip[-_ ]?([0-9])?$", re.IGNORECASE)


class QueueStatus(StrEnum):
    WAITING = "waiting"
    ACCEPTED = "accepted"  # an agent took the customer; the call is being set up or runs
    DONE = "done"  # the call ended (hang-up)
    ABANDONED = "abandoned"  # the customer left (page closed, stopped polling, or said so)
    TIMEOUT = "timeout"  # nobody accepted in time


OPEN_STATUSES = frozenset({QueueStatus.WAITING, QueueStatus.ACCEPTED})


@dataclass(frozen=True)
class QueueEntry:
    id: int
    task_id: str
    attempt: int
    branch_id: int
    branch_path: str
    business_type: str
    skill_group: str
    vip_level: int
    status: str
    source: str  # "routing" (a human-mode task) or "handover" (the AI session handed over)
    enqueued_at: datetime
    last_seen_at: datetime
    summary: dict[str, Any] = field(default_factory=dict)
    accepted_by: int | None = None
    accepted_by_name: str = ""
    accepted_at: datetime | None = None
    ended_at: datetime | None = None
    reason: str = ""
    recording_id: str | None = None


def vip_level(customer_type: str) -> int:
    """``vip`` → 1, ``vip3`` / ``VIP-3`` → 3, anything else → 0."""
    m = _VIP.match(customer_type.strip())
    if not m:
        return 0
    return min(MAX_VIP, int(m.group(1))) if m.group(1) else 1


def parse_skill_map(text: str) -> dict[str, str]:
    """``wealth:理财,insurance:保险`` → {business type: skill group}; blank parts are skipped."""
    out: dict[str, str] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        business, sep, group = part.partition(":")
        if not sep or not business.strip() or not group.strip():
            raise ValueError(f"skill map entry {part.strip()!r} is not 'business_type:skill_group'")
        out[business.strip()] = group.strip()
    return out


def skill_group_of(business_type: str, skill_map: Mapping[str, str]) -> str:
    return skill_map.get(business_type, business_type)


def order_key(e: QueueEntry) -> tuple[int, datetime, int]:
    return (-e.vip_level, e.enqueued_at, e.id)


def serves(agent_groups: Iterable[str], agent_branch_path: str, e: QueueEntry) -> bool:
    """Whether an agent (its skill groups, its branch scope) may take this entry."""
    groups = set(agent_groups)
    return in_scope(agent_branch_path, e.branch_path) and (not groups or e.skill_group in groups)


def position_of(entries: Sequence[QueueEntry], entry_id: int) -> int:
    """1-based place of a waiting entry among the waiting entries of its skill group (0: not waiting)."""
    mine = next((e for e in entries if e.id == entry_id), None)
    if mine is None or mine.status != QueueStatus.WAITING:
        return 0
    ahead = [
        e
        for e in entries
        if e.status == QueueStatus.WAITING
        and e.skill_group == mine.skill_group
        and order_key(e) < order_key(mine)
    ]
    return len(ahead) + 1


def next_for_agent(
    entries: Sequence[QueueEntry], agent_groups: Iterable[str], agent_branch_path: str
) -> QueueEntry | None:
    groups = list(agent_groups)
    waiting = [e for e in entries if e.status == QueueStatus.WAITING and serves(groups, agent_branch_path, e)]
    return min(waiting, key=order_key) if waiting else None


def average_handling(durations: Sequence[float], default: float) -> float:
    """The mean of recent calls' handling times (seconds), ``default`` until there are any."""
    usable = [d for d in durations if d > 0]
    return sum(usable) / len(usable) if usable else default


def estimated_wait(position: int, average: float, agents_available: int) -> int:
    """Seconds until a customer at ``position`` is served: ⌈position / agents⌉ rounds of the average
    call (at least one agent is assumed: with none online the estimate is what one would take)."""
    if position <= 0:
        return 0
    rounds = math.ceil(position / max(1, agents_available))
    return round(rounds * average)


def give_up_reason(
    e: QueueEntry, now: datetime, *, timeout: timedelta, abandon_after: timedelta
) -> str | None:
    """``timeout`` / ``abandoned`` for a waiting entry that should leave the queue, else None."""
    if e.status != QueueStatus.WAITING:
        return None
    if now - e.last_seen_at > abandon_after:
        return QueueStatus.ABANDONED
    if now - e.enqueued_at > timeout:
        return QueueStatus.TIMEOUT
    return None


def marks_to_markers(
    marks: Sequence[tuple[str, str, datetime]], t0: datetime, length: float
) -> list[dict[str, Any]]:
    """An interviewer's node marks (node id, ``start``/``end``, wall clock) → QC markers on the
    recording's timeline (seconds from ``t0``, clamped to ``[0, length]``). A node still open when
    the next one starts (or the call ends) ends there; an ``end`` without a ``start`` is dropped."""
    out: list[dict[str, Any]] = []
    open_node: tuple[str, float] | None = None

    def close(at: float) -> None:
        nonlocal open_node
        if open_node is not None:
            node_id, start = open_node
            out.append({"node_id": node_id, "start": round(start, 3), "end": round(max(start, at), 3)})
            open_node = None

    for node_id, kind, at in sorted(marks, key=lambda m: m[2]):
        t = min(max((at - t0).total_seconds(), 0.0), max(length, 0.0))
        if kind == "start":
            close(t)
            open_node = (node_id, t)
        elif kind == "end" and open_node is not None and open_node[0] == node_id:
            close(t)
    close(max(length, 0.0))
    return out
