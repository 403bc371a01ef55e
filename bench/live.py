"""Live session analysis: per-frame latency, and how many sessions one node sustains at 2 frames/s.

Frames are 640×480 JPEGs (a face photo, the head turned a little from frame to frame) sent the way
the customer's page sends them; each is decoded (``decode_frame``) and analysed
(``LiveFrameAnalyzer.analyze``: face detection and landmarks, head pose, brightness, identity
against a reference embedding, alerts) with the real dlib engine. Two analyses are compared in the
same run, their frames interleaved (so both see the same machine load):

- **cheaper** (the defaults): a descriptor only for a new track, a jump, an appearance change or
  the re-verification every 6 s; the region around the face searched on a reduced copy;
- **full** (the analysis before it): a descriptor every 3 s (or on a jump), the region searched
  at the analysed resolution.

Prints, against a baseline measured in the same run (plain decoding of the same JPEGs):

- one session, frames back to back: latency p50/p95 (all frames; frames with and without a
  descriptor) and CPU per second of stream, for both analyses side by side;
- K sessions at 2 frames/s each for ``--seconds`` (staggered starts), one thread per session in
  one process (what one API worker does) and, with ``--processes N``, the sessions spread over N
  processes: the largest K whose frame latency (from the frame's due time to its result) has
  p95 < 500 ms with no backlog (the median latency of the run's last quarter is under 500 ms too).

Usage: ``.venv/bin/python bench/live.py [--seconds 20] [--processes N] [--max-sessions 64]``
(``--seconds 0``: the single-session comparison only)
(``--processes`` defaults to the usable cores: the dlib engine runs one call at a time per process,
so a node uses all its cores with one API worker process per core.)

``--mode pool`` measures the way ``dualrec serve`` runs the analysis now, through the monitor's
request interface (``services/sessions/live_pool.py``): K client threads in this process (what the
API process does: it only moves the frames) send JPEG frames at 2 frames/s, one at a time per
session as the page does, through ``ProcessPool`` (``--processes`` analysis worker processes) and,
as the baseline in the same run, through ``InlinePool`` (the analysis in this process's threads,
the way ``serve`` ran it before). Frames the pool dropped as stale count with their waiting time.
It also prints the CPU the sending process spent per frame. ``--mode all`` runs both parts.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from dualrec.media.models.dlib_faces import DlibFaceAnalyzer  # noqa: E402
from dualrec.pipeline.live import LiveFrameAnalyzer, LiveOptions, decode_frame  # noqa: E402

LIMIT_MS = 500.0
FPS = 2.0
ANALYSES = {
    "cheaper": LiveOptions(),
    "full": LiveOptions(embed_interval_s=3.0, embed_on_change=0.0, roi_min_face=None),
}


def make_frames() -> tuple[list[bytes], np.ndarray]:
    """10 JPEG frames (head turning ±8°) and the customer's reference embedding (another photo)."""
    from tests.live_frames import framed, jpeg, photo, turn_head

    faces = DlibFaceAnalyzer()
    img = photo("obama.jpg")
    frame = framed(img, faces.detect(img)[0])
    face = faces.detect(frame)[0]
    angles = (0, 4, 8, 4, 0, -4, -8, -4, 0, 2)
    frames = [jpeg(turn_head(frame, face, "y" if i % 2 else "x", a)) for i, a in enumerate(angles)]
    ref_img = photo("obama1.jpg")
    reference = faces.embed(ref_img, faces.detect(ref_img)[0])
    return frames, reference


def swap_frames() -> tuple[list[bytes], list[bytes]]:
    """The customer (obama.jpg) for 13.5 s, then another person (biden.jpg) cut so that his face
    sits where the customer's was, both turning a little: 27 + 8 JPEG frames at 2 frames/s."""
    from tests.live_frames import framed, jpeg, photo, turn_head

    faces = DlibFaceAnalyzer()
    out = []
    for name, n in (("obama.jpg", 27), ("biden.jpg", 8)):
        img = photo(name)
        frame = framed(img, faces.detect(img)[0])
        face = faces.detect(frame)[0]
        angles = (0, 4, 8, 4, 0, -4, -8, -4)
        out.append([jpeg(turn_head(frame, face, "y" if i % 2 else "x", angles[i % 8])) for i in range(n)])
    return out[0], out[1]


