"""The interviewer queue's rules (core/rtc_queue.py): VIP first then first come, per skill group and
branch scope; the estimated wait; when a waiting customer is given up on; node marks → QC markers;
the room token bound to a feed (services/rtc/tokens.py)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from dualrec.core.rtc_queue import (
    QueueEntry,
    QueueStatus,
    average_handling,
    estimated_wait,
    give_up_reason,
    marks_to_markers,
    next_for_agent,
    parse_skill_map,
    position_of,
    serves,
    vip_level,
)
from dualrec.services.rtc import tokens

T0 = datetime(2026, 12, 21, 9, 0, tzinfo=UTC)


def entry(
    i: int, *, vip: int = 0, at: int = 0, group: str = "wealth", path: str = "/1/2/", **kw: object
) -> QueueEntry:
    values: dict[str, object] = {
        "id": i,
        "task_id": f"t{i}",
        "attempt": 1,
        "branch_id": 2,
        "branch_path": path,
        "business_type": group,
        "skill_group": group,
        "vip_level": vip,
        "status": QueueStatus.WAITING,
        "source": "routing",
        "enqueued_at": T0 + timedelta(seconds=at),
        "last_seen_at": T0 + timedelta(seconds=at),
    }
    values.update(kw)
    return QueueEntry(**values)  # type: ignore[arg-type]


def test_vip_levels_come_from_the_customer_type_tag() -> None:
    assert [vip_level(t) for t in ("vip", "VIP2", "vip-3", "vip_9", "personal", "vipx", "")] == [
        1,
        2,
        3,
        9,
        0,
        0,
        0,
    ]


def test_a_vip_who_came_later_is_served_first_then_first_come_first_served() -> None:
    queue = [entry(1, at=0), entry(2, at=10), entry(3, vip=2, at=20), entry(4, vip=1, at=5)]
    assert next_for_agent(queue, [], "/1/").id == 3  # type: ignore[union-attr]
    assert [position_of(queue, i) for i in (1, 2, 3, 4)] == [3, 4, 1, 2]
    # an accepted entry is no longer anybody's place in the line
    accepted = [*queue[:2], entry(3, vip=2, at=20, status=QueueStatus.ACCEPTED), queue[3]]
    assert [position_of(accepted, i) for i in (1, 2, 3, 4)] == [2, 3, 0, 1]


def test_positions_and_agents_are_per_skill_group_and_branch_scope() -> None:
    queue = [entry(1, at=0, group="insurance"), entry(2, at=10), entry(3, at=20, path="/1/9/")]
    assert position_of(queue, 2) == 1 and position_of(queue, 1) == 1  # separate lines
    assert next_for_agent(queue, ["wealth"], "/1/").id == 2  # type: ignore[union-attr]
    assert next_for_agent(queue, ["wealth"], "/1/9/").id == 3  # type: ignore[union-attr]
    assert next_for_agent(queue, ["fx"], "/1/") is None
    assert next_for_agent(queue, [], "/1/").id == 1  # type: ignore[union-attr]  # no groups: every group
    assert not serves([], "/1/2/", queue[2]) and serves([], "/1/", queue[2])


def test_the_estimated_wait_divides_the_place_among_free_agents() -> None:
    assert average_handling([], 300) == 300
    assert average_handling([100, 200, 0], 300) == 150
    assert estimated_wait(1, 150, 0) == 150  # nobody online: what one agent would take
    assert estimated_wait(3, 150, 1) == 450
    assert estimated_wait(3, 150, 2) == 300  # ⌈3/2⌉ rounds
    assert estimated_wait(4, 150, 4) == 150
    assert estimated_wait(0, 150, 1) == 0


def test_a_silent_page_is_abandoned_and_a_long_wait_times_out() -> None:
    limits = {"timeout": timedelta(minutes=15), "abandon_after": timedelta(seconds=45)}
    e = entry(1)
    assert give_up_reason(e, T0 + timedelta(seconds=30), **limits) is None
    assert give_up_reason(e, T0 + timedelta(seconds=46), **limits) == QueueStatus.ABANDONED
    polled = entry(1, last_seen_at=T0 + timedelta(minutes=16))
    assert give_up_reason(polled, T0 + timedelta(minutes=16), **limits) == QueueStatus.TIMEOUT
    accepted = entry(1, status=QueueStatus.ACCEPTED)
    assert give_up_reason(accepted, T0 + timedelta(hours=2), **limits) is None


def test_the_skill_map_is_checked() -> None:
    assert parse_skill_map(" wealth:理财, insurance:保险 ,") == {"wealth": "理财", "insurance": "保险"}
    with pytest.raises(ValueError, match="not 'business_type:skill_group'"):
        parse_skill_map("wealth")


def test_node_marks_become_markers_on_the_recordings_timeline() -> None:
    at = lambda s: T0 + timedelta(seconds=s)  # noqa: E731
    marks = [
        ("risk", "start", at(12)),
        ("risk", "end", at(20)),
        ("q1", "start", at(22)),
        ("q2", "start", at(30)),  # q1 never ended: it ends where q2 starts
        ("q3", "end", at(31)),  # an end without a start is dropped
    ]
    assert marks_to_markers(marks, at(10), 40.0) == [
        {"node_id": "risk", "start": 2.0, "end": 10.0},
        {"node_id": "q1", "start": 12.0, "end": 20.0},
        {"node_id": "q2", "start": 20.0, "end": 40.0},  # still open at the end of the call
    ]
    # a mark before the recording's first packet starts at 0
    assert marks_to_markers([("risk", "start", at(5))], at(10), 3.0) == [
        {"node_id": "risk", "start": 0.0, "end": 3.0}
    ]


def test_a_room_token_names_its_room_and_feed_and_forgeries_are_refused() -> None:
    now = int(time.time())
    token = tokens.room_token("secret", now + 60, 1234, 77)
    assert token.startswith(f"{now + 60},janus.plugin.videoroom,room=1234,feed=77:")
    assert tokens.verify_room_token("secret", token, now=now) == (1234, 77)
    assert tokens.verify_room_token("other", token, now=now) is None
    assert tokens.verify_room_token("secret", token, now=now + 61) is None  # expired
    tampered = token.replace("feed=77", "feed=78")
    assert tokens.verify_room_token("secret", tampered, now=now) is None
    assert tokens.verify_room_token("secret", None, now=now) is None
    assert tokens.verify_room_token("secret", tokens.room_token("secret", now + 60, 5), now=now) == (5, None)
