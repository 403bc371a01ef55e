"""Full-stack load bench of live self-service sessions: K simulated customers against a real
``dualrec serve``.

Setup (like the e2e tests): a temp data dir, ``dualrec db upgrade`` + ``seed``, ``dualrec serve`` on
a free loopback port; a short self-service flow published and routed through the admin API, a
business system's API key, and per step K tasks created through the signed task API, each opened
and consented by its customer (``GET``/``POST /api/v1/session/<token>[/consent]``).

Each customer does what the H5 page does (frontend/src/features/session/frames.ts, recorder.ts):

- a WebSocket to ``/api/v1/session/<token>/live`` sending real 640×480 JPEG frames (quality 0.75,
  built from the test photos: the face turning a little), one at a time: a frame is due every
  0.5 s (the page's 2 frames/s), is sent when due or, if the answer to the previous one is late,
  as soon as that answer arrives (the page never has two frames in flight); frames still due
  when the step ends were never sent: that count is the session's backlog;
- a recording chunk every 2 s (the page's MediaRecorder timeslice): ``PUT
  /api/v1/session/<token>/chunks/0/<seq>`` with its SHA-256, cut from a real VP8/Opus WebM encoded
  at the bitrate of Chrome's MediaRecorder (~1 Mbit/s here).

The customers run in a separate process (asyncio: one WebSocket and one upload loop each), which
reports its own CPU (``getrusage``) apart; the server's CPU is read from /proc for ``serve`` and
every process under it (a worker pool included). A probe in this process times API requests
(``GET`` the task as the console does, ``GET`` a session as a page does) 4 times a second.

Per step it prints: frame latency from its due time to its answer (p50/p95), the backlog (frames
due but not answered at the end, worst session; a backlog: more than the one in flight, or the
last quarter's median over the limit), failed chunk uploads, API p95, server and generator CPU;
the largest K that holds (frame p95 ≤ 500 ms, no backlog, no failed upload, API p95 ≤ 200 ms).
The ramp stops at the first step that fails.

The sessions carry no reference face (the flow has no identity step: passing a liveness challenge
needs a blink, which still photos cannot make), so the server computes no face descriptors here;
``bench/live.py`` measures the descriptor's cost.

Usage: ``.venv/bin/python bench/live_stack.py [--steps 2,4,8,12,16,20,24,32] [--seconds 20]
[--quick] [--json out.json]``; ``--quick``: one customer for 4 s (a smoke run).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import math
import os
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FRAME_LIMIT_MS = 500.0
API_LIMIT_MS = 200.0
FRAME_PERIOD_S = 0.5  # the page: ≥ 2 frames/s
CHUNK_PERIOD_S = 2.0  # the page's MediaRecorder timeslice
CHUNK_BITRATE = "1M"
ADMIN_PASSWORD = "Bench-Admin-pass-1"
HEADERS = {"X-Requested-With": "dualrec"}
BUSINESS = "wealth"
FLOW: dict[str, Any] = {
    "mode": "self_service",
    "nodes": [
        {
            "id": "risk",
            "type": "risk_disclosure",
            "title": "风险告知",
            "script": "本产品不保本，投资需谨慎。",
        },
        {
            "id": "q1",
            "type": "qa",
            "title": "自愿确认",
            "script": "您是否本人自愿购买？",
            "expected_answers": ["是", "否"],
            "branches": {"否": "@handover"},
        },
        {"id": "end", "type": "end", "title": "结束", "script": "录制完成，感谢您的配合。"},
    ],
}


def pct(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


# ------------------------------------------------------------------------------ the load generator


async def _customer(
    base: str, token: str, frames: list[bytes], chunks: list[bytes], start_at: float, seconds: float
) -> dict[str, Any]:
    import httpx
    from websockets.asyncio.client import connect

    end_at = start_at + seconds
    latencies: list[float] = []
    errors: list[str] = []
    answered = 0
    chunk_ms: list[float] = []
    chunk_failed: list[str] = []
    ws_url = base.replace("http://", "ws://", 1) + f"/api/v1/session/{token}/live"
    frames_b64 = [base64.b64encode(f).decode() for f in frames]

    async def stream() -> None:
        nonlocal answered
        async with connect(ws_url, max_size=4 * 1024 * 1024, open_timeout=30) as ws:
            i = 0
            while True:
                due = start_at + i * FRAME_PERIOD_S
                if due >= end_at or time.time() >= end_at:  # frames still due now: the backlog
                    return
                wait = due - time.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                msg = {
                    "type": "frame",
                    "t": round(due - start_at, 3),
                    "image": frames_b64[i % len(frames_b64)],
                }
                await ws.send(json.dumps(msg))
                try:
                    reply = json.loads(
                        await asyncio.wait_for(ws.recv(), timeout=max(1.0, end_at + 30 - time.time()))
                    )
                except TimeoutError:
                    errors.append("no answer")
                    return
                latencies.append((time.time() - due) * 1000)
                answered += 1
                if reply.get("type") != "observation":
                    errors.append(str(reply.get("code") or reply.get("type")))
                i += 1

    async def upload(client: httpx.AsyncClient) -> None:
        seq = 0
        while True:
            due = start_at + (seq + 1) * CHUNK_PERIOD_S  # a timeslice is uploaded when it ends
            if due > end_at:
                return
            wait = due - time.time()
            if wait > 0:
                await asyncio.sleep(wait)
            data = chunks[seq % len(chunks)]
            digest = hashlib.sha256(data).hexdigest()
            started = time.time()
            try:
                r = await client.put(
                    f"/api/v1/session/{token}/chunks/0/{seq}",
                    content=data,
                    headers={**HEADERS, "X-Chunk-SHA256": digest, "Content-Type": "application/octet-stream"},
                )
                if r.status_code != 200:
                    chunk_failed.append(f"HTTP {r.status_code}")
            except httpx.HTTPError as exc:
                chunk_failed.append(type(exc).__name__)
            chunk_ms.append((time.time() - started) * 1000)
            seq += 1

    async with httpx.AsyncClient(base_url=base, timeout=30.0) as client:
        results = await asyncio.gather(stream(), upload(client), return_exceptions=True)
    for r in results:
        if isinstance(r, BaseException):
            errors.append(f"{type(r).__name__}: {r}")
    due_count = math.ceil(seconds / FRAME_PERIOD_S - 1e-9)
    return {
        "latencies_ms": latencies,
        "frames_due": due_count,
        "frames_answered": answered,
        "errors": errors,
        "chunk_ms": chunk_ms,
        "chunk_failed": chunk_failed,
    }


def generator_main(config_path: str) -> int:
    """The customers of one step (run as its own process); prints a JSON result."""
    cfg = json.loads(Path(config_path).read_text())
    frames = [base64.b64decode(f) for f in cfg["frames"]]
    chunks = [base64.b64decode(c) for c in cfg["chunks"]]
    tokens: list[str] = cfg["tokens"]
    seconds = float(cfg["seconds"])
    wall0 = time.perf_counter()

    async def run() -> list[dict[str, Any]]:
        start = time.time() + 0.5
        k = len(tokens)
        return await asyncio.gather(
            *(
                _customer(
                    cfg["base"],
                    tok,
                    frames[i % len(frames) :] + frames[: i % len(frames)],
                    chunks,
                    start + (i / max(1, k)) * FRAME_PERIOD_S,  # staggered over the first period
                    seconds,
                )
                for i, tok in enumerate(tokens)
            )
        )

    sessions = asyncio.run(run())
    ru = resource.getrusage(resource.RUSAGE_SELF)
    out = {
        "sessions": sessions,
        "generator_cpu_s": ru.ru_utime + ru.ru_stime,
        "generator_wall_s": time.perf_counter() - wall0,
    }
    sys.stdout.write(json.dumps(out))
    return 0


# ------------------------------------------------------------------------------------ the server


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _dualrec() -> list[str]:
    exe = ROOT / ".venv" / "bin" / "dualrec"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("dualrec")
    if found:
        return [found]
    return [sys.executable, "-m", "dualrec"]


@contextmanager
def running_server(
    data_dir: Path, serve_args: Sequence[str]
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    import httpx

    env = {
        **os.environ,
        "DUALREC_DATA_DIR": str(data_dir),
        "DUALREC_ENV": "test",
        "DUALREC_ADMIN_PASSWORD": ADMIN_PASSWORD,
        # this checkout's code first (the venv may point at another one)
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT / "src"), os.environ.get("PYTHONPATH", "")) if p),
    }
    for command in (["db", "upgrade"], ["seed"]):
        subprocess.run([*_dualrec(), *command], env=env, check=True, capture_output=True, timeout=300)
    port = _free_port()
    log = data_dir / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*_dualrec(), "serve", "--host", "127.0.0.1", "--port", str(port), *serve_args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"dualrec serve exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=2.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"dualrec serve not healthy after 120 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield base, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)


def _process_tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by ``pid`` and every live process under it, plus
    what its waited-for children used."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        parents[int(entry.name)] = int(fields[1])
        stats[int(entry.name)] = fields
    tree, todo = set(), [pid]
    while todo:
        p = todo.pop()
        if p in tree or p not in stats:
            continue
        tree.add(p)
        todo.extend(c for c, parent in parents.items() if parent == p)
    total = 0
    for p in tree:
        f = stats[p]
        total += int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])  # utime stime cutime cstime
    return total / tick


# ------------------------------------------------------------------------------------------ setup


class Api:
    def __init__(self, base: str) -> None:
        import httpx

        self.base = base
        self.admin = httpx.Client(base_url=base, headers=HEADERS, timeout=30.0)
        r = self.admin.post("/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
        r.raise_for_status()
        r = self.admin.post(
            "/api/v1/flows",
            json={"code": "bench-live", "name": "压测流程", "business_type": BUSINESS, "definition": FLOW},
        )
        r.raise_for_status()
        self.admin.post("/api/v1/flows/bench-live/publish", json={}).raise_for_status()
        rule = {"name": "压测", "priority": 1, "flow_code": "bench-live", "business_types": [BUSINESS]}
        self.admin.put("/api/v1/routing-rules", json={"rules": [rule]}).raise_for_status()
        branch = self.admin.get("/api/v1/branches").json()[0]["id"]
        r = self.admin.post(
            "/api/v1/api-keys", json={"name": "压测系统", "branch_id": branch, "business_types": [BUSINESS]}
        )
        r.raise_for_status()
        self.key = r.json()
        self.n = 0

    def _signed(self, method: str, path: str, body: Any) -> Any:
        import httpx

        from dualrec.core.auth_rules import sign_request

        raw = json.dumps(body).encode()
        ts, nonce = str(int(time.time())), secrets.token_hex(8)
        headers = {
            "X-Dualrec-Key": self.key["key_id"],
            "X-Dualrec-Timestamp": ts,
            "X-Dualrec-Nonce": nonce,
            "X-Dualrec-Signature": sign_request(self.key["secret"], method, path, "", ts, nonce, raw),
            "Content-Type": "application/json",
        }
        r = httpx.request(method, self.base + path, content=raw, headers=headers, timeout=30.0)
        r.raise_for_status()
        return r.json()

    def customer(self) -> tuple[str, str]:
        """A new task, opened and consented by its customer: (task id, link token)."""
        self.n += 1
        task = self._signed(
            "POST",
            "/api/v1/tasks",
            {
                "customer_id": f"BENCH-{self.n}",
                "customer_name": "王小明",
                "id_number": "11010519491231002X",
                "customer_type": "personal",
                "risk_level": "R2",
                "business_type": BUSINESS,
                "business_no": f"BENCH-{self.n}-{secrets.token_hex(4)}",
                "product": "压测理财",
                "amount": "10000.00",
                "documents": [],
            },
        )
        token = str(task["entry_url"]).rsplit("/h5/", 1)[1]
        self.admin.get(f"/api/v1/session/{token}").raise_for_status()
        self.admin.post(f"/api/v1/session/{token}/consent", json={"agree": True, "t": 0.1}).raise_for_status()
        return str(task["id"]), token


class Probe:
    """Times ``GET /api/v1/tasks/<id>`` (console) and ``GET /api/v1/session/<token>`` (page) in
    turn, 4 times a second, while a step runs."""

    def __init__(self, api: Api, task_id: str, token: str) -> None:
        self.api, self.task_id, self.token = api, task_id, token
        self.ms: list[float] = []
        self.failed = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import httpx

        n = 0
        while not self._stop.wait(0.25):
            path = f"/api/v1/tasks/{self.task_id}" if n % 2 == 0 else f"/api/v1/session/{self.token}"
            n += 1
            started = time.perf_counter()
            try:
                ok = self.api.admin.get(path).status_code == 200
            except httpx.HTTPError:
                ok = False
            self.ms.append((time.perf_counter() - started) * 1000)
            self.failed += not ok

    def __enter__(self) -> Probe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# ----------------------------------------------------------------------------------------- media


def make_frames() -> list[bytes]:
    """10 camera frames (640×480 JPEG, quality 75 like the page's canvas): the face turning ±8°."""
    from tests.live_frames import framed, jpeg, photo, turn_head

    from dualrec.media.models.dlib_faces import DlibFaceAnalyzer

    faces = DlibFaceAnalyzer()
    img = photo("obama.jpg")
    frame = framed(img, faces.detect(img)[0])
    face = faces.detect(frame)[0]
    angles = (0, 4, 8, 4, 0, -4, -8, -4, 0, 2)
    return [jpeg(turn_head(frame, face, "y" if i % 2 else "x", a), quality=75) for i, a in enumerate(angles)]


def make_chunks(frames: list[bytes], workdir: Path, seconds: int = 12) -> list[bytes]:
    """A real WebM (VP8 640×480 at ~1 Mbit/s + Opus) of the frames, cut into 2-s slices by size
    (MediaRecorder's slices are cut in the stream the same way)."""
    for i, f in enumerate(frames):
        (workdir / f"f{i:02d}.jpg").write_bytes(f)
    out = workdir / "rec.webm"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-framerate", "5", "-stream_loop", "-1",
         "-i", str(workdir / "f%02d.jpg"),
         "-f", "lavfi", "-i", "sine=f=440:sample_rate=48000", "-t", str(seconds), "-r", "15",
         "-c:v", "libvpx", "-b:v", CHUNK_BITRATE, "-minrate", CHUNK_BITRATE, "-maxrate", CHUNK_BITRATE,
         "-c:a", "libopus", str(out)],
        check=True, timeout=300, capture_output=True,
    )  # fmt: skip
    data = out.read_bytes()
    n = seconds // int(CHUNK_PERIOD_S)
    step = -(-len(data) // n)
    return [data[i : i + step] for i in range(0, len(data), step)]


# ------------------------------------------------------------------------------------------ steps


def run_step(
    api: Api, server: subprocess.Popen[bytes], k: int, seconds: float,
    frames: list[bytes], chunks: list[bytes],
    workdir: Path,
) -> dict[str, Any]:  # fmt: skip
    customers = [api.customer() for _ in range(k)]
    probe_task, probe_token = api.customer()
    cfg = {
        "base": api.base,
        "tokens": [tok for _, tok in customers],
        "seconds": seconds,
        "frames": [base64.b64encode(f).decode() for f in frames],
        "chunks": [base64.b64encode(c).decode() for c in chunks],
    }
    cfg_path = workdir / f"step-{k}.json"
    cfg_path.write_text(json.dumps(cfg))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT / "src"), os.environ.get("PYTHONPATH", "")) if p),
    }
    cpu0, wall0 = _process_tree_cpu(server.pid), time.perf_counter()
    with Probe(api, probe_task, probe_token) as probe:
        gen = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--generator", str(cfg_path)],
            capture_output=True, env=env, timeout=seconds + 300,
        )  # fmt: skip
    server_cpu = _process_tree_cpu(server.pid) - cpu0
    wall = time.perf_counter() - wall0
    if gen.returncode != 0:
        raise RuntimeError(f"load generator failed ({gen.returncode}):\n{gen.stderr.decode()[-3000:]}")
    out = json.loads(gen.stdout)
    sessions = out["sessions"]
    lat = [ms for s in sessions for ms in s["latencies_ms"]]
    tail = [ms for s in sessions for ms in s["latencies_ms"][len(s["latencies_ms"]) * 3 // 4 :]]
    backlog = max((s["frames_due"] - s["frames_answered"] for s in sessions), default=0)
    chunk_failed = sum(len(s["chunk_failed"]) for s in sessions)
    chunk_ms = [ms for s in sessions for ms in s["chunk_ms"]]
    errors = sorted({e for s in sessions for e in s["errors"]})
    p50, p95, tail50, api95 = pct(lat, 50), pct(lat, 95), pct(tail, 50), pct(probe.ms, 95)
    holds = (
        p95 is not None
        and p95 <= FRAME_LIMIT_MS
        and backlog <= 1
        and (tail50 or 0.0) <= FRAME_LIMIT_MS
        and chunk_failed == 0
        and not errors
        and api95 is not None
        and api95 <= API_LIMIT_MS
        and probe.failed == 0
    )
    return {
        "k": k,
        "seconds": seconds,
        "frames_answered": len(lat),
        "frame_p50_ms": p50,
        "frame_p95_ms": p95,
        "frame_last_quarter_p50_ms": tail50,
        "backlog_frames": backlog,
        "chunks_uploaded": len(chunk_ms) - chunk_failed,
        "chunks_failed": chunk_failed,
        "chunk_p95_ms": pct(chunk_ms, 95),
        "api_requests": len(probe.ms),
        "api_failed": probe.failed,
        "api_p50_ms": pct(probe.ms, 50),
        "api_p95_ms": api95,
        "server_cpu_cores": server_cpu / wall,
        "server_cpu_ms_per_session_s": server_cpu * 1000 / max(1e-9, k * seconds),
        "generator_cpu_cores": out["generator_cpu_s"] / max(1e-9, out["generator_wall_s"]),
        "generator_cpu_s": out["generator_cpu_s"],
        "errors": errors,
        "holds": holds,
    }


def _fmt(v: float | None, spec: str = "6.0f") -> str:
    return "     -" if v is None else format(v, spec)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--steps", default="2,4,8,12,16,20,24,32", help="K per step, comma-separated")
    ap.add_argument("--seconds", type=float, default=20.0, help="length of each step")
    ap.add_argument("--quick", action="store_true", help="smoke run: K=1 for 4 s")
    ap.add_argument("--json", type=Path, help="also write the results to this file")
    ap.add_argument("--serve-arg", action="append", default=[], help="extra argument for `dualrec serve`")
    ap.add_argument("--generator", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.generator:
        return generator_main(args.generator)
    from tests import live_frames

    if not (live_frames.DATA / "faces" / "obama.jpg").is_file():
        print(f"skipped: test media not found at {live_frames.DATA}")
        return 0
    if shutil.which("ffmpeg") is None:
        print("skipped: ffmpeg not found (needed to encode the recording chunks)")
        return 0
    steps = [1] if args.quick else [int(s) for s in args.steps.split(",") if s.strip()]
    seconds = 4.0 if args.quick else args.seconds
    cores = len(os.sched_getaffinity(0))
    load = os.getloadavg()
    print(f"machine: {cores} usable cores, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}")
    results: dict[str, Any] = {"cores": cores, "load_before": load, "steps": [], "max_k_holding": 0}
    with tempfile.TemporaryDirectory(prefix="dualrec-bench-") as tmp:
        work = Path(tmp)
        frames = make_frames()
        chunks = make_chunks(frames, work)
        print(
            f"frames: {len(frames)} JPEGs 640x480, median "
            f"{sorted(map(len, frames))[len(frames) // 2] / 1024:.0f} KiB; "
            f"chunks: {len(chunks)} x ~{len(chunks[0]) / 1024:.0f} KiB every {CHUNK_PERIOD_S:g} s"
        )
        data = work / "data"
        data.mkdir()
        with running_server(data, args.serve_arg) as (base, server):
            api = Api(base)
            started = time.perf_counter()
            warm = run_step(api, server, 1, 3.0, frames, chunks, work)  # models load on first use
            print(f"warm-up (1 customer, 3 s, not counted): {time.perf_counter() - started:.1f} s, "
                  f"frame p95 {_fmt(warm['frame_p95_ms'], '.0f')} ms")  # fmt: skip
            idle = _process_tree_cpu(server.pid)
            time.sleep(2.0)
            idle_cores = (_process_tree_cpu(server.pid) - idle) / 2.0
            print(f"server idle CPU: {idle_cores:.2f} cores; limits: frame p95 <= {FRAME_LIMIT_MS:g} ms, no "
                  f"backlog, no failed chunk, API p95 <= {API_LIMIT_MS:g} ms")  # fmt: skip
            print("    K | frame p50   p95  lastQ | backlog | chunks ok/fail  p95 | API p50   p95 | "
                  "server CPU (cores, ms/session-s) | generator CPU | verdict")  # fmt: skip
            for k in steps:
                r = run_step(api, server, k, seconds, frames, chunks, work)
                results["steps"].append(r)
                print(
                    f"  {k:3d} | {_fmt(r['frame_p50_ms'])} {_fmt(r['frame_p95_ms'])} "
                    f"{_fmt(r['frame_last_quarter_p50_ms'])} | {r['backlog_frames']:7d} | "
                    f"{r['chunks_uploaded']:6d}/{r['chunks_failed']:<4d} {_fmt(r['chunk_p95_ms'])} | "
                    f"{_fmt(r['api_p50_ms'])} {_fmt(r['api_p95_ms'])} | "
                    f"{r['server_cpu_cores']:5.2f} {r['server_cpu_ms_per_session_s']:6.1f}               | "
                    f"{r['generator_cpu_cores']:5.2f} cores   | {'ok' if r['holds'] else 'FAIL'}"
                    + (f"  errors: {', '.join(r['errors'])[:200]}" if r["errors"] else ""),
                    flush=True,
                )
                if not r["holds"]:
                    break
                results["max_k_holding"] = k
    print(f"largest K that holds: {results['max_k_holding']} (steps of {seconds:g} s; "
          "the generator's CPU is not the server's)")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