def swap_delay(
    customer: list[bytes], other: list[bytes], reference: np.ndarray
) -> dict[str, tuple[float | None, int]]:
    """Per analysis: seconds from the swap to the ``not_customer`` alert (None: never), and the
    descriptors computed over the whole sequence."""
    from dualrec.core.live_alerts import AlertCode

    out: dict[str, tuple[float | None, int]] = {}
    swap_at = len(customer) / FPS
    for name, options in ANALYSES.items():
        an = LiveFrameAnalyzer(DlibFaceAnalyzer(), options)
        an.set_reference(reference)
        raised, fresh = None, 0
        for i, data in enumerate(customer + other):
            obs = an.analyze(decode_frame(data), i / FPS)
            fresh += obs.identity_fresh
            if raised is None and any(
                e.code == AlertCode.NOT_CUSTOMER and e.kind == "raised" for e in obs.events
            ):
                raised = i / FPS - swap_at
        out[name] = (raised, fresh)
    return out


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def decode_baseline(frames: list[bytes], rounds: int = 20) -> float:
    """Median ms to decode one frame."""
    times = []
    for _ in range(rounds):
        for data in frames:
            started = time.perf_counter()
            decode_frame(data)
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def single_session(
    frames: list[bytes], reference: np.ndarray, n: int = 120
) -> dict[str, dict[str, list[float]]]:
    """Per analysis, for one session at 2 frames/s of stream time processed back to back (the
    analyses' frames alternate): wall ms and CPU ms (this thread's) per frame, split into frames
    with a descriptor ("with", "cpu_with") and without ("without", "cpu_without")."""
    faces = DlibFaceAnalyzer()
    analyzers = {}
    for name, options in ANALYSES.items():
        analyzers[name] = LiveFrameAnalyzer(faces, options)
        analyzers[name].set_reference(reference)
    keys = ("with", "without", "cpu_with", "cpu_without")
    out: dict[str, dict[str, list[float]]] = {name: {k: [] for k in keys} for name in ANALYSES}
    for i in range(n):
        image = frames[i % len(frames)]
        for name, an in analyzers.items():
            cpu0, started = time.thread_time(), time.perf_counter()
            obs = an.analyze(decode_frame(image), i / FPS)
            ms = (time.perf_counter() - started) * 1000
            cpu = (time.thread_time() - cpu0) * 1000
            kind = "with" if obs.identity_fresh else "without"
            out[name][kind].append(ms)
            out[name]["cpu_" + kind].append(cpu)
    return out


