"""QC benchmark: a generated 10-minute 720p30 recording (photo moving over a room, real speech looped).

Prints, against baselines measured in the same run on the same file:
- visual-check wall time ÷ ``ffmpeg -i X -f null -`` wall time (goal ≤ 1.0). In a full QC the
  visual pass shares the cores with the audio pass (they run side by side), so it is timed in a
  QC run of its own first: the same pipeline and engines, with the audio stream hidden from it;
- full QC real-time factor: QC wall time ÷ recording length (goal ≤ 0.2 on 2 cores);
- peak memory (max RSS of this process; the video decoder runs in a child process of its own, whose
  peak Linux cannot report apart from this one's: a child's ru_maxrss starts at its parent's).

Models load once per process (a QC worker keeps them), so they are loaded before the clocks start;
the load time is printed on its own line.

Usage: ``.venv/bin/python bench/qc.py [--seconds 600] [--device cpu|cuda|auto] [--threads N]``
"""

from __future__ import annotations

import argparse
import dataclasses
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
from dualrec.media.ports import MediaInfo, MediaProbe  # noqa: E402
from dualrec.pipeline.qc import run_qc  # noqa: E402
from dualrec.pipeline.request import QcEngines, QcRequest  # noqa: E402


class VideoOnly:
    """The probe without the audio stream: a QC run of the visual pass alone."""

    def __init__(self, inner: MediaProbe) -> None:
        self.inner = inner

    def probe(self, path: Path) -> MediaInfo:
        return dataclasses.replace(self.inner.probe(path), audio=None)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def visual_alone(request: QcRequest, engines: QcEngines) -> tuple[float, float]:
    """(wall, CPU seconds) of the visual stage in a QC run without the audio pass (CPU time is kept
    for the stages that run side by side together; the audio one has nothing to do here), the
    decoder process's CPU time included."""
    before = _children_cpu()
    report = run_qc(request, dataclasses.replace(engines, probe=VideoOnly(engines.probe)))
    decoder = _children_cpu() - before
    return report.stage_seconds["visual"], report.stage_cpu_seconds["visual+audio"] + decoder


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
    loaded = time.perf_counter()
    for engine in (engines.faces, engines.asr, engines.ocr):
        if hasattr(engine, "load"):
            engine.load()
    print(f"models loaded (once)       : {time.perf_counter() - loaded:6.1f} s (not in the times below)")
    flow = parse_flow(
        {"nodes": [{"id": "open", "type": "risk_disclosure", "required_statements": [mf.OPENING]}]}
    )
    photo = mf.load_rgb(mf.DATA / "faces" / "obama1.jpg")
    request = QcRequest(video, flow=flow, id_photo=photo)
    visual, visual_cpu = visual_alone(request, engines)
    started, cpu_started, children = time.perf_counter(), time.process_time(), _children_cpu()
    report = run_qc(request, engines)
    total = time.perf_counter() - started
    qc_cpu = time.process_time() - cpu_started + _children_cpu() - children
    stages = dict(report.stage_seconds)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"visual pass alone          : {visual:6.1f} s wall, {visual_cpu:.1f} s CPU")
    print(f"full QC stages (s, wall)   : {', '.join(f'{k} {v:.1f}' for k, v in stages.items())}")
    ratio, rtf, n = visual / baseline, total / args.seconds, len(report.context.frames)
    print(f"visual checks / ffmpeg     : {ratio:6.2f}   (goal <= 1.0; {visual:.1f} / {baseline:.1f} s)")
    cpu_ratio = visual_cpu / baseline_cpu if baseline_cpu else float("nan")
    print(f"  same, in CPU time        : {cpu_ratio:6.2f}   ({visual_cpu:.1f} / {baseline_cpu:.1f} CPU s)")
    print(f"full QC real-time factor   : {rtf:6.3f}   (goal <= 0.2; {total:.1f} s / {args.seconds} s)")
    print(f"  full QC CPU time         : {qc_cpu:6.1f} s (all threads and the decoder process)")
    print(f"peak memory (max RSS)      : {peak:6.0f} MiB (this process; the decoder process apart)")
    print(f"verdict                    : {report.verdict.verdict.value} ({n} frames analysed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
