"""Local QC agent vs upload-then-server-QC (SPEC §7 and §10: local QC "at least twice as fast").

For a generated 720p30 recording (default 5 minutes), the time until a QC report can be read:

(a) local agent: ``dualrec agent`` on this machine; 100001 over WebSocket, wait for the 100005
    push, read the report with 100003;
(b) central server: the recording uploaded to ``dualrec serve`` over a simulated branch link
    (default 2 Mbit/s: a throttling TCP proxy in this process), then the server's QC job, until
    ``/report/patent`` answers;

and the ratio (b) ÷ (a). Both run the same engines on this machine, one after the other, with the
models loaded before the clocks start (a warm-up QC of a 1 s clip in each process), like a device
agent and a server worker that have been running for a while.

The generated recording is a still photo over grey and compresses far below what a camera makes
(≈ 0.27 Mbit/s); ``--video-kbps 1500`` re-encodes it at a constant 1.5 Mbit/s (x264 CBR with filler),
the size of a typical 720p branch recording, to show the upload side with realistic bytes.

Usage: ``.venv/bin/python bench/agent.py [--seconds 300] [--link-kbps 2000] [--video-kbps 0]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import media_factory as mf  # noqa: E402
from tests.agent_support import (  # noqa: E402
    DUALREC,
    AgentProcess,
    TcpProxy,
    agent_env,
    free_port,
    media_cache,
    short_recording,
)

PASSWORD = "Bench-admin-pass-1"
CSRF = {"X-Requested-With": "dualrec"}


def start_server(data_dir: Path, threads: int) -> tuple[subprocess.Popen[bytes], str, dict[str, str]]:
    env = {
        **os.environ,
        "DUALREC_ENV": "test",
        "DUALREC_DATA_DIR": str(data_dir),
        "DUALREC_ADMIN_PASSWORD": PASSWORD,
        "DUALREC_JOB_WORKERS": "1",
        "DUALREC_CPU_THREADS": str(threads),
        "DUALREC_ASR_MODEL_DIR": str(media_cache() / "data" / "models" / "whisper-base"),
        "DUALREC_LOG_JSON": "false",
    }
    for command in (["db", "upgrade"], ["seed"]):
        subprocess.run([str(DUALREC), *command], env=env, check=True, capture_output=True, timeout=300)
    port = free_port()
    log = (data_dir / "serve.log").open("wb")
    proc = subprocess.Popen(
        [str(DUALREC), "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200:
                return proc, url, env
        except httpx.TransportError:
            time.sleep(0.3)
    raise RuntimeError("dualrec serve did not start")


def server_qc(base_url: str, video: Path) -> tuple[float, float]:
    """(seconds until the upload was accepted, seconds until the SPEC §5 report could be read)."""
    with httpx.Client(base_url=base_url, headers=CSRF, timeout=httpx.Timeout(60, read=3600)) as client:
        client.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD}).raise_for_status()
        started = time.perf_counter()
        with video.open("rb") as fh:
            r = client.post(
                "/api/v1/recordings",
                files={"file": (video.name, fh, "video/mp4")},
                data={"task": json.dumps({"running_no": f"BENCH-{video.stem}"})},
            )
        r.raise_for_status()
        uploaded = time.perf_counter() - started
        rec_id = r.json()["id"]
        while True:
            status = client.get(f"/api/v1/recordings/{rec_id}").json()["status"]
            if status == "done":
                break
            if status == "failed":
                raise RuntimeError(f"server QC failed: {client.get(f'/api/v1/recordings/{rec_id}').text}")
            time.sleep(0.25)
        client.get(f"/api/v1/recordings/{rec_id}/report/patent").raise_for_status()
        return uploaded, time.perf_counter() - started


def agent_qc(agent: AgentProcess, running_no: str, video: Path) -> tuple[float, dict[str, Any]]:
    import websockets

    async def run() -> tuple[float, dict[str, Any]]:
        async with websockets.connect(agent.ws, max_size=None) as ws:
            started = time.perf_counter()
            await ws.send(
                json.dumps({"interfaceID": "100001", "runningNo": running_no, "filePath": str(video)})
            )
            answer = json.loads(await ws.recv())
            if answer["result"] != "success":
                raise RuntimeError(answer)
            push = json.loads(await ws.recv())
            if push["result"] != "success":
                raise RuntimeError(push)
            await ws.send(json.dumps({"interfaceID": "100003", "runningNo": running_no}))
            report: dict[str, Any] = json.loads(await ws.recv())
            return time.perf_counter() - started, report

    return asyncio.run(run())


def constant_bitrate(video: Path, kbps: int) -> Path:
    """``video`` re-encoded at ``kbps`` (cached next to it)."""
    out = video.with_name(f"{video.stem}_{kbps}k.mp4")
    if not out.exists():
        part = out.with_name(".part-" + out.name)
        rate = ["-b:v", f"{kbps}k", "-minrate", f"{kbps}k", "-maxrate", f"{kbps}k", "-bufsize", f"{kbps}k"]
        encode = [
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            *rate,
            "-x264-params",
            "nal-hrd=cbr",
            "-c:a",
            "copy",
        ]
        subprocess.run(
            ["ffmpeg", "-nostdin", "-y", "-loglevel", "error", "-i", str(video), *encode, str(part)],
            check=True,
        )
        part.replace(out)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=300)
    ap.add_argument("--link-kbps", type=int, default=2000, help="branch uplink in kbit/s (default 2 Mbit/s)")
    ap.add_argument("--threads", type=int, default=0, help="DUALREC_CPU_THREADS of both sides")
    ap.add_argument(
        "--video-kbps", type=int, default=0, help="re-encode at this constant bit rate (0: as made)"
    )
    args = ap.parse_args()
    why = mf.available()
    if why is not None:
        print(f"skipped: {why}")
        return 0
    media = Path(tempfile.gettempdir()) / "dualrec-bench-media"
    t0 = time.perf_counter()
    video = mf.MediaFactory(media).bench(args.seconds)
    if args.video_kbps:
        video = constant_bitrate(video, args.video_kbps)
    size = video.stat().st_size
    print(
        f"recording: {video} ({args.seconds} s 1280x720 30 fps, {size / 1e6:.1f} MB = "
        f"{size * 8 / args.seconds / 1e6:.2f} Mbit/s; built or cached in {time.perf_counter() - t0:.1f} s)",
        flush=True,
    )
    rate = args.link_kbps * 1000 // 8
    with tempfile.TemporaryDirectory(prefix="dualrec-bench-agent-") as tmp:
        root = Path(tmp)
        warm = short_recording(media, "agent_warmup.mp4", seconds=1.0)
        env = agent_env(root / "agent", media, DUALREC_CPU_THREADS=str(args.threads))
        agent = AgentProcess(env, free_port(), root / "agent.log")
        (root / "server").mkdir()
        server, url, _ = start_server(root / "server", args.threads)
        proxy = TcpProxy(int(url.rsplit(":", 1)[1]), rate=rate)
        try:
            agent.start()
            t = time.perf_counter()
            agent_qc(agent, "WARMUP", warm)
            server_qc(url, warm)
            print(
                f"models loaded in both processes (warm-up QC of a 1 s clip): {time.perf_counter() - t:.1f} s"
            )
            local, report = agent_qc(agent, "BENCH-1", video)
            checks = len(report["info"]["check_data"]["check_list"])
            print(f"(a) local agent: report after {local:.1f} s ({checks} check items)", flush=True)
            uploaded, remote = server_qc(proxy.url, video)
            print(
                f"(b) upload over {args.link_kbps / 1000:g} Mbit/s: {uploaded:.1f} s, then server QC: "
                f"{remote - uploaded:.1f} s -> report after {remote:.1f} s",
                flush=True,
            )
            print(f"ratio (b) / (a): {remote / local:.2f}x  (the patent claims at least 2x)")
        finally:
            proxy.close()
            agent.stop()
            server.terminate()
            server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
