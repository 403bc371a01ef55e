"""The shared set-up of the remote-interview (Janus) browser tests and of bench/rtc.py.

Media never touches the machine's own network address (docs/remote-interview.md, "Tests"): a network namespace
joined to the host by a veth pair, `dualrec rtc` inside it (Janus bound to the namespace's address,
``ice_enforce_list`` = its veth; its Admin API on the namespace's loopback only), `dualrec serve` on
loopback outside it (DUALREC_RTC_MANAGED=false, it reaches Janus' API on the namespace address),
and Chromium pages with a fake camera and microphone that keep only their ICE candidates on an
address of the host side of that veth.

Used by tests/e2e/test_rtc_call.py, test_rtc_quality.py, test_rtc_queue.py and bench/rtc.py; the
old private names of test_rtc_call.py / test_rtc_queue.py stay importable from there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.e2e.conftest import (
    ADMIN_PASSWORD,
    CHROMIUM,
    CHROMIUM_ARGS,
    CSRF,
    DIST_INDEX,
    DUALREC,
    running_server,
)

# the Chromium switches of a call: fake camera and microphone, no permission prompt, autoplay
RTC_ARGS = [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--autoplay-policy=no-user-gesture-required",
]
RTC_CHROMIUM_ARGS = [*CHROMIUM_ARGS, *RTC_ARGS]

FLOW: dict[str, Any] = {
    "mode": "human",
    "nodes": [
        {
            "id": "risk",
            "type": "risk_disclosure",
            "title": "风险告知",
            "script": "本产品不保本，投资有风险。",
        },
        {"id": "end", "type": "end", "title": "结束", "script": "录制完成。"},
    ],
}

# keeps only the page's ICE candidates on the test's veth (never the machine's own address)
KEEP_CANDIDATES = """
(() => {
  const KEEP = "%s";
  const keep = (c) => !c || !c.candidate || c.candidate.includes(KEEP);
  const P = window.RTCPeerConnection.prototype;
  const prop = Object.getOwnPropertyDescriptor(P, "onicecandidate");
  Object.defineProperty(P, "onicecandidate", {
    configurable: true,
    get() { return prop.get.call(this); },
    set(fn) { prop.set.call(this, fn ? (ev) => { if (keep(ev.candidate)) fn.call(this, ev); } : fn); },
  });
  const add = P.addEventListener;
  P.addEventListener = function (type, fn, opts) {
    if (type === "icecandidate" && fn) {
      const inner = fn;
      fn = (ev) => { if (keep(ev.candidate)) inner.call(this, ev); };
    }
    return add.call(this, type, fn, opts);
  };
})();
"""

# the remote picture sampled in the page: mean and spread of the luminance of a 64×48 copy
SAMPLE_VIDEO = """
(el) => {
  const v = document.querySelector('[data-testid=remote-video]');
  if (!v || !v.videoWidth) return null;
  const c = document.createElement('canvas'); c.width = 64; c.height = 48;
  const g = c.getContext('2d'); g.drawImage(v, 0, 0, 64, 48);
  const d = g.getImageData(0, 0, 64, 48).data; let sum = 0, sq = 0, n = 0;
  for (let i = 0; i < d.length; i += 4) {
    const y = 0.299*d[i] + 0.587*d[i+1] + 0.114*d[i+2]; sum += y; sq += y*y; n++;
  }
  const mean = sum / n; return { width: v.videoWidth, mean, spread: Math.sqrt(sq / n - mean * mean) };
}
"""

# the page's call set-up timeline (performance marks "rtc:*" of rtcApi/useCall/janusCall), each
# as wall-clock ms since the epoch (comparable between the browsers of one machine)
SETUP_MARKS = """
() => {
  const marks = performance.getEntriesByType('mark').filter(m => m.name.startsWith('rtc:'));
  return marks.map(m => [m.name.slice(4), performance.timeOrigin + m.startTime]);
}
"""
# the steps, in the order a call reaches them (frontend/src/features/rtc: rtcApi, useCall, janusCall)
SETUP_STEPS = (
    "start",  # the join request (the agent's click / the customer's page joins)
    "grant",  # dualrec answered it (room, tokens)
    "media",  # getUserMedia resolved (opened with the request)
    "session",  # Janus session created (through dualrec's proxy)
    "attached",  # VideoRoom handle attached
    "offer",  # own offer made, sent with the join (joinandconfigure)
    "joined",  # joined the room as a publisher (Janus' answer comes with it)
    "answer",  # Janus' answer received
    "published",  # ICE + DTLS of the own media up
    "peer",  # the other party's feed seen: subscribing
    "peer-offer",  # Janus' offer for the other party's media
    "connected",  # the other party's tracks arrived (the page says "connected")
    "received",  # ICE + DTLS of the received media up
    "remote-video",  # the first packets of the other party's picture
)


def need(condition: bool, why: str) -> None:
    """Skips the test when ``condition`` is false — fails it under CI=true (nothing skips in CI)."""
    if condition:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"remote-interview e2e cannot run in CI: {why}", pytrace=False)
    pytest.skip(why)


def need_rtc_e2e() -> None:
    need(os.geteuid() == 0, "needs root for ip netns")
    need(shutil.which("ip") is not None, "needs iproute2 (ip)")
    need(
        shutil.which("janus") is not None and shutil.which("janus-pp-rec") is not None,
        "needs janus janus-tools",
    )
    need(DIST_INDEX.is_file(), "front end not built (make web)")
    need(CHROMIUM.is_file(), "chromium not installed")


def sh(*args: str) -> None:
    subprocess.run(list(args), check=True, capture_output=True, timeout=30)


def wait(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.2) -> Any:
    """Polls ``predicate`` until it returns something truthy (returned) or fails after ``timeout``."""
    deadline = time.monotonic() + timeout
    value = predicate()
    while not value:
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out waiting for {what} (last: {value})")
        time.sleep(interval)
        value = predicate()
    return value


def answers(url: str) -> bool:
    """Whether a Janus API answers ``info`` at ``url``."""
    try:
        return bool(httpx.get(f"{url}/info", timeout=2).json().get("janus") == "server_info")
    except (httpx.HTTPError, ValueError):
        return False


@dataclass(frozen=True)
class Netns:
    name: str
    host_if: str
    ns_if: str
    host_ip: str
    ns_ip: str


@contextmanager
def network_namespace(prefix: str, second_octet: int, salt: int = 0) -> Iterator[Netns]:
    """A network namespace joined to the host by a veth pair, on a /30 of 10.<second_octet>.x.y
    chosen per process (``prefix`` and ``salt`` keep the users of this apart)."""
    n = (os.getpid() + salt) % 60 + 1
    ns = Netns(
        f"{prefix}{os.getpid()}",
        f"v{prefix[:3]}{n}h",
        f"v{prefix[:3]}{n}j",
        f"10.{second_octet}.{n * 4}.1",
        f"10.{second_octet}.{n * 4}.2",
    )
    subprocess.run(["ip", "netns", "del", ns.name], capture_output=True, check=False)
    subprocess.run(["ip", "link", "del", ns.host_if], capture_output=True, check=False)
    sh("ip", "netns", "add", ns.name)
    try:
        sh("ip", "link", "add", ns.host_if, "type", "veth", "peer", "name", ns.ns_if)
        sh("ip", "link", "set", ns.ns_if, "netns", ns.name)
        sh("ip", "addr", "add", f"{ns.host_ip}/30", "dev", ns.host_if)
        sh("ip", "link", "set", ns.host_if, "up")
        sh("ip", "netns", "exec", ns.name, "ip", "addr", "add", f"{ns.ns_ip}/30", "dev", ns.ns_if)
        sh("ip", "netns", "exec", ns.name, "ip", "link", "set", ns.ns_if, "up")
        sh("ip", "netns", "exec", ns.name, "ip", "link", "set", "lo", "up")
        yield ns
    finally:
        subprocess.run(["ip", "link", "del", ns.host_if], capture_output=True, check=False)
        subprocess.run(["ip", "netns", "del", ns.name], capture_output=True, check=False)


@dataclass
class RtcSystem:
    """Janus in a namespace (`dualrec rtc`) and `dualrec serve` on loopback, an admin logged in."""

    base: str
    ns: Netns
    data: Path
    log: Path
    admin: httpx.Client
    janus_pid: int | None = None
    serve_pid: int | None = None
    rtc_pid: int | None = None
    env: dict[str, str] = field(default_factory=dict)
    relay: Any = None  # what ``relay()`` gave, when rtc_system was given one
    node_dirs: list[Path] = field(default_factory=list)  # each media node's data dir (first: Janus 1)


def _pgrep(pattern: str) -> int | None:
    out = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True, check=False)
    pids = [int(p) for p in out.stdout.split()]
    return pids[0] if pids else None


@contextmanager
def rtc_system(
    data: Path,
    ns: Netns,
    ports: range,
    *,
    relay: Callable[[], Any] | None = None,
    nodes: int = 1,
    **extra_env: str,
) -> Iterator[RtcSystem]:
    """`dualrec rtc` inside ``ns`` (RTP on ``ports``), then — with ``relay()``'s context entered
    in between, when given — `dualrec serve` over a fresh database in ``data``. Checks that the
    Admin API is not reachable from outside the namespace; on exit, that Janus stopped with it.

    ``nodes`` > 1: that many media nodes (DUALREC_RTC_NODES ``n1``, ``n2``…), each a `dualrec rtc`
    of its own data dir beside ``data`` holding a copy of the app's rtc/secrets.json — what each
    media host runs — on ports 8088+i / 7088+i of the namespace, the RTP range split between them.
    Janus writes the recordings into ``data`` (the folder every media host must share with the
    compose worker)."""
    data.mkdir(parents=True, exist_ok=True)
    env = {
        "DUALREC_RTC_ENABLED": "true",
        "DUALREC_RTC_MANAGED": "false",
        "DUALREC_RTC_BIND": ns.ns_ip,
        "DUALREC_RTC_ICE_ENFORCE_LIST": ns.ns_if,
        "DUALREC_RTC_RTP_PORTS": f"{ports.start}-{ports.stop - 1}",
        **extra_env,
    }
    node_dirs = [data] if nodes == 1 else [data.parent / f"{data.name}-n{i + 1}" for i in range(nodes)]
    if nodes > 1:
        from dualrec.services.rtc.janus_config import load_or_create_secrets

        secrets = data / "rtc" / "secrets.json"
        load_or_create_secrets(secrets)
        for node_dir in node_dirs:
            (node_dir / "rtc").mkdir(parents=True, exist_ok=True)
            shutil.copyfile(secrets, node_dir / "rtc" / "secrets.json")
            (node_dir / "rtc" / "secrets.json").chmod(0o600)
        env["DUALREC_RTC_NODES"] = ",".join(
            f"n{i + 1}=http://{ns.ns_ip}:{8088 + i}/janus" for i in range(nodes)
        )
    share = len(ports) // nodes
    with ExitStack() as stack:
        owners: list[subprocess.Popen[bytes]] = []
        try:
            for i, node_dir in enumerate(node_dirs):
                low = ports.start + i * share
                node_env = {
                    **os.environ,
                    "DUALREC_DATA_DIR": str(node_dir),
                    "DUALREC_ENV": "test",
                    **env,
                    "DUALREC_RTC_HTTP_PORT": str(8088 + i),
                    "DUALREC_RTC_ADMIN_PORT": str(7088 + i),
                    "DUALREC_RTC_RTP_PORTS": f"{low}-{low + share - 1}",
                }
                rtc_log = stack.enter_context((node_dir / "rtc-cli.log").open("wb"))
                owners.append(
                    subprocess.Popen(
                        ["ip", "netns", "exec", ns.name, str(DUALREC), "rtc"],
                        env=node_env,
                        stdout=rtc_log,
                        stderr=subprocess.STDOUT,
                    )
                )
            for i in range(nodes):
                wait(
                    lambda i=i: answers(f"http://{ns.ns_ip}:{8088 + i}/janus"),
                    30,
                    f"Janus {i + 1} in the namespace",
                )
                # the Admin API listens on the namespace's loopback only: not reachable from outside it
                with pytest.raises(httpx.ConnectError):
                    httpx.post(
                        f"http://{ns.ns_ip}:{7088 + i}/admin",
                        json={"janus": "ping", "transaction": "t"},
                        timeout=3,
                    )
            relayed = stack.enter_context(relay()) if relay is not None else None
            base, log = stack.enter_context(running_server(data, **env))
            admin = stack.enter_context(httpx.Client(base_url=base, headers=CSRF, timeout=30))
            r = admin.post("/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
            assert r.status_code == 200, r.text
            yield RtcSystem(
                base,
                ns,
                data,
                log,
                admin,
                janus_pid=_pgrep(f"janus -F {node_dirs[0]}"),
                serve_pid=_pgrep(f"serve --host 127.0.0.1 --port {base.rsplit(':', 1)[1]}"),
                rtc_pid=owners[0].pid,
                env=env,
                relay=relayed,
                node_dirs=node_dirs,
            )
        finally:
            stack.close()
            for owner in owners:
                owner.terminate()
            for owner in owners:
                try:
                    owner.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    owner.kill()
    # Janus is a child of `dualrec rtc`: it stopped with its owner
    for node_dir in node_dirs:
        assert _pgrep(f"janus -F {node_dir}") is None


def publish_flows(admin: httpx.Client, flows: list[tuple[str, str, dict[str, Any], str | None]]) -> None:
    """Publishes each (code, business type, definition, mode of its routing rule or None) and routes
    each business type to its flow."""
    rules = []
    for i, (code, business, definition, mode) in enumerate(flows):
        r = admin.post(
            "/api/v1/flows",
            json={"code": code, "name": code, "business_type": business, "definition": definition},
        )
        assert r.status_code == 201, r.text
        assert admin.post(f"/api/v1/flows/{code}/publish", json={}).status_code == 201
        rule: dict[str, Any] = {
            "name": f"{code}-rule",
            "priority": 10 * (i + 1),
            "flow_code": code,
            "business_types": [business],
        }
        if mode:
            rule["mode"] = mode
        rules.append(rule)
    assert admin.put("/api/v1/routing-rules", json={"rules": rules}).status_code == 200


def create_task(
    admin: httpx.Client, business_no: str, business_type: str, customer_type: str = "personal", **extra: Any
) -> tuple[str, str]:
    """A task over the API: (task id, link token of its /h5 entry)."""
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
        **extra,
    }
    r = admin.post("/api/v1/tasks", json=body)
    assert r.status_code == 201, r.text
    return r.json()["id"], r.json()["entry_url"].rsplit("/h5/", 1)[1]


def launch(chromium: Browser, *extra_args: str) -> Browser:
    """A separate Chromium with fake camera and microphone (one per party: its own media stack)."""
    return chromium.browser_type.launch(executable_path=str(CHROMIUM), args=[*RTC_CHROMIUM_ARGS, *extra_args])


def rtc_context(browser: Browser, base: str, keep_ip: str, timeout_ms: int = 30_000) -> BrowserContext:
    context = browser.new_context(base_url=base, locale="zh-CN", viewport={"width": 1280, "height": 800})
    context.add_init_script(KEEP_CANDIDATES % keep_ip)
    context.set_default_timeout(timeout_ms)
    return context


def log_in(page: Page) -> Page:
    page.goto("/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    return page


def stats(page: Page) -> dict[str, float]:
    """What the page received so far (its receive-stats element: decoded frames, audio energy)."""
    el = page.locator("[data-testid=receive-stats]")
    if el.count() == 0:
        return {"frames": 0, "energy": 0}
    return {
        "frames": float(el.get_attribute("data-frames") or 0),
        "energy": float(el.get_attribute("data-audio-energy") or 0),
    }


def call_state(page: Page) -> str | None:
    return page.get_by_test_id("call-state").get_attribute("data-state")


def customer_joins(page: Page) -> None:
    """Taken by the agent: the page joins by itself when the browser saw a gesture, else on a tap."""

    def joined_or_button() -> str:
        if call_state(page) != "idle":
            return "joined"
        button = page.get_by_test_id("customer-join")
        try:  # the button may go away between the two questions (the page re-rendered, joined)
            return "tap" if button.count() and button.is_enabled(timeout=1000) else ""
        except PlaywrightTimeoutError:
            return ""

    if wait(joined_or_button, 30, "the customer's page taken by the agent") == "tap":
        page.get_by_test_id("customer-join").click()


def call_report(pages: dict[str, Page]) -> str:
    """Where each page's call stands (state, set-up steps reached in seconds from the first,
    received media): what a test that timed out waiting for a call says about it."""
    out = []
    for who, page in pages.items():
        try:
            marks = setup_marks(page)
            first = min(marks.values(), default=0.0)
            ordered = sorted(marks.items(), key=lambda kv: kv[1])
            steps = " ".join(f"{k}+{(v - first) / 1000:.1f}" for k, v in ordered)
            out.append(f"{who}: state={call_state(page)} steps=[{steps}] received={stats(page)}")
        except Exception as exc:  # a page that is gone still lets the others be reported
            out.append(f"{who}: unreadable ({exc.__class__.__name__})")
    return "; ".join(out)


def connected(pages: dict[str, Page], frames: int = 30) -> None:
    """Both pages connected; each decoded more than ``frames`` frames and heard some audio.
    A time-out says where each page's call stood (``call_report``)."""
    try:
        for who, page in pages.items():
            wait(lambda page=page: call_state(page) == "connected", 60, f"{who} connected")
        for who, page in pages.items():
            wait(lambda page=page: stats(page)["frames"] > frames, 60, f"{who}: {frames} decoded frames")
            wait(lambda page=page: stats(page)["energy"] > 0.001, 30, f"{who}: audio energy")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; {call_report(pages)}") from None


