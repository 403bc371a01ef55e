"""The full-stack live load bench (bench/live_stack.py) in its smoke mode: a real ``dualrec serve``,
one simulated customer streaming frames over the WebSocket and uploading chunks for a few seconds,
and the API probe. Checks that the bench runs end to end and reports every field, not its speed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FIELDS = {
    "k",
    "frames_answered",
    "frame_p50_ms",
    "frame_p95_ms",
    "frame_last_quarter_p50_ms",
    "backlog_frames",
    "chunks_uploaded",
    "chunks_failed",
    "chunk_p95_ms",
    "api_requests",
    "api_failed",
    "api_p50_ms",
    "api_p95_ms",
    "server_cpu_cores",
    "server_cpu_ms_per_session_s",
    "generator_cpu_cores",
    "generator_cpu_s",
    "errors",
    "holds",
}


@pytest.mark.slow
def test_the_live_stack_bench_runs_one_customer_end_to_end(tmp_path: Path) -> None:
    if shutil.which("ffmpeg") is None:
        pytest.fail("ffmpeg not found: install Debian's ffmpeg package", pytrace=False)
    out = tmp_path / "bench.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "live_stack.py"), "--quick", "--json", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "largest K that holds" in proc.stdout
    result = json.loads(out.read_text())
    assert len(result["steps"]) == 1
    step = result["steps"][0]
    assert set(step) >= FIELDS, FIELDS - set(step)
    assert step["k"] == 1
    # the customer was served: frames answered with observations, chunks acknowledged, the
    # probe's requests answered; the server's CPU and the generator's are measured apart
    assert step["frames_answered"] >= 4 and step["errors"] == []
    assert step["chunks_uploaded"] >= 1 and step["chunks_failed"] == 0
    assert step["api_requests"] >= 4 and step["api_failed"] == 0
    assert step["server_cpu_cores"] > 0 and step["generator_cpu_s"] > 0
    assert isinstance(step["holds"], bool)