def run_sessions(
    k: int,
    seconds: float,
    reference: np.ndarray,
    frames: list[bytes],
    ready: Any = None,
    analysis: str = "cheaper",
) -> list[list[float]]:
    """K sessions in threads of this process, each sending a frame every 0.5 s (staggered over the
    first 0.5 s); per session the latencies (ms) from each frame's due time to its result. With
    ``ready`` (a barrier), the clocks start when every process has loaded its models."""
    faces = DlibFaceAnalyzer()
    faces.load()
    if ready is not None:
        ready.wait()
    start_at = time.time() + 0.2
    results: list[list[float]] = [[] for _ in range(k)]

    def session(idx: int) -> None:
        an = LiveFrameAnalyzer(faces, ANALYSES[analysis])
        an.set_reference(reference)
        offset = (idx / max(1, k)) / FPS
        for i in range(int(seconds * FPS)):
            due = start_at + offset + i / FPS
            wait = due - time.time()
            if wait > 0:
                time.sleep(wait)
            an.analyze(decode_frame(frames[(i + idx) % len(frames)]), i / FPS)
            results[idx].append((time.time() - due) * 1000)

    threads = [threading.Thread(target=session, args=(i,)) for i in range(k)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _worker(out: Any, *args: Any) -> None:
    out.put(run_sessions(*args))


def trial(
    k: int, seconds: float, processes: int, reference: np.ndarray, frames: list[bytes], analysis: str
) -> tuple[bool, str]:
    if processes <= 1:
        per_session = run_sessions(k, seconds, reference, frames, None, analysis)
    else:
        shares = [
            n for n in (k // processes + (1 if i < k % processes else 0) for i in range(processes)) if n
        ]
        ctx = multiprocessing.get_context("spawn")
        ready, out = ctx.Barrier(len(shares)), ctx.Queue()
        procs = [
            ctx.Process(target=_worker, args=(out, n, seconds, reference, frames, ready, analysis))
            for n in shares
        ]
        for p in procs:
            p.start()
        per_session = [s for _ in procs for s in out.get()]
        for p in procs:
            p.join()
    latencies = [ms for s in per_session for ms in s]
    tail = [ms for s in per_session for ms in s[len(s) * 3 // 4 :]]
    p50, p95, tail50 = pct(latencies, 50), pct(latencies, 95), pct(tail, 50)
    ok = p95 < LIMIT_MS and tail50 < LIMIT_MS  # a backlog grows: the last quarter's median shows it
    line = f"p50 {p50:6.0f} ms  p95 {p95:6.0f} ms  last-quarter p50 {tail50:6.0f} ms"
    return ok, line


def capacity(
    seconds: float, processes: int, max_k: int, reference: np.ndarray, frames: list[bytes], analysis: str
) -> int:
    """Largest K that passes: doubling, then bisection between the last pass and the first fail."""
    label = ("1 process, threads" if processes <= 1 else f"{processes} processes") + f", {analysis}"
    good, bad = 0, None
    k = 1
    while k <= max_k:
        ok, line = trial(k, seconds, processes, reference, frames, analysis)
        print(f"  [{label}] K={k:3d}: {line}  {'ok' if ok else 'FAIL'}", flush=True)
        if not ok:
            bad = k
            break
        good, k = k, k * 2
    if bad is None:
        return good
    while bad - good > 1:
        k = (good + bad) // 2
        ok, line = trial(k, seconds, processes, reference, frames, analysis)
        print(f"  [{label}] K={k:3d}: {line}  {'ok' if ok else 'FAIL'}", flush=True)
        good, bad = (k, bad) if ok else (good, k)
    return good


# ---- through the analysis pool (what serve runs) -------------------------------------------------


def pool_trial(pool: Any, k: int, seconds: float, frames: list[bytes], ref_jpeg: bytes) -> dict[str, Any]:
    """K sessions through ``pool`` (the monitor's request interface), while a ticker thread of this
    process measures how long it is kept from running (what an event loop in the API process would
    suffer): latencies, drops, the ticker's longest gap and this process's CPU per frame."""
    start_at = time.time() + 0.3
    results: list[list[float]] = [[] for _ in range(k)]
    dropped = [0] * k
    tag = f"{time.time_ns()}"
    snap = {"cid": "bench", "rev": 0, "state": "passed"}  # a verified customer: identity checked every 3 s
    stop = threading.Event()
    gaps: list[float] = []

    def ticker() -> None:
        last = time.perf_counter()
        while not stop.is_set():
            time.sleep(0.001)
            now = time.perf_counter()
            gaps.append((now - last) * 1000)
            last = now

    def session(idx: int) -> None:
        sid = f"bench-{tag}-{idx}"
        offset = (idx / max(1, k)) / FPS
        for i in range(int(seconds * FPS)):
            due = start_at + offset + i / FPS
            wait = due - time.time()
            if wait > 0:
                time.sleep(wait)
            payload = {"data": frames[(i + idx) % len(frames)], "t": i / FPS, "challenge": snap,
                       "reference_key": "ref"}  # fmt: skip
            reply = pool.run(sid, "frame", payload)
            if reply.get("need_reference"):
                reply = pool.run(sid, "frame", {**payload, "reference": ref_jpeg})
            if "skipped" in reply:
                dropped[idx] += 1
            elif "observation" not in reply:
                raise RuntimeError(f"analysis failed: {reply}")
            results[idx].append((time.time() - due) * 1000)

    tick = threading.Thread(target=ticker)
    tick.start()
    cpu0 = time.process_time()
    threads = [threading.Thread(target=session, args=(i,)) for i in range(k)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    cpu_ms = (time.process_time() - cpu0) * 1000
    stop.set()
    tick.join()
    latencies = [ms for r in results for ms in r]
    tail = [ms for r in results for ms in r[len(r) * 3 // 4 :]]
    p50, p95, tail50 = pct(latencies, 50), pct(latencies, 95), pct(tail, 50)
    lost = sum(dropped)
    return {
        "ok": p95 < LIMIT_MS and tail50 < LIMIT_MS and lost <= 0.01 * len(latencies),
        "p50": p50,
        "p95": p95,
        "tail50": tail50,
        "dropped": lost,
        "frames": len(latencies),
        "cpu_per_frame": cpu_ms / max(1, len(latencies)),
        "gap_p99": pct(gaps, 99),
        "gap_max": max(gaps),
    }


def _line(label: str, k: int, r: dict[str, Any]) -> str:
    verdict = "ok" if r["ok"] else "FAIL"
    return (
        f"  [{label:<22}] K={k:3d}: p50 {r['p50']:6.0f} ms  p95 {r['p95']:6.0f} ms  "
        f"last-quarter p50 {r['tail50']:6.0f} ms  dropped {r['dropped']:3d}/{r['frames']}  "
        f"sender CPU {r['cpu_per_frame']:5.1f} ms/frame  "
        f"sender stall p99/max {r['gap_p99']:5.0f}/{r['gap_max']:5.0f} ms  {verdict}"
    )


def pool_mode(seconds: float, processes: int, ladder: list[int], frames: list[bytes]) -> None:
    """The same K through the pool and in-process, one after the other for each K (so that the
    machine's changing load hits both alike)."""
    import functools

    from tests.live_frames import jpeg, photo

    from dualrec.bootstrap.sessions import face_engine
    from dualrec.services.sessions.live_pool import InlinePool, ProcessPool

    ref = jpeg(photo("obama1.jpg"))
    factory = functools.partial(face_engine, "cpu")
    print(f"sessions at {FPS:g} frames/s for {seconds:g} s through the monitor's request interface "
          f"(ok: p95 < {LIMIT_MS:g} ms, last-quarter p50 < {LIMIT_MS:g} ms, ≤ 1 % dropped):")  # fmt: skip
    inline = InlinePool(factory)
    inline.core.engine().load()  # type: ignore[attr-defined]
    pool = ProcessPool(factory, processes, max_wait_s=1.0)
    best = {"in": 0, "pool": 0}
    try:
        for i in range(processes):  # start every worker and load its models before the clock runs
            sid = next(f"warm-{j}" for j in range(1000) if pool.worker_for(f"warm-{j}") == i)
            pool.run(sid, "frame", {"data": frames[0], "t": 0.0, "challenge": None, "reference_key": None})
        for k in ladder:
            r_in = pool_trial(inline, k, seconds, frames, ref)
            print(_line("in the API process", k, r_in), flush=True)
            r_pool = pool_trial(pool, k, seconds, frames, ref)
            print(_line(f"pool, {processes} workers", k, r_pool), flush=True)
            best["in"] = k if r_in["ok"] else best["in"]
            best["pool"] = k if r_pool["ok"] else best["pool"]
        print(f"largest K that held, in the API process : {best['in']}")
        print(f"largest K that held, pool of {processes} workers : {best['pool']}")
        stats = pool.stats()
        print(f"pool counters: dropped {stats['dropped']}, restarts {stats['restarts']}")
    finally:
        pool.stop()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=20.0)
    cores = len(os.sched_getaffinity(0))
    ap.add_argument("--processes", type=int, default=cores, help="also spread sessions over N processes")
    ap.add_argument("--max-sessions", type=int, default=64)
    ap.add_argument("--mode", choices=("analysis", "pool", "all"), default="analysis")
    ap.add_argument("--ladder", default="1,2,4,8", help="pool mode: the K values tried")
    args = ap.parse_args()
    from tests import live_frames

    if not (live_frames.DATA / "faces" / "obama.jpg").is_file():
        print(f"skipped: shared test media not found at {live_frames.DATA}")
        return 0
    load = os.getloadavg()
    print(f"machine: {cores} usable cores, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}")
    started = time.perf_counter()
    DlibFaceAnalyzer().load()
    print(f"models loaded (once)          : {time.perf_counter() - started:6.1f} s (not in the times below)")
    frames, reference = make_frames()
    if args.mode == "pool":
        pool_mode(args.seconds, args.processes, [int(k) for k in args.ladder.split(",")], frames)
        return 0
    size = statistics.median(len(f) for f in frames) / 1024
    base = decode_baseline(frames)
    print(f"baseline: JPEG decode 640x480 : {base:6.1f} ms per frame (median; {size:.0f} KiB JPEGs)")
    results = single_session(frames, reference)
    n_frames = len(results["cheaper"]["with"]) + len(results["cheaper"]["without"])
    stream_s = n_frames / FPS
    print(f"decode + analyse, 1 session, {n_frames} frames at 2 frames/s of stream "
          "(ms per frame; wall ratio to decode):")  # fmt: skip
    print(f"  {'':34s} {'cheaper (default)':>26s}   {'full (before)':>26s}")
    rows = (
        ("wall, all frames p50 / p95", ("with", "without"), True),
        ("wall, without a descriptor", ("without",), True),
        ("wall, with a descriptor", ("with",), True),
        ("CPU, without a descriptor", ("cpu_without",), False),
        ("CPU, with a descriptor", ("cpu_with",), False),
    )
    for label, keys, ratio in rows:
        cells = []
        for name in ANALYSES:
            vals = [v for k in keys for v in results[name][k]]
            if not vals:
                cells.append(f"{'-':>26s}")
                continue
            cell = f"{pct(vals, 50):6.1f} / {pct(vals, 95):6.1f} ms"
            cells.append(cell + (f" ({pct(vals, 95) / base:4.1f}x)" if ratio else " " * 8))
        print(f"  {label:34s} {cells[0]:>26s}   {cells[1]:>26s}")
    counts = [f"{len(results[n]['with']):3d} of {n_frames}" + " " * 8 for n in ANALYSES]
    print(f"  {'frames with a descriptor':34s} {counts[0]:>26s}   {counts[1]:>26s}")
    cpu = {n: (sum(results[n]["cpu_with"]) + sum(results[n]["cpu_without"])) / stream_s for n in ANALYSES}
    cells = [f"{cpu[n]:6.1f} ms" + " " * 8 for n in ANALYSES]
    print(f"  {'CPU per session-second':34s} {cells[0]:>26s}   {cells[1]:>26s}")
    print(f"  cheaper uses {cpu['cheaper'] / max(1e-9, cpu['full']):.2f}x the CPU of full per session-second "
          f"(at most ~{1000 / cpu['cheaper']:.0f} sessions per core that is all ours)")  # fmt: skip
    customer, other = swap_frames()
    delays = swap_delay(customer, other, reference)
    cells = [
        ("never" if d is None else f"after {d:.1f} s") + f", {n} descriptors" for d, n in delays.values()
    ]
    print(f"accuracy kept: someone else takes the customer's place at {len(customer) / FPS:g} s "
          f"({len(customer) + len(other)} frames; prompted after the 1 s debounce at best):")  # fmt: skip
    print(f"  {'stranger prompted':34s} {cells[0]:>26s}   {cells[1]:>26s}")
    if args.seconds <= 0:
        return 0
    print(f"sessions at {FPS:g} frames/s for {args.seconds:g} s (limit: p95 < {LIMIT_MS:g} ms, no backlog):")
    for analysis in ("cheaper", "full"):
        k1 = capacity(args.seconds, 1, args.max_sessions, reference, frames, analysis)
        print(f"sustained sessions, 1 process, {analysis}: {k1}", flush=True)
    if args.processes > 1:
        kn = capacity(args.seconds, args.processes, args.max_sessions, reference, frames, "cheaper")
        print(f"sustained sessions, {args.processes} processes, cheaper: {kn}")
    if args.mode == "all":
        pool_mode(args.seconds, args.processes, [int(k) for k in args.ladder.split(",")], frames)
    return 0


if __name__ == "__main__":
    sys.exit(main())
