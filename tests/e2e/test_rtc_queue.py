"""The interviewer queue and the agent desk end to end (issue 17, SPEC §3.2), in separate Chromium
instances (fake camera and microphone) through a real Janus, following test_rtc_call.py's recipe:
a network namespace and veth pair made by the test, `dualrec rtc` inside it, `dualrec serve` on
loopback, the pages' ICE candidates kept on the veth.

1. Two customers of `human`-routed tasks queue; the VIP who came later is first; each page shows its
   place and the estimated wait and follows the line; the agent takes the next one from the queue
   page (the VIP), the call connects, the agent marks the flow's nodes (打点) from the desk, hangs
   up: the recording's QC placed the nodes by those marks (not inferred) in the attempt's flow.
2. An AI self-service session passes its liveness check and hands over (help button): the customer
   continues on the same link with an interviewer, the desk shows the hand-over and the verified
   liveness, the call becomes the recording of the *same* attempt; no identity step is asked again.

Needs root (ip netns), janus and the front end; skipped elsewhere, failing under CI=true.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import (
    ADMIN_PASSWORD,
    CHROMIUM,
    CHROMIUM_ARGS,
    CSRF,
    DIST_INDEX,
    DUALREC,
    running_server,
)
from tests.e2e.h5_support import write_y4m
from tests.e2e.test_rtc_call import (
    KEEP_CANDIDATES,
    Netns,
    _answers,
    _customer_joins,
    _need,
    _sh,
    _stats,
    _wait,
)

HUMAN_FLOW: dict[str, Any] = {
    "mode": "human",
    "nodes": [
        {
            "id": "risk",
            "type": "risk_disclosure",
            "title": "风险告知",
            "script": "本产品不保本，投资有风险。",
            "required_statements": ["不保本"],
        },
        {"id": "end", "type": "end", "title": "结束", "script": "录制完成。"},
    ],
}
AI_FLOW: dict[str, Any] = {
    "mode": "self_service",
    "nodes": [
        {
            "id": "id",
            "type": "identity",
            "title": "身份核实",
            "params": {"liveness_actions": ["shake", "nod"]},
        },
        {
            "id": "risk",
            "type": "risk_disclosure",
            "title": "风险告知",
            "script": "本产品不保本，投资需谨慎。",
        },
        {"id": "end", "type": "end", "title": "结束", "script": "录制完成。"},
    ],
}
RTC_ARGS = [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--autoplay-policy=no-user-gesture-required",
]


@dataclass
class RtcSystem:
    base: str
    ns: Netns
    data: Path
    log: Path
    admin: httpx.Client


@pytest.fixture(scope="module")
def rtc_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RtcSystem]:
    """Janus in a namespace (`dualrec rtc`), `dualrec serve` on loopback, both flows routed."""
    _need(os.geteuid() == 0, "needs root for ip netns")
    _need(shutil.which("ip") is not None, "needs iproute2 (ip)")
    _need(shutil.which("janus") is not None and shutil.which("janus-pp-rec") is not None, "needs janus")
    _need(DIST_INDEX.is_file(), "front end not built (make web)")
    _need(CHROMIUM.is_file(), "chromium not installed")
    n = (os.getpid() + 17) % 60 + 1
    ns = Netns(f"drq{os.getpid()}", f"vdq{n}h", f"vdq{n}j", f"10.232.{n * 4}.1", f"10.232.{n * 4}.2")
    subprocess.run(["ip", "netns", "del", ns.name], capture_output=True, check=False)
    subprocess.run(["ip", "link", "del", ns.host_if], capture_output=True, check=False)
    data = tmp_path_factory.mktemp("rtcq") / "data"
    data.mkdir()
    low = 41000 + (os.getpid() % 100) * 50
    env = {
        "DUALREC_RTC_ENABLED": "true",
        "DUALREC_RTC_MANAGED": "false",
        "DUALREC_RTC_BIND": ns.ns_ip,
        "DUALREC_RTC_ICE_ENFORCE_LIST": ns.ns_if,
        "DUALREC_RTC_RTP_PORTS": f"{low}-{low + 49}",
    }
    _sh("ip", "netns", "add", ns.name)
    rtc: subprocess.Popen[bytes] | None = None
    rtc_log = (data / "rtc-cli.log").open("wb")
    try:
        _sh("ip", "link", "add", ns.host_if, "type", "veth", "peer", "name", ns.ns_if)
        _sh("ip", "link", "set", ns.ns_if, "netns", ns.name)
        _sh("ip", "addr", "add", f"{ns.host_ip}/30", "dev", ns.host_if)
        _sh("ip", "link", "set", ns.host_if, "up")
        _sh("ip", "netns", "exec", ns.name, "ip", "addr", "add", f"{ns.ns_ip}/30", "dev", ns.ns_if)
        _sh("ip", "netns", "exec", ns.name, "ip", "link", "set", ns.ns_if, "up")
        _sh("ip", "netns", "exec", ns.name, "ip", "link", "set", "lo", "up")
        full_env = {**os.environ, "DUALREC_DATA_DIR": str(data), "DUALREC_ENV": "test", **env}
        rtc = subprocess.Popen(
            ["ip", "netns", "exec", ns.name, str(DUALREC), "rtc"],
            env=full_env,
            stdout=rtc_log,
            stderr=subprocess.STDOUT,
        )
        _wait(lambda: _answers(f"http://{ns.ns_ip}:8088/janus"), 30, "Janus in the namespace")
        # the Admin API is on the namespace's loopback only: not reachable from outside it
        with pytest.raises(httpx.ConnectError):
            httpx.post(f"http://{ns.ns_ip}:7088/admin", json={"janus": "ping", "transaction": "t"}, timeout=3)
        with (
            running_server(data, **env) as (base, log),
            httpx.Client(base_url=base, headers=CSRF, timeout=30) as admin,
        ):
            r = admin.post("/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
            assert r.status_code == 200
            for code, business, flow in (
                ("wm-remote", "wealth", HUMAN_FLOW),
                ("wm-ai", "wealth-ai", AI_FLOW),
            ):
                r = admin.post(
                    "/api/v1/flows",
                    json={"code": code, "name": code, "business_type": business, "definition": flow},
                )
                assert r.status_code == 201, r.text
                assert admin.post(f"/api/v1/flows/{code}/publish", json={}).status_code == 201
            rules = [
                {
                    "name": "人工",
                    "priority": 10,
                    "flow_code": "wm-remote",
                    "mode": "human",
                    "business_types": ["wealth"],
                },
                {"name": "自助", "priority": 20, "flow_code": "wm-ai", "business_types": ["wealth-ai"]},
            ]
            assert admin.put("/api/v1/routing-rules", json={"rules": rules}).status_code == 200
            yield RtcSystem(base, ns, data, log, admin)
    finally:
        if rtc is not None:
            rtc.terminate()
            try:
                rtc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                rtc.kill()
        rtc_log.close()
        subprocess.run(["ip", "link", "del", ns.host_if], capture_output=True, check=False)
        subprocess.run(["ip", "netns", "del", ns.name], capture_output=True, check=False)


def _task(admin: httpx.Client, business_no: str, business_type: str, customer_type: str) -> tuple[str, str]:
    body = {
        "customer_id": business_no,
        "customer_name": "李四",
        "id_number": "11010519491231002X",
        "phone": "13800138000",
        "customer_type": customer_type,
        "risk_level": "R3",
        "business_type": business_type,
        "business_no": business_no,
        "product": "稳健理财 1 号",
        "amount": "100000.00",
        "documents": [],
    }
    r = admin.post("/api/v1/tasks", json=body)
    assert r.status_code == 201, r.text
    return r.json()["id"], r.json()["entry_url"].rsplit("/h5/", 1)[1]


def _context(browser: Browser, sys: RtcSystem) -> BrowserContext:
    context = browser.new_context(base_url=sys.base, locale="zh-CN", viewport={"width": 1280, "height": 800})
    context.add_init_script(KEEP_CANDIDATES % sys.ns.host_ip)
    context.set_default_timeout(30_000)
    return context


def _agent(browser: Browser, sys: RtcSystem) -> Page:
    page = _context(browser, sys).new_page()
    page.goto("/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    return page


def _connected(pages: dict[str, Page]) -> None:
    for who, page in pages.items():
        _wait(
            lambda page=page: page.get_by_test_id("call-state").get_attribute("data-state") == "connected",
            60,
            f"{who} connected",
        )
    for who, page in pages.items():
        _wait(lambda page=page: _stats(page)["frames"] > 30, 60, f"{who}: 30 decoded frames")
        _wait(lambda page=page: _stats(page)["energy"] > 0.001, 30, f"{who}: audio energy")


def _mark_nodes(agent: Page, first: str, second: str) -> None:
    """Node by node from the desk: start the first, next (ends it, starts the second), end."""
    prompt = agent.get_by_test_id("desk-prompt")
    expect(prompt).to_have_attribute("data-node", first)
    agent.get_by_test_id("node-next").click()
    expect(prompt).to_have_attribute("data-running", "true")
    time.sleep(3)
    agent.get_by_test_id("node-next").click()
    expect(prompt).to_have_attribute("data-node", second)
    time.sleep(2)
    agent.get_by_test_id("node-finish").click()
    expect(agent.get_by_test_id("node-finish")).to_have_count(0)


def _recorded(sys: RtcSystem, task_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    def done() -> Any:
        t = sys.admin.get(f"/api/v1/tasks/{task_id}").json()
        attempt = next(a for a in t["attempts"] if a["number"] == t["attempt"])
        rec = attempt.get("recording_id")
        if not rec or t["status"] in ("qc", "in_progress"):
            return None
        recording = sys.admin.get(f"/api/v1/recordings/{rec}").json()
        return recording["filename"] == "remote-interview.mp4" and (t, recording)

    try:
        found: tuple[dict[str, Any], dict[str, Any]] = _wait(done, 500, "the composed recording's QC")
    except AssertionError:
        print(sys.log.read_text()[-6000:])
        raise
    return found


def _marked_nodes(sys: RtcSystem, recording_id: str) -> dict[str, dict[str, Any]]:
    report = sys.admin.get(f"/api/v1/recordings/{recording_id}/report").json()
    return {n["node_id"]: n for n in report["nodes"] if not n["inferred"]}


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_vip_who_queued_later_is_served_first_and_the_agents_node_marks_reach_qc(
    rtc_system: RtcSystem, chromium: Browser
) -> None:
    sys = rtc_system
    task_a, link_a = _task(sys.admin, "WM-Q-0001", "wealth", "personal")
    task_v, link_v = _task(sys.admin, "WM-Q-0002", "wealth", "vip2")
    launch = chromium.browser_type.launch
    agent_browser = launch(executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, *RTC_ARGS])
    customer_browser = launch(executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, *RTC_ARGS])
    errors: list[str] = []
    try:
        # the regular customer opens the link first: straight to the queue (no AI flow), first in line
        page_a = _context(customer_browser, sys).new_page()
        page_v = _context(customer_browser, sys).new_page()
        for p in (page_a, page_v):
            p.on("pageerror", lambda exc: errors.append(str(exc)))
        page_a.goto(f"/h5/{link_a}")
        status_a = page_a.get_by_test_id("queue-status")
        expect(status_a).to_have_attribute("data-position", "1")
        expect(status_a).to_contain_text("预计等待约 5 分钟")  # the default handling time, nobody online
        # the VIP comes later and is first; the other page follows the line on its own
        page_v.goto(f"/h5/{link_v}")
        expect(page_v.get_by_test_id("queue-status")).to_have_attribute("data-position", "1")
        expect(status_a).to_have_attribute("data-position", "2", timeout=15_000)
        expect(status_a).to_contain_text("您当前排在第 2 位")
        expect(status_a).to_contain_text("预计等待约 10 分钟")

        # the agent's queue page: the VIP on top; "take next" takes them and opens the desk
        agent = _agent(agent_browser, sys)
        agent.on("pageerror", lambda exc: errors.append(str(exc)))
        agent.goto("/rtc/queue")
        rows = agent.get_by_test_id("queue-row")
        expect(rows).to_have_count(2)
        assert rows.nth(0).get_attribute("data-task-id") == task_v
        expect(rows.nth(0).get_by_test_id("vip")).to_have_text("VIP2")
        agent.get_by_test_id("accept-next").click()
        agent.wait_for_url(f"**/rtc/tasks/{task_v}?join=1")
        expect(agent.get_by_test_id("desk-id-number")).to_have_text("11010519491231002X")  # admin may unmask
        expect(agent.get_by_test_id("desk-prompt")).to_contain_text("必读：不保本")
        # the VIP's page learns it was taken and joins the call (a tap when the browser wants one)
        _customer_joins(page_v)
        _connected({"agent": agent, "customer": page_v})
        # the other customer is now first in line, the wait shrinks to one call
        expect(status_a).to_have_attribute("data-position", "1", timeout=15_000)
        expect(status_a).to_contain_text("预计等待约 5 分钟")

        _mark_nodes(agent, "risk", "end")
        desk = sys.admin.get(f"/api/v1/rtc/tasks/{task_v}/desk").json()
        assert [(m["node_id"], m["kind"]) for m in desk["marks"]] == [
            ("risk", "start"),
            ("risk", "end"),
            ("end", "start"),
            ("end", "end"),
        ]
        agent.get_by_test_id("hangup").click()
        agent.get_by_test_id("call-finished").wait_for()
        page_v.get_by_test_id("customer-ended").wait_for(timeout=20_000)
        assert not errors, errors
    finally:
        agent_browser.close()
        customer_browser.close()

    t, rec = _recorded(sys, task_v)
    assert t["status"] in ("passed", "review", "failed") and rec["verdict"] in ("PASS", "REVIEW", "FAIL")
    marked = _marked_nodes(sys, rec["id"])
    # QC placed both nodes by the agent's marks (not inferred), about 3 s and 2 s long
    assert set(marked) == {"risk", "end"}, marked
    assert 2.0 <= marked["risk"]["end"] - marked["risk"]["start"] <= 8.0, marked["risk"]
    assert marked["risk"]["title"] == "风险告知" and marked["end"]["start"] >= marked["risk"]["end"] - 0.01
    # the regular customer's page went away: the queue still holds them until the abandon sweep
    assert sys.admin.get(f"/api/v1/tasks/{task_a}").json()["status"] == "created"


@pytest.fixture(scope="module")
def moving_camera(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A face that shakes, nods and holds still (passes the liveness check), as test_self_service."""
    from dualrec.media.models.dlib_faces import DlibFaceAnalyzer
    from tests.live_frames import framed, photo, turn_head

    out = tmp_path_factory.mktemp("rtcq-cam")
    faces = DlibFaceAnalyzer()
    img = photo("obama.jpg")
    frame = framed(img, faces.detect(img)[0])
    face = faces.detect(frame)[0]
    angles = (0, 5, 10, 15, 10, 5, 0, -5, -10, -15, -10, -5, 0)
    frames = [turn_head(frame, face, "y", a) for a in angles for _ in range(4)]
    frames += [turn_head(frame, face, "x", a) for a in angles for _ in range(4)]
    frames += [frame] * 20
    return write_y4m(frames, out / "cam.y4m", fps=10)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_an_ai_session_that_hands_over_continues_the_same_attempt_with_an_interviewer(
    rtc_system: RtcSystem, chromium: Browser, moving_camera: Path
) -> None:
    sys = rtc_system
    task_h, link_h = _task(sys.admin, "WM-H-0001", "wealth-ai", "personal")
    launch = chromium.browser_type.launch
    cam_args = [f"--use-file-for-fake-video-capture={moving_camera}"]
    agent_browser = launch(executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, *RTC_ARGS])
    customer_browser = launch(executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, *RTC_ARGS, *cam_args])
    errors: list[str] = []
    try:
        customer = _context(customer_browser, sys).new_page()
        customer.on("pageerror", lambda exc: errors.append(str(exc)))
        # the AI session: consent, the liveness check passes, then the customer asks for a person
        customer.goto(f"/h5/{link_h}")
        customer.locator("[data-test=agree]").click()
        customer.locator("[data-test=liveness]").click(timeout=60_000)
        expect(customer.locator("[data-test=liveness-ok]")).to_be_visible(timeout=120_000)
        customer.locator("[data-test=help]").click()
        customer.locator("[data-test=help-confirm]").click()
        ended = customer.locator("[data-test=ended]")
        expect(ended).to_have_attribute("data-status", "handover", timeout=120_000)
        # the same link continues with an interviewer: into the queue, no identity step again
        customer.locator("[data-test=to-interviewer]").click()
        expect(customer.get_by_test_id("queue-status")).to_have_attribute("data-position", "1")
        assert customer.locator("[data-type=identity]").count() == 0

        agent = _agent(agent_browser, sys)
        agent.on("pageerror", lambda exc: errors.append(str(exc)))
        agent.goto("/rtc/queue")
        row = agent.locator(f"[data-testid=queue-row][data-task-id='{task_h}']")
        expect(row).to_contain_text("AI 转人工")
        expect(row).to_contain_text("客户请求人工协助")
        row.get_by_test_id("accept").click()
        agent.wait_for_url(f"**/rtc/tasks/{task_h}?join=1")
        # the desk shows where the AI stopped and what it verified: the liveness check passed
        expect(agent.get_by_test_id("desk-handover")).to_contain_text("身份核实")
        expect(agent.locator("[data-testid=desk-proofs] [data-kind=liveness]")).to_have_attribute(
            "data-passed", "true"
        )
        _customer_joins(customer)
        _connected({"agent": agent, "customer": customer})
        # the agent picks the node to continue with (free pick) and marks it
        agent.get_by_test_id("pick-risk").click()
        expect(agent.get_by_test_id("desk-prompt")).to_have_attribute("data-node", "risk")
        time.sleep(3)
        agent.get_by_test_id("node-finish").click()
        time.sleep(1)
        agent.get_by_test_id("hangup").click()
        agent.get_by_test_id("call-finished").wait_for()
        customer.get_by_test_id("customer-ended").wait_for(timeout=20_000)
        assert not errors, errors
    finally:
        agent_browser.close()
        customer_browser.close()

    t, rec = _recorded(sys, task_h)
    # one attempt: the AI session and the call are the same attempt; its recording is the call's
    assert [a["number"] for a in t["attempts"]] == [1], t["attempts"]
    assert t["attempts"][0]["recording_id"] == rec["id"]
    marked = _marked_nodes(sys, rec["id"])
    assert set(marked) == {"risk"}, marked
    accepted = sys.admin.get("/api/v1/audit-events", params={"action": "rtc.accepted"}).json()["items"]
    assert task_h in [e["target_id"] for e in accepted]
