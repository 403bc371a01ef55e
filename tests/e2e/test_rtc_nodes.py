"""Two media nodes and a TURN relay, end to end: two `dualrec rtc` (Janus 1 and 2, DUALREC_RTC_NODES
n1/n2) in a network namespace made by the test, a real coturn on the host side of its veth, and
browsers told to send media through TURN only (DUALREC_RTC_ICE_TRANSPORT_POLICY=relay).

A first call (API only) is placed on n1, so the browser call goes to the emptier n2: its room
exists on n2 only, a grant of the n1 call cannot join on n2, both pages connect through coturn with
the TURN logins of their join answers (coturn saw both), and n2's recording is composed and QC'd.

coturn listens and relays on the veth's host address only and may relay to the namespace's address
only (every other peer denied): media never touches the machine's own network address. Needs root,
janus and coturn; skipped elsewhere, failing under CI=true.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser

from dualrec.services.rtc.janus_api import JanusApi
from dualrec.services.rtc.janus_config import load_or_create_secrets
from tests.rtc_support import (
    FLOW,
    RtcSystem,
    connected,
    create_task,
    customer_joins,
    launch,
    log_in,
    need,
    need_rtc_e2e,
    network_namespace,
    publish_flows,
    recorded,
    rtc_context,
    rtc_system,
    wait,
)
from tests.turn_support import TurnServer, has_turnserver, turn_server


@pytest.fixture(scope="module")
def nodes_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RtcSystem, TurnServer]]:
    need_rtc_e2e()
    need(has_turnserver(), "needs coturn (make apt)")
    low = 55000 + (os.getpid() % 100) * 40
    root = tmp_path_factory.mktemp("rtcn")
    with (
        network_namespace("drn", 236) as ns,
        turn_server(root / "turn", ns.host_ip, allowed_peers=(ns.ns_ip,)) as turn,
        rtc_system(
            root / "data",
            ns,
            range(low, low + 40),
            nodes=2,
            DUALREC_RTC_TURN_URLS=turn.url,
            DUALREC_RTC_TURN_SECRET=turn.secret,
            DUALREC_RTC_ICE_TRANSPORT_POLICY="relay",
        ) as sys,
    ):
        publish_flows(sys.admin, [("wm-remote", "wealth", FLOW, "human")])
        yield sys, turn


PEER_USAGE = re.compile(
    r"peer usage: realm=<[^>]*>, username=<\d+(:[a-z]+-[0-9a-f]+)>, rp=\d+, rb=\d+, sp=\d+, sb=(\d+)"
)


def _relayed_to_peer(turn: TurnServer, user: str) -> int:
    """Bytes coturn relayed to the peer (Janus) for the TURN logins ending in ``user`` (logged per
    allocation when it closes)."""
    text = turn.log.read_text(errors="replace")
    return sum(int(m.group(2)) for m in PEER_USAGE.finditer(text) if m.group(1) == user)


def _room_exists(sys: RtcSystem, node: int, room: int) -> bool:
    secret = load_or_create_secrets(sys.data / "rtc" / "secrets.json").api_secret
    with JanusApi(f"http://{sys.ns.ns_ip}:{8087 + node}/janus", secret) as api, api.videoroom() as vr:
        return bool(vr.request({"request": "exists", "room": room}).get("exists"))


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_call_on_the_second_node_connects_through_turn_and_is_recorded(
    nodes_system: tuple[RtcSystem, TurnServer], chromium: Browser
) -> None:
    sys, turn = nodes_system
    started = time.monotonic()
    first_id, _ = create_task(sys.admin, "WM-N1-0001", "wealth", "elderly")
    first = sys.admin.post(f"/api/v1/rtc/tasks/{first_id}/join").json()
    assert first["node"] == "n1" and first["ice_transport_policy"] == "relay", first
    task_id, link = create_task(sys.admin, "WM-N2-0001", "wealth", "elderly")

    agent_browser, customer_browser = launch(chromium), launch(chromium)
    try:
        agent = rtc_context(agent_browser, sys.base, sys.ns.host_ip, 60_000).new_page()
        customer = rtc_context(customer_browser, sys.base, sys.ns.host_ip, 60_000).new_page()
        log_in(agent)
        agent.goto(f"/tasks/{task_id}")
        agent.get_by_role("link", name="视频面签").click()
        with agent.expect_response(lambda r: r.url.endswith(f"/rtc/tasks/{task_id}/join")) as joined:
            agent.get_by_role("button", name="开始视频通话").click()
        grant: dict[str, Any] = joined.value.json()
        assert grant["node"] == "n2", grant  # n1 already has a call
        assert [s["urls"] for s in grant["ice_servers"]] == [[turn.url]]
        customer.goto(f"/h5/{link}")
        customer_joins(customer)
        connected({"agent": agent, "customer": customer})
        setup_s = time.monotonic() - started
        # the room is on n2 only
        assert _room_exists(sys, 2, grant["room"]) and not _room_exists(sys, 1, grant["room"])
        # the n1 call's room token on a session of this call's grant (n2): refused by the proxy
        session = sys.admin.post(
            "/api/v1/rtc/janus", json={"janus": "create", "transaction": "x", "token": grant["core_token"]}
        ).json()["data"]["id"]
        handle = sys.admin.post(
            f"/api/v1/rtc/janus/{session}",
            json={
                "janus": "attach",
                "plugin": "janus.plugin.videoroom",
                "transaction": "x",
                "token": grant["core_token"],
            },
        ).json()["data"]["id"]
        into_n1 = {
            "request": "join",
            "ptype": "publisher",
            "room": first["room"],
            "token": first["room_token"],
            "id": first["feed_id"],
        }
        r = sys.admin.post(
            f"/api/v1/rtc/janus/{session}/{handle}",
            json={"janus": "message", "body": into_n1, "transaction": "x", "token": grant["core_token"]},
        )
        assert r.status_code == 403, r.text
        time.sleep(2)
        agent.get_by_test_id("hangup").click()
        agent.get_by_test_id("call-finished").wait_for()
        customer.get_by_test_id("customer-ended").wait_for(timeout=20_000)
    finally:
        agent_browser.close()
        customer_browser.close()

    # both pages' media went through coturn, each with its own join answer's TURN login: coturn
    # counts what each relayed to Janus when the page closes its allocations
    for who in ("agent", "customer"):
        user = f":{who}-{task_id[:8]}"
        wait(
            lambda user=user: _relayed_to_peer(turn, user) > 100_000,
            60,
            f"the {who}'s media relayed by coturn",
        )
    # n2's recording (written into the shared recordings folder) composed and QC'd
    _task, rec = recorded(sys, task_id, 400)
    assert len(list((sys.data / "rtc" / "recordings" / task_id).rglob("*.mjr"))) >= 4
    assert rec["filename"] == "remote-interview.mp4" and rec["verdict"] in ("PASS", "REVIEW", "FAIL")
    print(
        f"call on n2 through TURN: connected {setup_s:.1f} s after the start; "
        f"recorded and QC'd {time.monotonic() - started:.1f} s after it"
    )
