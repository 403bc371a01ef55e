"""QC benchmark: a generated 10-minute 720p30 recording (photo moving over a room, real speech looped).

Prints, against baselines measured in the same run on the same file:
- visual-check wall time ÷ ``ffmpeg -i X -f null -`` wall time (goal ≤ 1.0);
- full QC real-time factor: QC wall time ÷ recording length (goal ≤ 0.2 on 2 cores);
- peak memory (max RSS of this process).

Usage: ``.venv/bin/python bench/qc.py [--seconds 600] [--device cpu|cuda|auto] [--threads N]``
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import media_factory as mf  # noqa: E402

from dualrec.bootstrap.engines import build_qc_engines  # noqa: E402
from dualrec.core.flow import parse_flow  # noqa: E402
from dualrec.pipeline.qc import QcRequest, run_qc  # noqa: E402


def ffmpeg_null(path: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of a plain FFmpeg decode of ``path``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-f", "null", "-"], check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=600)
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"))
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    why = mf.available()
    if why is not None:
        print(f"skipped: {why}")
        return 0
    cache = Path(tempfile.gettempdir()) / "dualrec-bench-media"
    factory = mf.MediaFactory(cache)
    t0 = time.perf_counter()
    video = factory.bench(args.seconds)
    built = time.perf_counter() - t0
    print(f"recording: {video} ({args.seconds} s 1280x720 30 fps; built or cached in {built:.1f} s)")
    baseline, baseline_cpu = ffmpeg_null(video)
    print(f"ffmpeg -i X -f null -      : {baseline:6.1f} s wall, {baseline_cpu:.1f} s CPU")
    engines = build_qc_engines(data_dir=cache / "data", device=args.device, cpu_threads=args.threads)
    if engines.unavailable:
        print(f"engines unavailable: {engines.unavailable}")
    flow = parse_flow(
        {"nodes": [{"id": "open", "type": "risk_disclosure", "required_statements": [mf.OPENING]}]}
    )
    photo = mf.load_rgb(mf.DATA / "faces" / "obama1.jpg")
    started = time.perf_counter()
    report = run_qc(QcRequest(video, flow=flow, id_photo=photo), engines)
    total = time.perf_counter() - started
    stages = dict(report.stage_seconds)
    visual = stages.get("visual", 0.0)
    visual_cpu = report.stage_cpu_seconds.get("visual", 0.0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"stages (s)                 : {', '.join(f'{k} {v:.1f}' for k, v in stages.items())}")
    ratio, rtf, n = visual / baseline, total / args.seconds, len(report.context.frames)
    print(f"visual checks / ffmpeg     : {ratio:6.2f}   (goal <= 1.0; {visual:.1f} / {baseline:.1f} s)")
    cpu_ratio = visual_cpu / baseline_cpu if baseline_cpu else float("nan")
    print(f"  same, in CPU time        : {cpu_ratio:6.2f}   ({visual_cpu:.1f} / {baseline_cpu:.1f} CPU s)")
    print(f"full QC real-time factor   : {rtf:6.3f}   (goal <= 0.2; {total:.1f} s / {args.seconds} s)")
    print(f"peak memory (max RSS)      : {peak:6.0f} MiB")
    print(f"verdict                    : {report.verdict.verdict.value} ({n} frames analysed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
