"""Remote interviews (issue 17): how many concurrent recorded two-party calls one node carries
(Janus + dualrec), call set-up time p50/p95, and recording-to-report time.

Set-up as in tests/e2e/test_rtc_call.py: Janus (`dualrec rtc`) in a network namespace of its own
(media never on the machine's own address), `dualrec serve` on loopback, in-process jobs (the
recordings are composed and QC'd by the serve process). The load: K calls at once, each a real
WebRTC call between two headless Chromium pages with fake camera and microphone (one Chromium for
all agents, one for all customers: the lightest real WebRTC client installed here — aiortc is not
a dependency of this project). Each call: the agent opens the desk and starts, the customer opens
the link and joins; the set-up time is from the agent's click until both pages show "connected"
(polled every 0.1 s). The calls are held ``--hold`` seconds; "carried" means both sides still
decode ≥ 10 fps at the end (the browsers' own quality reports). Then every call is hung up and the
time until its QC report exists is the recording-to-report time (compose: janus-pp-rec + FFmpeg,
then QC).

CPU: user+system seconds of Janus, of dualrec serve (with its FFmpeg children) and of the Chromium
load generators, from /proc, over the hold; "node cores" = (Janus + dualrec) CPU seconds ÷ hold
seconds. Calls per 2-core node is extrapolated linearly from that (at 80 % of 2 cores) — say so
when quoting it. This machine is shared: run with a small K and report the load average beside.

Needs root (ip netns), janus/janus-pp-rec, chromium and a built front end; prints SKIPPED and exits
0 elsewhere. Usage: ``.venv/bin/python bench/rtc.py [--calls 2] [--hold 20] [--quick]``
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def _skip(why: str) -> None:
    print(f"SKIPPED: {why}")
    sys.exit(0)


def _pids_under(root: int) -> list[int]:
    """root and every descendant (from /proc's parent links)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(parents.get(pid, []))
    return out


def _cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICK


def _janus_pid(data: Path) -> int | None:
    out = subprocess.run(["pgrep", "-f", f"janus -F {data}"], capture_output=True, text=True, check=False)
    pids = [int(p) for p in out.stdout.split()]
    return pids[0] if pids else None


@contextlib.contextmanager
def _netns() -> Iterator[Any]:
    from tests.e2e.test_rtc_call import Netns

    n = os.getpid() % 60 + 1
    ns = Netns(f"drbench{os.getpid()}", f"vdb{n}h", f"vdb{n}j", f"10.233.{n * 4}.1", f"10.233.{n * 4}.2")

    def sh(*args: str) -> None:
        subprocess.run(list(args), check=True, capture_output=True, timeout=30)

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


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _setup_api(admin: httpx.Client, calls: int) -> list[tuple[str, str]]:
    from tests.e2e.conftest import ADMIN_PASSWORD
    from tests.e2e.test_rtc_call import FLOW

    assert (
        admin.post("/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}).status_code
        == 200
    )
    definition = {"code": "bench-rtc", "name": "bench", "business_type": "wealth", "definition": FLOW}
    assert admin.post("/api/v1/flows", json=definition).status_code == 201
    assert admin.post("/api/v1/flows/bench-rtc/publish", json={}).status_code == 201
    rules = [
        {
            "name": "人工",
            "priority": 10,
            "flow_code": "bench-rtc",
            "mode": "human",
            "business_types": ["wealth"],
        }
    ]
    assert admin.put("/api/v1/routing-rules", json={"rules": rules}).status_code == 200
    out = []
    for i in range(calls):
        task = {
            "customer_id": f"CB{i:04d}",
            "customer_name": "测试",
            "id_number": "11010519491231002X",
            "phone": "13800138000",
            "customer_type": "personal",
            "risk_level": "R3",
            "business_type": "wealth",
            "business_no": f"BENCH-RTC-{i:04d}",
            "product": "bench",
            "amount": "1.00",
            "documents": [],
        }
        r = admin.post("/api/v1/tasks", json=task)
        assert r.status_code == 201, r.text
        out.append((r.json()["id"], r.json()["entry_url"].rsplit("/h5/", 1)[1]))
    return out


def run(calls: int, hold: float) -> int:
    if os.geteuid() != 0:
        _skip("needs root for ip netns")
    for tool in ("janus", "janus-pp-rec", "ffmpeg"):
        if shutil.which(tool) is None:
            _skip(f"{tool} not installed")
    from playwright.sync_api import sync_playwright
    from tests.e2e.conftest import (
        ADMIN_PASSWORD,
        CHROMIUM,
        CHROMIUM_ARGS,
        CSRF,
        DIST_INDEX,
        DUALREC,
        running_server,
    )
    from tests.e2e.test_rtc_call import KEEP_CANDIDATES, _answers, _customer_joins, _wait

    if not CHROMIUM.is_file() or not DIST_INDEX.is_file():
        _skip("needs /usr/bin/chromium and the built front end (make web)")
    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix="bench-rtc-"))
    data = tmp / "data"
    data.mkdir()
    low = 46000 + (os.getpid() % 40) * 100
    print(
        f"calls {calls}, hold {hold:.0f} s; "
        f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    with _netns() as ns:
        env = {
            "DUALREC_RTC_ENABLED": "true",
            "DUALREC_RTC_MANAGED": "false",
            "DUALREC_RTC_BIND": ns.ns_ip,
            "DUALREC_RTC_ICE_ENFORCE_LIST": ns.ns_if,
            "DUALREC_RTC_RTP_PORTS": f"{low}-{low + 99}",
        }
        full_env = {**os.environ, "DUALREC_DATA_DIR": str(data), "DUALREC_ENV": "test", **env}
        rtc_log = (data / "rtc-cli.log").open("wb")
        rtc = subprocess.Popen(
            ["ip", "netns", "exec", ns.name, str(DUALREC), "rtc"],
            env=full_env,
            stdout=rtc_log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait(lambda: _answers(f"http://{ns.ns_ip}:8088/janus"), 30, "Janus")
            janus = _janus_pid(data)
            assert janus is not None, "janus process not found"
            with (
                running_server(data, **env) as (base, _log),
                httpx.Client(base_url=base, headers=CSRF, timeout=60) as admin,
                sync_playwright() as p,
            ):
                serve = int(
                    subprocess.run(["pgrep", "-f", f"serve --host 127.0.0.1 --port {base.rsplit(':', 1)[1]}"],
                                   capture_output=True, text=True, check=False).stdout.split()[0]
                )  # fmt: skip
                tasks = _setup_api(admin, calls)
                args = [
                    *CHROMIUM_ARGS,
                    "--use-fake-device-for-media-stream",
                    "--use-fake-ui-for-media-stream",
                    "--allow-loopback-in-peer-connection",
                    "--autoplay-policy=no-user-gesture-required",
                ]
                browsers = [p.chromium.launch(executable_path=str(CHROMIUM), args=args) for _ in range(2)]
                agents, customers = [], []
                for i, (task_id, link) in enumerate(tasks):
                    a_ctx = browsers[0].new_context(base_url=base, locale="zh-CN")
                    c_ctx = browsers[1].new_context(base_url=base, locale="zh-CN")
                    for ctx in (a_ctx, c_ctx):
                        ctx.add_init_script(KEEP_CANDIDATES % ns.host_ip)
                        ctx.set_default_timeout(60_000)
                    a, c = a_ctx.new_page(), c_ctx.new_page()
                    a.goto("/login")
                    a.fill("input[name=username]", "admin")
                    a.fill("input[name=password]", ADMIN_PASSWORD)
                    a.click("button[type=submit]")
                    a.wait_for_url(lambda url: "/login" not in url)
                    a.goto(f"/rtc/tasks/{task_id}")
                    a.get_by_role("button", name="开始视频通话").wait_for()
                    c.goto(f"/h5/{link}")
                    c.get_by_test_id("call-state").wait_for()  # queued, waiting for the agent
                    agents.append(a)
                    customers.append(c)
                    print(f"  call {i + 1}: pages ready", flush=True)
                # all calls start together: each agent clicks, then its customer
                started: list[float] = []
                for a, c in zip(agents, customers, strict=True):
                    started.append(time.monotonic())
                    a.get_by_role("button", name="开始视频通话").click()
                    _customer_joins(c)
                setup: list[float | None] = [None] * calls
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline and any(s is None for s in setup):
                    for i, (a, c) in enumerate(zip(agents, customers, strict=True)):
                        if setup[i] is None and all(
                            pg.get_by_test_id("call-state").get_attribute("data-state") == "connected"
                            for pg in (a, c)
                        ):
                            setup[i] = time.monotonic() - started[i]
                    time.sleep(0.1)
                connected = [s for s in setup if s is not None]
                # hold: CPU of Janus, dualrec, the load generators
                # the load generators: this process' descendants other than serve and `dualrec rtc`
                node_pids = set(_pids_under(serve)) | set(_pids_under(rtc.pid)) | {os.getpid()}
                chromium_pids = [pid for pid in _pids_under(os.getpid()) if pid not in node_pids]
                node0 = _cpu_seconds(_pids_under(janus)), _cpu_seconds(_pids_under(serve))
                gen0 = _cpu_seconds(chromium_pids)
                t0 = time.monotonic()
                time.sleep(hold)
                held = time.monotonic() - t0
                node1 = _cpu_seconds(_pids_under(janus)), _cpu_seconds(_pids_under(serve))
                gen1 = _cpu_seconds(chromium_pids)
                carried = 0
                for task_id, _link in tasks:
                    parties = admin.get(f"/api/v1/rtc/tasks/{task_id}/quality").json()["parties"]
                    if len(parties) == 2 and all(pp["fps"] >= 10 for pp in parties):
                        carried += 1
                janus_cores = (node1[0] - node0[0]) / held
                serve_cores = (node1[1] - node0[1]) / held
                gen_cores = (gen1 - gen0) / held
                load_during = os.getloadavg()[0]
                # hang up → recording → report
                hung: dict[str, float] = {}
                for a, (task_id, _link) in zip(agents, tasks, strict=True):
                    a.get_by_test_id("hangup").click()
                    hung[task_id] = time.monotonic()
                for b in browsers:
                    b.close()
                to_report: list[float] = []
                deadline = time.monotonic() + 600 + 120 * calls
                pending = set(hung)
                while pending and time.monotonic() < deadline:
                    for task_id in list(pending):
                        t = admin.get(f"/api/v1/tasks/{task_id}").json()
                        attempt = next(x for x in t["attempts"] if x["number"] == t["attempt"])
                        if attempt.get("recording_id") and t["status"] not in ("qc", "in_progress"):
                            to_report.append(time.monotonic() - hung[task_id])
                            pending.discard(task_id)
                    time.sleep(1)
        finally:
            rtc.terminate()
            try:
                rtc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                rtc.kill()
            rtc_log.close()
    shutil.rmtree(tmp, ignore_errors=True)

    node_cores = janus_cores + serve_cores
    per_call = node_cores / max(carried, 1)
    print(
        f"connected {len(connected)}/{calls}, "
        f"carried (both sides ≥ 10 fps after {held:.0f} s) {carried}/{calls}"
    )
    print(
        f"set-up time: p50 {_pct(connected, 0.5):.2f} s, "
        f"p95 {_pct(connected, 0.95):.2f} s (n={len(connected)})"
    )
    print(
        f"CPU over the hold (cores): Janus {janus_cores:.3f}, dualrec serve {serve_cores:.3f} "
        f"→ node {node_cores:.3f} ({per_call:.3f} per call); load generators (Chromium) {gen_cores:.2f} apart"
    )
    if carried:
        print(
            "extrapolated calls per 2-core node at 80 % CPU (Janus + dualrec only, linear): "
            f"{1.6 / per_call:.0f} "
            "(goal ≥ 10)"
        )
    if to_report:
        print(
            f"recording-to-report (hang-up → QC report, {hold:.0f} s calls): "
            f"p50 {statistics.median(to_report):.1f} s, "
            f"max {max(to_report):.1f} s (n={len(to_report)}); {len(pending)} not done"
        )
    print(f"load average during the hold: {load_during:.1f} (shared machine)")
    return 0 if connected else 1


def main() -> int:
    # a SIGTERM (timeout, Ctrl-C in make) still removes the namespace and stops Janus
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3, help="concurrent calls (K)")
    parser.add_argument("--hold", type=float, default=30.0, help="seconds every call is held")
    parser.add_argument("--quick", action="store_true", help="one call, held 10 s")
    a = parser.parse_args()
    if a.quick:
        a.calls, a.hold = 1, 10.0
    return run(max(1, a.calls), max(5.0, a.hold))


if __name__ == "__main__":
    sys.exit(main())
