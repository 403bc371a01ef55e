"""``dualrec check`` end to end with the real engines: reports, evidence files, PDF, exit codes,
clear errors for bad arguments, and a 2-hour file in bounded memory without a hang."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import media_factory as mf
from tests.integration.test_qc_recordings import cache_dir


@pytest.fixture(scope="module")
def media() -> mf.MediaFactory:
    why = mf.available()
    if why is not None:
        pytest.skip(why)
    return mf.MediaFactory(cache_dir())


CODE = "from dualrec.cli.main import app; app()"


def _env() -> dict[str, str]:
    return dict(os.environ, DUALREC_DATA_DIR=str(cache_dir() / "data"), DUALREC_CPU_THREADS="2")


def dualrec(*args: str | Path, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    env = _env()
    code = CODE
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


@pytest.mark.slow
def test_check_writes_native_patent_and_pdf_reports_with_evidence(
    media: mf.MediaFactory, tmp_path: Path
) -> None:
    flow = tmp_path / "flow.json"
    flow.write_text(
        json.dumps(
            {"nodes": [{"id": "open", "type": "risk_disclosure", "required_statements": [mf.OPENING]}]},
            ensure_ascii=False,
        )
    )
    task = tmp_path / "task.json"
    task.write_text(json.dumps({"running_no": "SN-42", "mode": "self_service"}))
    out, pdf, patent = tmp_path / "r.json", tmp_path / "r.pdf", tmp_path / "p.json"
    proc = dualrec(
        "check",
        media.recording("black"),
        "--flow",
        flow,
        "--task",
        task,
        "--id-photo",
        mf.DATA / "faces" / "obama1.jpg",
        "--out",
        out,
        "--pdf",
        pdf,
        "--patent-out",
        patent,
        "-q",
    )
    assert proc.returncode == 0, proc.stderr
    assert "REVIEW" in proc.stdout
    native = json.loads(out.read_text(encoding="utf-8"))
    assert native["verdict"] == "REVIEW" and native["running_no"] == "SN-42"
    black = next(c for c in native["checks"] if c["id"] == "black_screen")
    frame = black["findings"][0]["evidence"]["frame"]
    assert (tmp_path / frame).is_file() and (tmp_path / frame).read_bytes()[:2] == b"\xff\xd8"  # a JPEG
    assert (tmp_path / native["portrait"]).is_file()
    doc = json.loads(patent.read_text(encoding="utf-8"))
    assert doc["runningNo"] == "SN-42" and doc["video_info"]["width"] == 640
    assert pdf.read_bytes().startswith(b"%PDF")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "双录质检报告" in text and "待复核" in text and "REVIEW" not in text and "黑屏" in text


def test_exit_code_option_and_corrupt_file(media: mf.MediaFactory, tmp_path: Path) -> None:
    proc = dualrec("check", media.text_as_mp4(), "--out", tmp_path / "r.json", "--exit-code", "-q")
    assert proc.returncode == 1, proc.stderr
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert report["verdict"] == "FAIL"
    integrity = next(c for c in report["checks"] if c["id"] == "file_integrity")
    assert "无法" in integrity["findings"][0]["message"]


@pytest.mark.parametrize(
    ("kind", "problem"),
    [
        ("zero_byte", "文件为空"),
        ("text_as_mp4", "无法打开媒体文件"),
        ("truncated_plain", "无法打开媒体文件"),  # `head -c` of a real recording: no moov atom
        ("truncated_faststart", "截断"),  # moov first: it opens, then stops decoding
    ],
)
def test_bad_media_prints_one_clear_line_and_its_fail_report_without_a_traceback(
    media: mf.MediaFactory, tmp_path: Path, kind: str, problem: str
) -> None:
    if kind.startswith("truncated_"):
        path = media.truncated(faststart=kind.endswith("faststart"))
    else:
        path = getattr(media, kind)()
    proc = dualrec("check", path, "--out", tmp_path / "r.json", "-q")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert proc.stderr.strip() == ""  # nothing logged: the file's problem is in the report
    lines = proc.stdout.splitlines()
    verdict = next(i for i, ln in enumerate(lines) if ln.startswith("FAIL"))
    headline = lines[verdict + 1]  # the first reason under the verdict names the problem
    assert headline.startswith("  - file_integrity:") and problem in headline, proc.stdout
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert report["verdict"] == "FAIL" and problem in report["reasons"][0]


def test_debug_flag_shows_the_traceback(media: mf.MediaFactory, tmp_path: Path) -> None:
    proc = dualrec("check", media.zero_byte(), "--out", tmp_path / "r.json", "-q", "--debug")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" in proc.stderr and "MediaError" in proc.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.mp4"], "not found"),
        (["{video}", "--flow", "{bad_json}"], "not valid JSON"),
        (["{video}", "--flow", "{bad_flow}"], "invalid flow"),
        (["{video}", "--id-photo", "{bad_json}"], "not a readable image"),
        (["{video}", "--device", "tpu"], "cpu, cuda or auto"),
    ],
)
def test_bad_arguments_are_clear_errors(
    media: mf.MediaFactory, tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "bad.json").write_text("{nope")
    (tmp_path / "flow.json").write_text(json.dumps({"nodes": [{"id": "a", "type": "party"}]}))
    values = {
        "video": str(media.zero_byte()),
        "bad_json": str(tmp_path / "bad.json"),
        "bad_flow": str(tmp_path / "flow.json"),
    }
    proc = dualrec("check", *[a.format(**values) for a in args], "--out", tmp_path / "r.json", "-q")
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "r.json").exists()


def _vm_hwm_kib(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    line = next((ln for ln in status.splitlines() if ln.startswith("VmHWM:")), "VmHWM: 0 kB")
    return int(line.split()[1])


@pytest.mark.slow
def test_two_hour_file_in_bounded_memory(media: mf.MediaFactory, tmp_path: Path) -> None:
    path = media.long_static(7200)
    # a flow without an ID-card node, so no OCR: RapidOCR's ONNX sessions peak at 250-450 MiB
    # whatever the file's length, varying from run to run (a 10 s file: 590-830 MiB in all), and
    # would hide what grows with the file (this test's point)
    flow = tmp_path / "flow.json"
    flow.write_text(json.dumps({"nodes": [{"id": "open", "type": "risk_disclosure"}]}))
    started = time.perf_counter()
    with subprocess.Popen(
        [
            sys.executable,
            "-c",
            CODE,
            "check",
            str(path),
            "--flow",
            str(flow),
            "--out",
            str(tmp_path / "r.json"),
            "-q",
        ],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        deadline = started + 280
        peak_kib = 0
        # the child's own high-water mark (VmHWM belongs to its address space since exec). Not
        # ru_maxrss from wait4: Linux carries the parent's high-water mark across fork + exec, so
        # late in a full test run the child "peaked" at the size of the pytest process itself.
        while (waited := os.wait4(proc.pid, os.WNOHANG))[0] == 0:
            peak_kib = max(peak_kib, _vm_hwm_kib(proc.pid))
            if time.perf_counter() > deadline:
                proc.kill()
                pytest.fail("dualrec check hung on a 2-hour file")
            time.sleep(0.2)
        _, status, _usage = waited
        proc.returncode = os.waitstatus_to_exitcode(status)
        stderr = proc.stderr.read().decode() if proc.stderr else ""
    elapsed = time.perf_counter() - started
    peak_mib = peak_kib / 1024
    print(f"\n[measure] 2 h file: {elapsed:.1f} s, peak RSS {peak_mib:.0f} MiB")
    assert proc.returncode == 0, stderr
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert report["video_info"]["video_time"] >= 7190
    silence = next(c for c in report["checks"] if c["id"] == "silence")
    assert silence["findings"][0]["end"] >= 7190
    # picture and sound are both streamed, so memory does not grow with the file: 318 MiB measured
    # (a 10 s file: 243 MiB); the audio decoded whole (230 MiB per hour) peaked at 757-779 MiB
    assert peak_mib < 450
