"""Call quality and the weak network (SPEC §8), end to end: two Chromium instances talk through a real
Janus with the customer's media forced through a user-space UDP impairment relay
(tests/udp_impair.py).

The path: Janus runs in the test's network namespace and advertises the relay's address instead of
its own (DUALREC_RTC_NAT_1_1 = the host end of the veth); the relay listens there on every port of
Janus' RTP range and forwards to Janus. Each browser keeps only candidates on an address of its own
that Janus has no route to (10.232.n.1 customer, 10.232.n.2 agent, /32 on the host's veth): the
direct path fails both ways, every packet goes through the relay, and the relay impairs the
customer's flows when told to.

The call: clean first (both browsers' reports reach dualrec, the agent's desk shows MOS and the
grade of both sides), then the §8 weak network on the customer's link (30 % loss, 800 ms jitter,
200 kbit/s each way) — the desk raises its alarm, the audio goes on, the picture degrades — then
clean again and hang up. The recording exists, its QC report has the call_quality finding with
the weak stretch's times, and the playback page draws the series. The figures measured in the
weak stretch are printed (docs/remote-interview.md has them).

Needs root (ip netns), janus, chromium and a built front end; skipped elsewhere, failing under CI.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.test_rtc_call import netns
from tests.rtc_support import (
    FLOW,
    Netns,
    RtcSystem,
    call_state,
    create_task,
    customer_joins,
    launch,
    log_in,
    need_rtc_e2e,
    publish_flows,
    recorded,
    rtc_context,
    rtc_system,
    stats,
    wait,
)
from tests.udp_impair import Impairment, UdpImpairRelay

__all__ = ["netns"]

WEAK = Impairment(loss=0.30, jitter_ms=800, rate_kbps=200, queue_ms=400)  # SPEC §8, each way
CLEAN_SECONDS, WEAK_SECONDS, AFTER_SECONDS = 12, 30, 10  # shorter: the start-up and
# recovery stretches merge with the weak one in QC's finding (tried 8/20/6)


@dataclass(frozen=True)
class Addresses:
    customer: str
    agent: str


@pytest.fixture
def browser_addresses(netns: Netns) -> Iterator[Addresses]:
    """Two /32 addresses on the host end of the veth, one per browser, unreachable from Janus."""
    n = os.getpid() % 60 + 1
    a = Addresses(f"10.232.{n}.1", f"10.232.{n}.2")
    for ip in (a.customer, a.agent):
        subprocess.run(
            ["ip", "addr", "add", f"{ip}/32", "dev", netns.host_if], check=True, capture_output=True
        )
    try:
        yield a
    finally:
        for ip in (a.customer, a.agent):
            subprocess.run(
                ["ip", "addr", "del", f"{ip}/32", "dev", netns.host_if], capture_output=True, check=False
            )


@pytest.mark.slow
@pytest.mark.timeout(900)  # two Chromium, Janus, composition and QC on a shared 2-core VM
def test_call_quality_is_reported_shown_stored_and_a_weak_network_is_a_qc_finding(
    netns: Netns, browser_addresses: Addresses, tmp_path_factory: pytest.TempPathFactory, chromium: Browser
) -> None:
    need_rtc_e2e()
    low = 45000 + (os.getpid() % 100) * 50
    ports = range(low, low + 50)
    with rtc_system(
        tmp_path_factory.mktemp("rtcqual") / "data",
        netns,
        ports,
        relay=lambda: UdpImpairRelay(netns.host_ip, netns.ns_ip, ports),
        DUALREC_RTC_NAT_1_1=netns.host_ip,  # Janus advertises the relay
    ) as sys:
        publish_flows(sys.admin, [("wm-q", "wealth", FLOW, "human")])
        _call(sys, browser_addresses, chromium)


# every PeerConnection the page makes, so that the test can read their ICE username fragments
TRACK_PCS = """
(() => {
  window.__pcs = [];
  const P = window.RTCPeerConnection.prototype;
  const sld = P.setLocalDescription;
  P.setLocalDescription = function (...args) {
    if (!window.__pcs.includes(this)) window.__pcs.push(this);
    return sld.apply(this, args);
  };
})();
"""


def _ufrags(page: Page) -> set[str]:
    found = page.evaluate(
        "() => window.__pcs.map(pc => (pc.localDescription?.sdp || '').match(/a=ice-ufrag:(\\S+)/)?.[1])"
    )
    return {u for u in found if u}


def _desk(page: Page) -> dict[str, dict[str, str]]:
    out = {}
    for key in ("own", "peer"):
        row = page.locator(f"[data-testid=quality-{key}]")
        if row.count():
            out[key] = {a: row.get_attribute(f"data-{a}") or "" for a in ("mos", "grade", "below")}
    return out


def _collect(admin: httpx.Client, task_id: str, into: list[dict[str, Any]], phase: str) -> None:
    for p in admin.get(f"/api/v1/rtc/tasks/{task_id}/quality").json()["parties"]:
        if not any(q["at"] == p["at"] and q["role"] == p["role"] for q in into):
            into.append({**p, "phase": phase})


def _call(sys: RtcSystem, addr: Addresses, chromium: Browser) -> None:
    admin, relay = sys.admin, sys.relay
    task_id, link = create_task(
        admin,
        "WM-RTCQ-0001",
        "wealth",
        "elderly",
        customer_id="C0201",
        customer_name="王五",
        contract_no="HT-RTCQ-1",
    )
    agent_browser = launch(chromium)
    customer_browser = launch(chromium)
    series: list[dict[str, Any]] = []
    try:
        pages = []
        for browser, ip in ((agent_browser, addr.agent), (customer_browser, addr.customer)):
            context = rtc_context(browser, sys.base, ip, 20_000)
            context.add_init_script(TRACK_PCS)
            pages.append(context.new_page())
        agent, customer = pages
        errors: list[str] = []
        for p in pages:
            p.on("pageerror", lambda exc: errors.append(str(exc)))

        log_in(agent)
        agent.goto(f"/rtc/tasks/{task_id}")
        agent.get_by_role("button", name="开始视频通话").click()
        customer.goto(f"/h5/{link}")
        customer_joins(customer)
        for who, page in (("agent", agent), ("customer", customer)):
            wait(lambda page=page: call_state(page) == "connected", 60, f"{who} connected")
            wait(lambda page=page: stats(page)["frames"] > 30, 60, f"{who}: decoded frames")
        # the media goes through the relay, both ways
        wait(
            lambda: relay.stats["up"].packets > 300 and relay.stats["down"].packets > 300,
            20,
            f"300 packets each way through the relay ({relay.stats})",
        )

        # clean: both browsers report; the desk shows the MOS and grade of both sides, no alarm
        desk = wait(lambda: (d := _desk(agent)) and "peer" in d and d, 30, "both sides on the desk")
        deadline = time.monotonic() + CLEAN_SECONDS
        while time.monotonic() < deadline:
            _collect(admin, task_id, series, "clean")
            time.sleep(2)
        desk = _desk(agent)
        assert 1.0 <= float(desk["own"]["mos"]) <= 4.5 and desk["own"]["grade"] in "ABCDF", desk
        assert 1.0 <= float(desk["peer"]["mos"]) <= 4.5, desk
        # a clean path scores well (the median: one sample can catch this shared machine stalled)
        clean = [s["mos"] for s in series if s["mos"] is not None]
        assert clean and statistics.median(clean) > 3.5, series
        assert {s["role"] for s in series} == {"agent", "customer"}

        # the §8 weak network on the customer's link: the desk raises the alarm, audio goes on
        energy_before = stats(agent)["energy"]
        ufrags = _ufrags(customer)
        assert ufrags, "the customer's PeerConnections have no ICE ufrag"
        relay.set_ufrags(ufrags, WEAK)
        weak_from = time.monotonic()
        try:
            agent.get_by_test_id("quality-alarm").first.wait_for(timeout=30_000)
        except Exception:
            print("relay", relay.stats, "ufrags", ufrags, "flows", relay.flow_ufrags(), "desk", _desk(agent))
            raise
        alarm_after = time.monotonic() - weak_from
        while time.monotonic() < weak_from + WEAK_SECONDS:
            _collect(admin, task_id, series, "weak")
            time.sleep(2)
        energy_weak = stats(agent)["energy"] - energy_before
        relay.set_ufrags(ufrags, None)
        for _ in range(AFTER_SECONDS // 2):
            _collect(admin, task_id, series, "after")
            time.sleep(2)
        assert customer.get_by_test_id("call-state").get_attribute("data-state") == "connected"

        agent.get_by_test_id("hangup").click()
        agent.get_by_test_id("call-finished").wait_for()
        assert not errors, errors
    finally:
        agent_browser.close()
        customer_browser.close()

    _print_measurements(series, alarm_after, energy_weak, relay)
    weak = [s for s in series if s["phase"] == "weak"]
    assert weak and min(s["mos"] for s in weak if s["role"] == "agent") < 3.0  # the agent hears a weak uplink
    assert energy_weak > 0, "the customer's audio stopped in the weak stretch"

    # the recording exists and QC says the call fell under the minimum, with the times
    _t, rec = recorded(sys, task_id, 500)
    recording_id = rec["id"]
    report = admin.get(f"/api/v1/recordings/{recording_id}/report").json()
    check = next(c for c in report["checks"] if c["id"] == "call_quality")
    assert check["status"] == "failed", check
    below = [f for f in check["findings"] if "call quality under the SPEC §8 minimum" in f["message"]]
    assert below, check["findings"]
    span = max(below, key=lambda f: f["end"] - f["start"])
    # the stretch, not the whole call: it ends once the browsers report the recovered link (2 s reports,
    # congestion control ramping up again; 42 s seen with the suite's other worker busy)
    assert span["start"] > 5 and 6 <= span["end"] - span["start"] <= WEAK_SECONDS + 18, span
    roles = {p["role"] for p in check["metrics"]["series"]}
    assert roles == {"agent", "customer"}, roles
    print("call_quality findings:", json.dumps(check["findings"], ensure_ascii=False)[:1500])
    # Janus' own view (sampled by `dualrec rtc` beside it): the server saw the customer's lossy uplink
    server = check["metrics"]["server"]
    print("server view (what Janus received of each party):", server)
    assert server["customer"]["samples"] > 0 and server["agent"]["samples"] > 0, server
    assert server["customer"]["audio_loss_max"] > 5, server
    # ... and judged it: the recording's own input (the customer's audio) fell under the minimum
    assert server["customer"]["audio_mos_min"] <= 3.0, server
    degraded = [f for f in check["findings"] if "the server received from the customer" in f["message"]]
    assert degraded and degraded[0]["start"] > 5, check["findings"]

    # the playback page draws the series
    page = log_in(chromium.new_page(base_url=sys.base))
    try:
        page.goto(f"/recordings/{recording_id}")
        chart = page.get_by_test_id("call-quality")
        chart.wait_for(timeout=30_000)
        assert int(chart.get_attribute("data-points") or 0) >= 10
        assert page.locator("svg.quality-chart path").count() == 2
        assert float(page.get_by_test_id("call-quality-agent").get_attribute("data-mos-min") or 9) < 3.0
        assert page.get_by_test_id("call-quality-server-customer").is_visible()
        assert (
            float(page.get_by_test_id("call-quality-server-customer").get_attribute("data-mos-min") or 9)
            <= 3.0
        )
    finally:
        page.close()


def _print_measurements(
    series: list[dict[str, Any]], alarm_after: float, energy: float, relay: UdpImpairRelay
) -> None:
    """What each side received, median of its reports per phase (the table in docs)."""
    print(
        f"\nalarm {alarm_after:.1f} s after the weak network began; "
        f"agent's received audio energy in it {energy:.4f}"
    )
    print(f"relay: {relay.stats}")
    print("phase | receiver | n | resolution | fps | MOS | loss % | jitter ms | RTT ms | kbit/s | freezes")
    for phase in ("clean", "weak", "after"):
        for role in ("agent", "customer"):
            rows = [s for s in series if s["phase"] == phase and s["role"] == role]
            if not rows:
                continue
            med = lambda k, rows=rows: statistics.median(float(r[k] or 0) for r in rows)  # noqa: E731
            res = statistics.median_low(f"{r['width']}x{r['height']}" for r in rows)
            print(
                f"{phase} | {role} | {len(rows)} | {res} | {med('fps'):.0f} | {med('mos'):.2f} | "
                f"{med('loss_pct'):.0f} | {med('jitter_ms'):.0f} | {med('rtt_ms'):.0f} | "
                f"{med('video_kbps') + med('audio_kbps'):.0f} | {sum(int(r['freezes']) for r in rows)}"
            )
