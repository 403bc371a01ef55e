"""Remote interviews (issue 17): how many concurrent recorded two-party calls one node carries
(Janus + dualrec), call set-up time p50/p95, and recording-to-report time.

Set-up from tests/rtc_support.py (shared with the browser tests): Janus (`dualrec rtc`) in a network
namespace of its own (media never on the machine's own address), `dualrec serve` on loopback, in-
process jobs (the recordings are composed and QC'd by the serve process). The load: K calls at once,
each a real WebRTC call between two headless Chromium pages with fake camera and microphone (one
Chromium for all agents, one for all customers: the lightest real WebRTC client installed here —
aiortc is not a dependency of this project). Each call: the agent opens the desk and starts, the
customer opens the link and joins; the set-up time is from the agent's click until both pages show
"connected" (polled every 0.05 s), broken down into the pages' own set-up steps (their performance
marks, see tests/rtc_support.SETUP_STEPS). The calls are held ``--hold`` seconds; "carried" means
both sides still decode ≥ 10 fps at the end (the browsers' own quality reports). Then every call is
hung up and the time until its QC report exists is the recording-to-report time (compose: janus-pp-
rec + FFmpeg, then QC).

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
import sys
import time
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


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _setup_api(admin: httpx.Client, calls: int) -> list[tuple[str, str]]:
    from tests.rtc_support import FLOW, create_task, publish_flows

    publish_flows(admin, [("bench-rtc", "wealth", FLOW, "human")])
    return [create_task(admin, f"BENCH-RTC-{i:04d}", "wealth") for i in range(calls)]


def _breakdown(clicks: list[float], agents: list[Any], customers: list[Any]) -> list[float]:
    """Median (and max) over the calls of when each page reached each set-up step, in seconds
    after the agent's click (the pages' performance marks, wall clock of this machine). Returns
    each call's set-up time by the marks: the later of the two pages' first remote video."""
    from tests.rtc_support import SETUP_STEPS, setup_marks

    rows: dict[tuple[str, str], list[float]] = {}
    by_marks: list[float] = []
    for click, a, c in zip(clicks, agents, customers, strict=True):
        video: list[float] = []
        for who, page in (("agent", a), ("customer", c)):
            try:
                marks = setup_marks(page)
            except Exception:  # a page that went away has no marks
                continue
            for step, at in marks.items():
                rows.setdefault((who, step), []).append(at / 1000 - click)
            if "remote-video" in marks:
                video.append(marks["remote-video"] / 1000 - click)
        if len(video) == 2:
            by_marks.append(max(video))
    print("set-up steps, seconds after the agent's click (median / max over the calls):")
    for who in ("agent", "customer"):
        line = []
        for step in SETUP_STEPS:
            values = rows.get((who, step))
            if values:
                line.append(f"{step} {statistics.median(values):.2f}/{max(values):.2f}")
        print(f"  {who}: " + ", ".join(line))
    return by_marks


def run(calls: int, hold: float) -> int:
    if os.geteuid() != 0:
        _skip("needs root for ip netns")
    for tool in ("janus", "janus-pp-rec", "ffmpeg"):
        if shutil.which(tool) is None:
            _skip(f"{tool} not installed")
    from playwright.sync_api import sync_playwright
    from tests.e2e.conftest import CHROMIUM, DIST_INDEX
    from tests.rtc_support import (
        RTC_CHROMIUM_ARGS,
        call_state,
        customer_joins,
        log_in,
        network_namespace,
        rtc_context,
        rtc_system,
    )

    if not CHROMIUM.is_file() or not DIST_INDEX.is_file():
        _skip("needs /usr/bin/chromium and the built front end (make web)")
    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix="bench-rtc-"))
    low = 46000 + (os.getpid() % 40) * 100
    print(
        f"calls {calls}, hold {hold:.0f} s; "
        f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    with (
        network_namespace("drbench", 233) as ns,
        rtc_system(tmp / "data", ns, range(low, low + 100)) as rtc,
        sync_playwright() as p,
    ):
        admin, janus, serve = rtc.admin, rtc.janus_pid, rtc.serve_pid
        assert janus is not None and serve is not None and rtc.rtc_pid is not None, "janus/serve not found"
        tasks = _setup_api(admin, calls)
        browsers = [
            p.chromium.launch(executable_path=str(CHROMIUM), args=RTC_CHROMIUM_ARGS) for _ in range(2)
        ]
        agents, customers = [], []
        for i, (task_id, link) in enumerate(tasks):
            a = log_in(rtc_context(browsers[0], rtc.base, ns.host_ip, 60_000).new_page())
            c = rtc_context(browsers[1], rtc.base, ns.host_ip, 60_000).new_page()
            a.goto(f"/rtc/tasks/{task_id}")
            a.get_by_role("button", name="开始视频通话").wait_for()
            c.goto(f"/h5/{link}")
            c.get_by_test_id("call-state").wait_for()  # queued, waiting for the agent
            agents.append(a)
            customers.append(c)
            print(f"  call {i + 1}: pages ready", flush=True)
        # all calls start together: each agent clicks, then its customer
        started: list[float] = []
        clicks: list[float] = []
        for a, c in zip(agents, customers, strict=True):
            started.append(time.monotonic())
            clicks.append(time.time())
            a.get_by_role("button", name="开始视频通话").click()
            customer_joins(c)
        setup: list[float | None] = [None] * calls
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(s is None for s in setup):
            for i, (a, c) in enumerate(zip(agents, customers, strict=True)):
                if setup[i] is None and all(call_state(pg) == "connected" for pg in (a, c)):
                    setup[i] = time.monotonic() - started[i]
            time.sleep(0.05)
        connected = [s for s in setup if s is not None]
        time.sleep(2)  # the first remote frames
        by_marks = _breakdown(clicks, agents, customers)
        # hold: CPU of Janus, dualrec, the load generators
        # the load generators: this process' descendants other than serve and `dualrec rtc`
        node_pids = set(_pids_under(serve)) | set(_pids_under(rtc.rtc_pid)) | {os.getpid()}
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
    shutil.rmtree(tmp, ignore_errors=True)

    node_cores = janus_cores + serve_cores
    per_call = node_cores / max(carried, 1)
    print(
        f"connected {len(connected)}/{calls}, "
        f"carried (both sides ≥ 10 fps after {held:.0f} s) {carried}/{calls}"
    )
    print(
        "set-up time (agent's click → both pages 'connected', polled through Playwright): "
        f"p50 {_pct(connected, 0.5):.2f} s, p95 {_pct(connected, 0.95):.2f} s (n={len(connected)})"
    )
    print(
        "set-up time (agent's click → the first remote video packets on both pages, their marks): "
        f"p50 {_pct(by_marks, 0.5):.2f} s, p95 {_pct(by_marks, 0.95):.2f} s (n={len(by_marks)})"
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


# ---- the aiortc generator (bench/_rtc_aiortc.py) ------------------------------------------------

# each role's camera and microphone, encoded once: a face photo with temporal noise (so VP8 spends
# its bit rate on every frame, like a camera) at 640×480, 25 fps, ~700 kbit/s, a key frame every 2 s;
# speech as 20 ms Opus packets, 32 kbit/s
MEDIA = {
    "agent": ("tests/data/faces/biden.jpg", "tests/data/speech/question.wav"),
    "customer": ("tests/data/faces/obama.jpg", "tests/data/speech/news_mid.wav"),
}


def _make_media(folder: Path) -> dict[str, str]:
    import subprocess

    out = {}
    for role, (picture, speech) in MEDIA.items():
        target = folder / f"{role}.webm"
        picture_filter = "scale=640:480:force_original_aspect_ratio=increase,crop=640:480"
        subprocess.run(
            [
                *("ffmpeg", "-v", "error", "-y", "-loop", "1", "-framerate", "25", "-i", str(ROOT / picture)),
                *("-i", str(ROOT / speech), "-t", "10"),
                *("-vf", f"{picture_filter},noise=alls=10:allf=t,format=yuv420p"),
                *("-c:v", "libvpx", "-b:v", "700k", "-minrate", "700k", "-maxrate", "700k", "-g", "50"),
                *("-deadline", "realtime", "-cpu-used", "8"),
                *("-c:a", "libopus", "-b:a", "32k", "-ar", "48000", "-ac", "1", "-frame_duration", "20"),
                *("-shortest", str(target)),
            ],
            check=True,
            timeout=300,
        )
        out[role] = str(target)
    return out


def _recorded(admin: httpx.Client, task_id: str) -> bool | None:
    """True: the attempt's composed recording exists and QC is done; None: not yet."""
    t = admin.get(f"/api/v1/tasks/{task_id}").json()
    attempt = next(x for x in t["attempts"] if x["number"] == t["attempt"])
    if not attempt.get("recording_id") or t["status"] in ("qc", "in_progress"):
        return None
    rec = admin.get(f"/api/v1/recordings/{attempt['recording_id']}").json()
    return bool(rec.get("filename") == "remote-interview.mp4")


