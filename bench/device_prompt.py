"""On-device prompt latency (issue 16): from an event in the camera picture (the customer leaves,
a second face enters) to the prompt on the customer's page, in Debian's headless Chromium (no GPU:
the face model runs on TF.js's WebAssembly kernels) with a fake camera, against a real
`dualrec serve`.

It runs the two latency tests of tests/e2e/test_self_service_device.py (each event is one loop of
the fake camera: the customer 3 s, then the empty room / two people 3 s; the change is timed by a
colour mark in the picture that the page samples every 20 ms, so times are ±20 ms) and prints, per
scenario and over all events, p50/p95 of:

- page: change → the prompt on the page ([data-test=monitor-alert]), whoever raised it first;
- device: change → the page's own prompt (raised by the device; events where the server's came
  first and the device never joined in are left out and counted);
- server (baseline, same run, same page): change → the first server observation naming the alert.

Needs the front end built (`make web`) and /usr/bin/chromium. Usage:
``.venv/bin/python bench/device_prompt.py [--events 8]``. Also prints the machine's load average:
on a busy shared machine every number grows.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULT = ROOT / "test-artifacts" / "e2e" / "device_prompt_latency.json"


def pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def line(name: str, xs: list[float]) -> str:
    if not xs:
        return f"  {name:<8} no events"
    return (
        f"  {name:<8} n={len(xs):<3} p50 {statistics.median(xs):6.0f} ms   p95 {pct(xs, 0.95):6.0f} ms"
        f"   min {min(xs):5.0f}   max {max(xs):5.0f}"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=8, help="events measured per scenario")
    args = ap.parse_args()
    RESULT.unlink(missing_ok=True)
    env = {**os.environ, "DUALREC_DEVICE_EVENTS": str(args.events), "PYTHONPATH": str(ROOT / "src")}
    load_before = os.getloadavg()
    started = time.perf_counter()
    rc = subprocess.call(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/e2e/test_self_service_device.py",
            "-k",
            "latency_measured",
            "-o",
            "timeout=900",
        ],
        cwd=ROOT,
        env=env,
    )
    load_after = os.getloadavg()
    if not RESULT.is_file():
        print("no measurements written (the e2e tests failed before measuring)")
        return 1
    data = json.loads(RESULT.read_text())
    print(
        f"\non-device prompt latency, headless Chromium, {time.strftime('%Y-%m-%d')}, "
        f"{time.perf_counter() - started:.0f} s; load average {load_before[0]:.1f} → {load_after[0]:.1f} "
        f"on {os.cpu_count()} cores"
    )
    all_page: list[float] = []
    all_device: list[float] = []
    all_server: list[float] = []
    for name, run in data.items():
        page = [e.get("page", e.get("device", 0.0)) for e in run["events"]]
        device = [e["device"] for e in run["events"] if "device" in e]
        all_page += page
        server = [e["server"] for e in run["events"] if "server" in e]
        all_device += device
        all_server += server
        print(f"{name} (backend {run['backend']}; analyses so far/mean ms of one: {run.get('stats')}):")
        print(line("page", page))
        print(line("device", device) + f"   (missed by the device: {len(page) - len(device)})")
        print(line("server", server))
    print("all events:")
    print(line("page", all_page))
    print(line("device", all_device))
    print(line("server", all_server))
    if all_device and all_server:
        print(
            f"  device p50 ÷ server p50: {statistics.median(all_device) / statistics.median(all_server):.2f}"
        )
    return rc


if __name__ == "__main__":
    sys.exit(main())
