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
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.conftest import (
    ADMIN_PASSWORD,
    CHROMIUM,
    CHROMIUM_ARGS,
    CSRF,
    DIST_INDEX,
    DUALREC,
    running_server,
)
from tests.e2e.test_rtc_call import (
    FLOW,
    KEEP_CANDIDATES,
    Netns,
    _answers,
    _customer_joins,
    _need,
    _stats,
    _wait,
    netns,
)
from tests.udp_impair import Impairment, UdpImpairRelay

__all__ = ["netns"]

WEAK = Impairment(loss=0.30, jitter_ms=800, rate_kbps=200, queue_ms=400)  # SPEC §8, each way
CLEAN_SECONDS, WEAK_SECONDS, AFTER_SECONDS = 12, 30, 10


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
    netns: Netns, browser_addresses: Addresses, tmp_path: Path, chromium: Browser
) -> None:
    _need(DIST_INDEX.is_file(), "front end not built (make web)")
    _need(CHROMIUM.is_file(), "chromium not installed")
    data = tmp_path / "data"
    data.mkdir()
    low = 45000 + (os.getpid() % 100) * 50
    ports = range(low, low + 50)
    env = {
        "DUALREC_RTC_ENABLED": "true",
        "DUALREC_RTC_MANAGED": "false",
        "DUALREC_RTC_BIND": netns.ns_ip,
        "DUALREC_RTC_ICE_ENFORCE_LIST": netns.ns_if,
        "DUALREC_RTC_NAT_1_1": netns.host_ip,  # Janus advertises the relay
        "DUALREC_RTC_RTP_PORTS": f"{ports.start}-{ports.stop - 1}",
    }
    full_env = {**os.environ, "DUALREC_DATA_DIR": str(data), "DUALREC_ENV": "test", **env}
    rtc_log = (data / "rtc-cli.log").open("wb")
    rtc = subprocess.Popen(
        ["ip", "netns", "exec", netns.name, str(DUALREC), "rtc"],
        env=full_env,
        stdout=rtc_log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait(lambda: _answers(f"http://{netns.ns_ip}:8088/janus"), 30, "Janus in the namespace")
        with (
            UdpImpairRelay(netns.host_ip, netns.ns_ip, ports) as relay,
            running_server(data, **env) as (base, log),
            httpx.Client(base_url=base, headers=CSRF, timeout=30) as admin,
        ):
            _call(admin, relay, browser_addresses, chromium, log)
    finally:
        rtc.terminate()
        try:
            rtc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            rtc.kill()
        rtc_log.close()


def _setup(admin: httpx.Client) -> tuple[str, str]:
    assert (
        admin.post("/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}).status_code
        == 200
    )
    r = admin.post(
        "/api/v1/flows", json={"code": "wm-q", "name": "远程", "business_type": "wealth", "definition": FLOW}
    )
    assert r.status_code == 201, r.text
    assert admin.post("/api/v1/flows/wm-q/publish", json={}).status_code == 201
    rules = [
        {"name": "人工", "priority": 10, "flow_code": "wm-q", "mode": "human", "business_types": ["wealth"]}
    ]
    assert admin.put("/api/v1/routing-rules", json={"rules": rules}).status_code == 200
    task = {
        "customer_id": "C0201",
        "customer_name": "王五",
        "id_number": "11010519491231002X",
        "phone": "13800138000",
        "customer_type": "elderly",
        "risk_level": "R3",
        "business_type": "wealth",
        "business_no": "WM-RTCQ-0001",
        "contract_no": "HT-RTCQ-1",
        "product": "稳健理财 1 号",
        "amount": "100000.00",
        "documents": [],
    }
    r = admin.post("/api/v1/tasks", json=task)
    assert r.status_code == 201, r.text
    return r.json()["id"], r.json()["entry_url"].rsplit("/h5/", 1)[1]


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


def _call(admin: httpx.Client, relay: UdpImpairRelay, addr: Addresses, chromium: Browser, log: Path) -> None:
    base = str(admin.base_url).rstrip("/")
    task_id, link = _setup(admin)
    args = [
        *CHROMIUM_ARGS,
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        "--allow-loopback-in-peer-connection",
        "--autoplay-policy=no-user-gesture-required",
    ]
    launch = chromium.browser_type.launch
    agent_browser = launch(executable_path=str(CHROMIUM), args=args)
    customer_browser = launch(executable_path=str(CHROMIUM), args=args)
    series: list[dict[str, Any]] = []
    try:
        pages = []
        for browser, ip in ((agent_browser, addr.agent), (customer_browser, addr.customer)):
            context = browser.new_context(
                base_url=base, locale="zh-CN", viewport={"width": 1280, "height": 800}
            )
            context.add_init_script(KEEP_CANDIDATES % ip)
            context.add_init_script(TRACK_PCS)
            context.set_default_timeout(20_000)
            pages.append(context.new_page())
        agent, customer = pages
        errors: list[str] = []
        for p in pages:
            p.on("pageerror", lambda exc: errors.append(str(exc)))

        agent.goto("/login")
        agent.fill("input[name=username]", "admin")
        agent.fill("input[name=password]", ADMIN_PASSWORD)
        agent.click("button[type=submit]")
        agent.wait_for_url(lambda url: "/login" not in url)
        agent.goto(f"/rtc/tasks/{task_id}")
        agent.get_by_role("button", name="开始视频通话").click()
        customer.goto(f"/h5/{link}")
        _customer_joins(customer)
        for who, page in (("agent", agent), ("customer", customer)):
            _wait(
                lambda page=page: (
                    page.get_by_test_id("call-state").get_attribute("data-state") == "connected"
                ),
                60,
                f"{who} connected",
            )
            _wait(lambda page=page: _stats(page)["frames"] > 30, 60, f"{who}: decoded frames")
        # the media goes through the relay, both ways
        assert relay.stats["up"].packets > 300 and relay.stats["down"].packets > 300, relay.stats

        # clean: both browsers report; the desk shows the MOS and grade of both sides, no alarm
        desk = _wait(lambda: (d := _desk(agent)) and "peer" in d and d, 30, "both sides on the desk")
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
        energy_before = _stats(agent)["energy"]
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
        energy_weak = _stats(agent)["energy"] - energy_before
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
    def recorded() -> Any:
        t = admin.get(f"/api/v1/tasks/{task_id}").json()
        attempt = next(a for a in t["attempts"] if a["number"] == t["attempt"])
        return (
            attempt.get("recording_id")
            and t["status"] not in ("qc", "in_progress")
            and attempt["recording_id"]
        )

    try:
        recording_id = _wait(recorded, 500, "the composed recording's QC")
    except AssertionError:
        print(log.read_text()[-6000:])
        raise
    report = admin.get(f"/api/v1/recordings/{recording_id}/report").json()
    check = next(c for c in report["checks"] if c["id"] == "call_quality")
    assert check["status"] == "failed", check
    below = [f for f in check["findings"] if "SPEC §8 minimum" in f["message"]]
    assert below, check["findings"]
    span = max(below, key=lambda f: f["end"] - f["start"])
    assert span["start"] > 5 and 6 <= span["end"] - span["start"] <= WEAK_SECONDS + 12, span
    roles = {p["role"] for p in check["metrics"]["series"]}
    assert roles == {"agent", "customer"}, roles
    print("call_quality findings:", json.dumps(check["findings"], ensure_ascii=False)[:1500])

    # the playback page draws the series
    page = chromium.new_page(base_url=base)
    try:
        page.goto("/login")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", ADMIN_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/login" not in url)
        page.goto(f"/recordings/{recording_id}")
        chart = page.get_by_test_id("call-quality")
        chart.wait_for(timeout=30_000)
        assert int(chart.get_attribute("data-points") or 0) >= 10
        assert page.locator("svg.quality-chart path").count() == 2
        assert float(page.get_by_test_id("call-quality-agent").get_attribute("data-mos-min") or 9) < 3.0
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