def run_aiortc(
    calls: int, hold: float, procs: int, report_sample: int | None, page_traffic: bool, arrival: float = 0.0
) -> int:
    if os.geteuid() != 0:
        _skip("needs root for ip netns")
    for tool in ("janus", "janus-pp-rec", "ffmpeg"):
        if shutil.which(tool) is None:
            _skip(f"{tool} not installed")
    try:
        import aiortc  # noqa: F401
    except ImportError:
        _skip("aiortc not installed (make bench installs the [bench] extra)")
    import multiprocessing
    import tempfile

    from bench._rtc_aiortc import run_worker
    from tests.e2e.conftest import ADMIN_PASSWORD
    from tests.rtc_support import network_namespace, rtc_system

    tmp = Path(tempfile.mkdtemp(prefix="bench-rtc-"))
    media = _make_media(tmp)
    low = 40000 + (os.getpid() % 20) * 1000  # Janus' RTP ports: one per PeerConnection (bundled)
    procs = max(1, min(procs, calls))
    load_before = os.getloadavg()
    print(
        f"generator aiortc ({procs} process(es)), calls {calls}, hold {hold:.0f} s, "
        f"desk polls and quality reports {'on' if page_traffic else 'off'}, "
        f"{'all calls start at once' if arrival <= 0 else f'one call starts every {arrival:g} s'}; "
        f"load average before: {load_before[0]:.1f} (5 min {load_before[1]:.1f}) on {os.cpu_count()} cores",
        flush=True,
    )
    ctx = multiprocessing.get_context("spawn")
    ports = min(1000, max(100, 6 * calls + 20))  # 4 PeerConnections per call
    with (
        network_namespace("drbench", 233) as ns,
        rtc_system(tmp / "data", ns, range(low, low + ports)) as rtc,
    ):
        admin, janus, serve = rtc.admin, rtc.janus_pid, rtc.serve_pid
        assert janus is not None and serve is not None, "janus/serve not found"
        tasks = _setup_api(admin, calls)
        shares: list[list[tuple[int, str, str]]] = [[] for _ in range(procs)]
        for i, (task_id, link) in enumerate(tasks):
            shares[i % procs].append((i, task_id, link))
        barrier = ctx.Barrier(procs + 1)
        out = ctx.Queue()
        workers = [
            ctx.Process(
                target=run_worker,
                args=(
                    rtc.base,
                    ADMIN_PASSWORD,
                    share,
                    media,
                    hold,
                    barrier,
                    ns.host_ip,
                    out,
                    page_traffic,
                    arrival,
                ),
                daemon=True,
            )
            for share in shares
        ]
        for w in workers:
            w.start()
        barrier.wait(timeout=300)  # prepared: the calls start now
        t_start = time.monotonic()
        barrier.wait(timeout=300)  # every call up or given up
        print(f"  set-up phase: {time.monotonic() - t_start:.1f} s", flush=True)
        gen_pids = [os.getpid(), *(w.pid for w in workers if w.pid)]
        cpu0 = _cpu_seconds(_pids_under(janus)), _cpu_seconds(_pids_under(serve)), _cpu_seconds(gen_pids)
        t0 = time.monotonic()
        time.sleep(hold)
        held = time.monotonic() - t0
        cpu1 = _cpu_seconds(_pids_under(janus)), _cpu_seconds(_pids_under(serve)), _cpu_seconds(gen_pids)
        load_during = os.getloadavg()
        results: list[dict[str, Any]] = []
        for _ in workers:
            results.extend(out.get(timeout=120 + 5 * calls))
        for w in workers:
            w.join(timeout=30)
        results.sort(key=lambda r: r["index"])
        server_fps = 0
        for task_id, _link in tasks:
            parties = admin.get(f"/api/v1/rtc/tasks/{task_id}/quality").json().get("parties", [])
            server_fps += len(parties) == 2 and all(pp["fps"] >= 10 for pp in parties)
        from bench._rtc_stats import percentile

        janus_cores, serve_cores, gen_cores = ((b - a) / held for a, b in zip(cpu0, cpu1, strict=True))
        setups = [r["setup_s"] for r in results if r.get("setup_s") is not None]
        carried = sum(bool(r.get("carried")) for r in results)
        for r in results:
            if r.get("error") or not r.get("carried"):
                a, c = r.get("agent", {}), r.get("customer", {})
                print(
                    f"  call {r['index'] + 1}: carried {r.get('carried')}, agent received "
                    f"{a.get('fps')} fps / {a.get('audio_pps')} audio pkt/s, customer {c.get('fps')} / "
                    f"{c.get('audio_pps')}; {r.get('error', '')} {a.get('error', '')} {c.get('error', '')}"
                )
        from bench._rtc_aiortc import STEPS

        print("set-up steps, seconds after the call's first request (median / max over the calls):")
        for who in ("agent", "customer"):
            line = []
            for step in STEPS:
                values = [r[who]["marks"][step] for r in results if step in r.get(who, {}).get("marks", {})]
                if values:
                    line.append(f"{step} {statistics.median(values):.2f}/{max(values):.2f}")
            print(f"  {who}: " + ", ".join(line))
        fps = [s["fps"] for r in results for s in (r.get("agent"), r.get("customer")) if s]
        kbps = [s["video_kbps"] for r in results for s in (r.get("agent"), r.get("customer")) if s]
        print(
            f"connected {len(setups)}/{calls}, carried (both sides receive ≥ 10 fps video and ≥ 25 audio "
            f"packets/s over the last 5 s of the {held:.0f} s hold) {carried}/{calls}; "
            f"the dualrec quality reports agree (both ≥ 10 fps) for {server_fps}/{calls}"
        )
        if fps:
            print(
                f"received video per side: fps median {statistics.median(fps):.1f}, min {min(fps):.1f}; "
                f"kbit/s median {statistics.median(kbps):.0f}"
            )
        print(
            "set-up time (generator's join request → both sides receive the other's video and audio): "
            f"p50 {percentile(setups, 0.5):.2f} s, p95 {percentile(setups, 0.95):.2f} s, "
            f"max {max(setups, default=float('nan')):.2f} s (n={len(setups)})"
        )
        if arrival > 0:
            by_order = [f"{r['setup_s']:.2f}" if r.get("setup_s") is not None else "-" for r in results]
            print(f"  per call, in arrival order (call k starts beside k-1 held calls): {' '.join(by_order)}")
        node = janus_cores + serve_cores
        print(
            f"CPU over the hold (cores): Janus {janus_cores:.3f}, dualrec serve {serve_cores:.3f} "
            f"→ node {node:.3f} ({node / max(carried, 1):.3f} per call); "
            f"load generator (aiortc, {procs} process(es)) {gen_cores:.2f} apart; "
            f"load average at the end of the hold {load_during[0]:.1f}",
            flush=True,
        )
        # hang-up → recording → report (every call, or the first ``report_sample``)
        watched = [r for r in results if r.get("hung_at")][: report_sample or None]
        pending = {r["task_id"]: r["hung_at"] for r in watched}
        to_report: list[float] = []
        recorded = 0
        t_drain = time.time()
        deadline = time.monotonic() + 600 + 120 * calls
        while pending and time.monotonic() < deadline:
            for task_id in list(pending):
                done = _recorded(admin, task_id)
                if done is not None:
                    to_report.append(time.time() - pending.pop(task_id))
                    recorded += done
            time.sleep(1)
        drained = time.time() - t_drain
        load_after = os.getloadavg()
    shutil.rmtree(tmp, ignore_errors=True)
    if to_report:
        print(
            f"recording-to-report (hang-up → QC report, {hold:.0f} s calls, n={len(to_report)} of {calls}): "
            f"p50 {statistics.median(to_report):.1f} s, max {max(to_report):.1f} s; "
            f"composite recordings {recorded}/{len(to_report)}; {len(pending)} not done; "
            f"{'the watched reports' if report_sample else 'the queue drained'} {drained:.0f} s after "
            "the hang-ups"
        )
    print(
        f"load average: before {load_before[0]:.1f}, end of hold {load_during[0]:.1f}, "
        f"after the drain {load_after[0]:.1f} (1 min; shared machine)"
    )
    return 0 if setups else 1


