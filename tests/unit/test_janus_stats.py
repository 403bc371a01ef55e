"""Janus' own view of a call's streams, read from Admin API ``handle_info`` answers recorded from the
real Janus 1.1.2 during a call of tests/e2e (two Chromium with fake media, the customer's publisher
handle and the subscriber handle receiving the agent, 3.6 s apart; the token, SDPs, ICE candidates
and DTLS fingerprints were replaced by "<removed>" before they were saved in tests/data/janus)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from dualrec.services.rtc.janus_stats import JanusAdmin, handle_streams, party_view

DATA = Path(__file__).resolve().parents[1] / "data" / "janus"
CUSTOMER_FEED = 103141206890800
AGENT_FEED = 104272032491876
ROOM = 4241195574503778


def _info(name: str) -> dict[str, Any]:
    info: dict[str, Any] = json.loads((DATA / name).read_text())["info"]
    return info


def test_a_publishers_handle_gives_what_janus_received_from_that_party() -> None:
    room, streams = handle_streams(_info("videoroom_customer_publisher_1.json"))
    assert room == ROOM
    by_kind = {s.kind: s for s in streams}
    assert set(by_kind) == {"audio", "video"}
    audio, video = by_kind["audio"], by_kind["video"]
    assert (audio.feed, audio.direction, audio.packets, audio.bytes) == (CUSTOMER_FEED, "in", 526, 55416)
    assert (video.packets, video.bytes, video.bytes_lastsec, video.nacks) == (388, 310231, 33899, 0)
    assert audio.jitter_ms == 3.0 and audio.lost == 0


def test_a_subscribers_handle_gives_what_janus_sent_and_names_the_feed_it_carries() -> None:
    room, streams = handle_streams(_info("videoroom_customer_subscriber_1.json"))
    assert room == ROOM
    assert {(s.feed, s.direction, s.kind) for s in streams} == {
        (AGENT_FEED, "out", "audio"),
        (AGENT_FEED, "out", "video"),
    }
    video = next(s for s in streams if s.kind == "video")
    assert video.packets == 357 and video.rtt_ms == 25.0  # RTT from the subscriber's RTCP


def test_the_party_view_is_over_the_interval_between_two_samples() -> None:
    _, before = handle_streams(_info("videoroom_customer_publisher_1.json"))
    _, sub_before = handle_streams(_info("videoroom_customer_subscriber_1.json"))
    _, now = handle_streams(_info("videoroom_customer_publisher_2.json"))
    _, sub_now = handle_streams(_info("videoroom_customer_subscriber_2.json"))
    previous = {(s.feed, s.direction, s.kind): s for s in before + sub_before}
    # the customer's party: its publisher in; its subscriber (carrying the agent's feed) out
    view = party_view("customer", CUSTOMER_FEED, now + sub_now, previous)
    assert view is not None
    v_in = view.details["in"]["video"]
    assert v_in["packets"] == 529 - 388 and v_in["lost"] == 0 and v_in["nacks"] == 0
    assert view.video_kbps == round(38009 * 8 / 1000, 1)
    assert view.loss_pct == 0.0 and view.video_loss_pct == 0.0
    assert view.details["out"]["video"]["packets"] > 0
    # the first sample of a handle counts from its start (no previous)
    first = party_view("customer", CUSTOMER_FEED, before, {})
    assert first is not None and first.details["in"]["video"]["packets"] == 388


def test_loss_and_nacks_over_an_interval() -> None:
    """The counters Janus keeps (recorded above) moved as on a lossy uplink: 30 of 130 lost."""
    _, before = handle_streams(_info("videoroom_customer_publisher_2.json"))
    raw = _info("videoroom_customer_publisher_2.json")
    media = raw["webrtc"]["media"]
    media["1"]["stats"]["in"]["packets"] += 100
    media["1"]["rtcp"]["main"]["lost"] += 30
    media["1"]["stats"]["in"]["nacks"] += 12
    _, now = handle_streams(raw)
    view = party_view("customer", CUSTOMER_FEED, now, {(s.feed, s.direction, s.kind): s for s in before})
    assert view is not None
    assert view.video_loss_pct == round(100 * 30 / 130, 2) and view.details["in"]["video"]["nacks"] == 12


def test_other_handles_are_ignored() -> None:
    assert handle_streams({"plugin": "janus.plugin.echotest"}) == (None, [])
    assert handle_streams({"plugin": "janus.plugin.videoroom", "plugin_specific": {}}) == (None, [])
    info = _info("videoroom_customer_publisher_1.json")
    info["plugin_specific"].pop("id")
    assert handle_streams(info) == (ROOM, [])


def test_the_admin_client_sends_its_secret_and_reads_the_recorded_answers() -> None:
    sessions = json.loads((DATA / "list_sessions.json").read_text())
    handles = json.loads((DATA / "list_handles.json").read_text())
    info = json.loads((DATA / "videoroom_customer_publisher_1.json").read_text())
    asked: list[tuple[str, dict[str, Any]]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        asked.append((request.url.path, body))
        replies = {"list_sessions": sessions, "list_handles": handles, "handle_info": info}
        return httpx.Response(200, json=replies[body["janus"]])

    admin = JanusAdmin("http://127.0.0.1:7088/admin", "s3cret", transport=httpx.MockTransport(answer))
    [first, second] = admin.sessions()
    assert admin.handles(first) == handles["handles"]
    assert admin.handle_info(first, handles["handles"][0])["plugin_specific"]["display"] == "customer"
    assert [p for p, _ in asked] == ["/admin", f"/admin/{first}", f"/admin/{first}/{handles['handles'][0]}"]
    assert all(b["admin_secret"] == "s3cret" and b["transaction"] for _, b in asked)
    assert second != first
