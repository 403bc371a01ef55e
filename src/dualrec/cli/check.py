"""``dualrec check VIDEO``: run the full QC of a recording locally and write the reports.

Exit codes: 0 — a report was produced (whatever the verdict; it is printed); 2 — usage or I/O
error (missing/unreadable input, bad JSON). With ``--exit-code``: 0 PASS, 1 REVIEW or FAIL.
A corrupt or truncated recording is not an error: its report says what is wrong, and the verdict's
reasons are printed under the verdict (one line each). Log messages (an engine that raised, say) are
one line each on stderr; ``--debug`` shows the debug log with tracebacks.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, cast

import typer

from dualrec.errors import DualrecError

__all__ = ["check"]

logger = logging.getLogger(__name__)
Device = Literal["cpu", "cuda", "auto"]


class FileSink:
    """Writes evidence frames as JPEG files into a folder next to the report."""

    def __init__(self, folder: Path, relative_to: Path) -> None:
        self.folder, self.relative_to = folder, relative_to
        self.written: dict[str, Path] = {}

    def put(self, name: str, image: Any) -> str:
        from PIL import Image

        self.folder.mkdir(parents=True, exist_ok=True)
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name) or "frame.jpg"
        path = self.folder / safe
        Image.fromarray(image).save(path, format="JPEG", quality=85)
        ref = (
            path.relative_to(self.relative_to).as_posix()
            if path.is_relative_to(self.relative_to)
            else str(path)
        )
        self.written[ref] = path
        return ref

    def load(self, ref: str) -> bytes | None:
        path = self.written.get(ref)
        return path.read_bytes() if path is not None and path.is_file() else None


class _OneLineFormatter(logging.Formatter):
    """A log record as one line: no traceback (``--debug`` shows them), the exception named."""

    def format(self, record: logging.LogRecord) -> str:
        text = f"{record.levelname.lower()}: {record.getMessage()}"
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None:
            text += f" ({type(exc).__name__}: {exc}; --debug 显示堆栈 / shows the traceback)"
        return " ".join(text.split("\n"))


def _configure_logging(debug: bool) -> None:
    handler = logging.StreamHandler()  # stderr
    if debug:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    else:
        handler.setFormatter(_OneLineFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else logging.WARNING)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"错误 / error: {message}", err=True)
    return typer.Exit(code=2)


def _readable(path: Path | None, what: str) -> Path | None:
    if path is None:
        return None
    zh, _, en = what.partition(" / ")
    if not path.is_file():
        raise _fail(f"{zh}不存在 / {en} not found: {path}")
    try:
        with path.open("rb") as fh:
            fh.read(1)
    except OSError as exc:
        raise _fail(f"{zh}无法读取 / cannot read the {en}: {path}: {exc}") from exc
    return path


def _json(path: Path | None, what: str) -> Any:
    if _readable(path, what) is None:
        return None
    assert path is not None
    zh, _, en = what.partition(" / ")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _fail(f"{zh}不是有效的 JSON / the {en} is not valid JSON: {path}: {exc}") from exc


def check(
    video: Annotated[Path, typer.Argument(help="录像文件 / the recording")],
    task: Annotated[
        Path | None, typer.Option(help="任务 JSON {running_no, customer_name, id_number, mode}")
    ] = None,
    flow: Annotated[
        Path | None, typer.Option(help="流程 JSON / flow (nodes, scripts, expected answers)")
    ] = None,
    markers: Annotated[
        Path | None, typer.Option(help="打点 JSON / markers [{node_id, start, end, ...}]")
    ] = None,
    id_photo: Annotated[Path | None, typer.Option("--id-photo", help="身份证/留存照片 / ID photo")] = None,
    words: Annotated[
        Path | None, typer.Option(help="敏感词表，每行一个 / sensitive words, one per line")
    ] = None,
    thresholds: Annotated[Path | None, typer.Option(help="阈值 JSON {check_id: {name: value}}")] = None,
    out: Annotated[
        Path | None, typer.Option(help="报告 JSON / report (default: <video>.qc.json here)")
    ] = None,
    pdf: Annotated[Path | None, typer.Option(help="PDF 报告 / PDF report")] = None,
    patent_out: Annotated[
        Path | None, typer.Option("--patent-out", help="专利格式 JSON / patent-format")
    ] = None,
    device: Annotated[str | None, typer.Option(help="cpu | cuda | auto (default: settings)")] = None,
    exit_code: Annotated[bool, typer.Option("--exit-code", help="0 PASS, 1 REVIEW/FAIL")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="不显示进度 / no progress bar")] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="调试日志，含异常堆栈 / debug log with tracebacks")
    ] = False,
) -> None:
    """对一段录像运行完整质检 / run the full QC of a recording locally."""
    _configure_logging(debug)
    from dualrec.core.flow import parse_flow, parse_markers
    from dualrec.core.qc import QcTask, Verdict
    from dualrec.core.sensitive_words import DEFAULT_SENSITIVE_WORDS, parse_word_list
    from dualrec.settings import answer_thresholds, load_settings

    _readable(video, "录像 / recording")
    if device is not None and device not in ("cpu", "cuda", "auto"):
        raise _fail(f"--device 只能是 cpu、cuda 或 auto / must be cpu, cuda or auto: {device}")
    try:
        flow_obj = parse_flow(_json(flow, "流程 / flow")) if flow else None
        marker_objs = parse_markers(_json(markers, "打点 / markers"), flow_obj) if markers else ()
    except DualrecError as exc:
        raise _fail(exc.message) from exc
    task_data = _json(task, "任务 / task") or {}
    if not isinstance(task_data, dict):
        raise _fail("任务 JSON 必须是对象 / task JSON must be an object")
    qc_task = QcTask(
        running_no=str(task_data.get("running_no") or task_data.get("runningNo") or ""),
        customer_name=task_data.get("customer_name"),
        id_number=task_data.get("id_number"),
        mode=task_data.get("mode"),
    )
    word_list = DEFAULT_SENSITIVE_WORDS
    if _readable(words, "敏感词表 / word list") is not None:
        assert words is not None
        word_list = parse_word_list(words.read_text(encoding="utf-8"))
    overrides = _json(thresholds, "阈值 / thresholds") or {}
    photo = None
    if _readable(id_photo, "身份证照片 / ID photo") is not None:
        photo = _load_photo(cast(Path, id_photo))
    settings = load_settings()
    report_path = out or Path.cwd() / f"{video.stem}.qc.json"
    report_path.parent.mkdir(parents=True, exist_ok=True)
    sink = FileSink(report_path.parent / f"{report_path.stem}_evidence", report_path.parent)

    from dualrec.bootstrap.engines import build_qc_engines
    from dualrec.pipeline.qc import run_qc
    from dualrec.pipeline.report import native_report, patent_report
    from dualrec.pipeline.request import QcRequest

    engines = build_qc_engines(
        data_dir=settings.data_dir,
        asr_model_dir=settings.asr_model_dir,
        device=cast(Device, device or settings.device),
        cpu_threads=settings.cpu_threads,
    )
    request = QcRequest(
        video,
        task=qc_task,
        flow=flow_obj,
        markers=marker_objs,
        id_photo=photo,
        sensitive_words=word_list,
        # the live session's answer accuracy (one setting), unless the thresholds file sets it
        thresholds=_with_answer_defaults(overrides, answer_thresholds(settings)),
    )
    try:
        report = _run_with_progress(lambda p: run_qc(request, engines, progress=p, sink=sink), quiet)
    except KeyError as exc:  # an unknown threshold name
        raise _fail(f"阈值配置错误 / bad thresholds: {exc}") from exc
    native = native_report(report)
    _write_json(report_path, native)
    if patent_out is not None:
        _write_json(patent_out, patent_report(report))
    if pdf is not None:
        from dualrec.services.recordings.report_pdf import render_qc_pdf

        pdf.parent.mkdir(parents=True, exist_ok=True)
        pdf.write_bytes(render_qc_pdf(report, native, load_image=sink.load))
    _print_summary(report, report_path, quiet)
    if exit_code and report.verdict.verdict is not Verdict.PASS:
        raise typer.Exit(code=1)


def _load_photo(path: Path) -> Any:
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            return np.asarray(img.convert("RGB"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError) as exc:
        raise _fail(f"身份证照片不是可读取的图片 / ID photo is not a readable image: {path}") from exc


def _write_json(path: Path, data: Any) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    except OSError as exc:
        raise _fail(f"无法写入 / cannot write {path}: {exc}") from exc


def _run_with_progress(job: Any, quiet: bool) -> Any:
    if quiet:
        return job(None)
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("[bold]质检 / QC[/] {task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        transient=True,
    ) as bar:
        task_id = bar.add_task("probe", total=1.0)

        class Reporter:
            def update(self, stage: str, fraction: float) -> None:
                bar.update(task_id, completed=fraction, description=stage)

        return job(Reporter())


MAX_REASONS = 5  # verdict reasons printed under the verdict (all of them are in the report)


def _print_summary(report: Any, report_path: Path, quiet: bool) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    v = report.verdict
    color = {"PASS": "green", "REVIEW": "yellow", "FAIL": "red"}[v.verdict.value]
    if not quiet:
        table = Table("检查项 / check", "结果 / status", "说明 / detail")
        specs = {s.id: s for s in report.specs}
        for r in report.results:
            s = specs.get(r.check_id)
            detail = r.reason or "; ".join(f.message for f in r.findings[:2])
            table.add_row(escape(s.title if s else r.check_id), r.status.value, escape(detail[:90]))
        console.print(table)
    console.print(
        f"[bold {color}]{v.verdict.value}[/] 风险分 / risk {v.risk_score}  "
        f"报告 / report: {escape(str(report_path))}",
        soft_wrap=True,
    )
    for reason in v.reasons[:MAX_REASONS]:
        console.print(f"  - {reason}", markup=False, highlight=False, soft_wrap=True)
    if len(v.reasons) > MAX_REASONS:
        more = len(v.reasons) - MAX_REASONS
        console.print(f"  … 另有 {more} 条原因见报告 / {more} more reasons in the report", highlight=False)


def _with_answer_defaults(overrides: Any, defaults: Mapping[str, Mapping[str, float]]) -> Any:
    """``overrides`` (a thresholds file's JSON) with ``defaults`` where it sets no value of its own
    (anything that is not an object is left for run_qc to refuse)."""
    if not isinstance(overrides, dict):
        return overrides
    out = {k: dict(v) if isinstance(v, dict) else v for k, v in overrides.items()}
    for check_id, values in defaults.items():
        mine = out.setdefault(check_id, {})
        if isinstance(mine, dict):
            for name, value in values.items():
                mine.setdefault(name, value)
    return out