def main() -> int:
    # a SIGTERM (timeout, Ctrl-C in make) still removes the namespace and stops Janus
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3, help="concurrent calls (K)")
    parser.add_argument("--hold", type=float, default=30.0, help="seconds every call is held")
    parser.add_argument("--quick", action="store_true", help="one call, held 10 s")
    parser.add_argument(
        "--generator",
        choices=("chromium", "aiortc"),
        default="chromium",
        help="the load: Chromium pages (default) or the aiortc clients (pre-encoded media, no decoding)",
    )
    parser.add_argument("--procs", type=int, default=1, help="aiortc: generator processes")
    parser.add_argument(
        "--report-sample",
        type=int,
        default=0,
        help="aiortc: wait for the report of this many calls only (0: all)",
    )
    parser.add_argument(
        "--no-page-traffic",
        action="store_true",
        help="aiortc: no desk polls / quality reports (what the pages send dualrec during a call)",
    )
    parser.add_argument(
        "--arrival",
        type=float,
        default=0.0,
        help="aiortc: seconds between two calls' starts (0: all at once, a burst); the hold begins "
        "once the last call is up, so each later call's set-up is measured beside the earlier ones",
    )
    a = parser.parse_args()
    if a.quick:
        a.calls, a.hold = 1, 10.0
    if a.generator == "aiortc":
        return run_aiortc(
            max(1, a.calls),
            max(5.0, a.hold),
            a.procs,
            a.report_sample or None,
            not a.no_page_traffic,
            max(0.0, a.arrival),
        )
    return run(max(1, a.calls), max(5.0, a.hold))


if __name__ == "__main__":
    sys.exit(main())