def receiving(page: Page, frames: int = 5, within: float = 2.0) -> bool:
    """The page's received video is moving now: more than ``frames`` new frames decoded within
    ``within`` seconds (a frozen subscription, or one that was replaced meanwhile, is not)."""
    before = stats(page)["frames"]
    time.sleep(within)
    return stats(page)["frames"] > before + frames


def setup_marks(page: Page) -> dict[str, float]:
    """The page's call set-up timeline: step → wall-clock ms since the epoch."""
    return {name: at for name, at in page.evaluate(SETUP_MARKS)}


def recorded(sys: RtcSystem, task_id: str, timeout: float = 500) -> tuple[dict[str, Any], dict[str, Any]]:
    """Waits for the composed recording of the task's current attempt and its QC:
    (task, recording)."""

    def done() -> Any:
        t = sys.admin.get(f"/api/v1/tasks/{task_id}").json()
        attempt = next(a for a in t["attempts"] if a["number"] == t["attempt"])
        rec = attempt.get("recording_id")
        if not rec or t["status"] in ("qc", "in_progress"):
            return None
        recording = sys.admin.get(f"/api/v1/recordings/{rec}").json()
        return recording["filename"] == "remote-interview.mp4" and (t, recording)

    try:
        found: tuple[dict[str, Any], dict[str, Any]] = wait(done, timeout, "the composed recording's QC", 0.5)
    except AssertionError:
        print(sys.log.read_text()[-6000:])
        raise
    return found
