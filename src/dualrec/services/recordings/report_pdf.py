"""The QC report as a PDF (fpdf2, CJK font): summary and verdict, a timeline drawn with fpdf
primitives (face presence, audio level, findings), key frames, findings, transcript excerpts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from dualrec.core.qc import CheckStatus, Severity
from dualrec.pipeline.qc import QcReport
from dualrec.services.pdf.layout import CJK_FONT, image_grid, require_font

__all__ = ["render_qc_pdf"]

ImageLoader = Callable[[str], bytes | None]  # evidence reference → JPEG bytes (None: unavailable)

_VERDICT_RGB = {"PASS": (30, 140, 60), "REVIEW": (215, 140, 0), "FAIL": (200, 30, 30)}
_SEV_RGB = {
    Severity.CRITICAL: (200, 30, 30),
    Severity.MAJOR: (230, 120, 0),
    Severity.MINOR: (220, 190, 0),
    Severity.INFO: (120, 120, 120),
}
_STATUS_ZH = {
    CheckStatus.PASSED: "通过",
    CheckStatus.FAILED: "不通过",
    CheckStatus.NOT_RUN: "未检查",
    CheckStatus.ERROR: "出错",
}
_LEFT, _WIDTH = 15.0, 180.0


def _fmt(t: float | None) -> str:
    if t is None:
        return "—"
    return f"{int(t // 60):02d}:{t % 60:05.2f}"


def render_qc_pdf(
    report: QcReport, native: dict[str, Any], *, load_image: ImageLoader | None = None, font: Path = CJK_FONT
) -> bytes:
    from fpdf import FPDF

    require_font(font)
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_font("cjk", "", str(font))
    pdf.set_font("cjk", size=10)
    pdf.add_page()
    _summary(pdf, report, native)
    _timeline(pdf, report)
    _checks(pdf, report)
    _images(pdf, report, native, load_image)
    _findings(pdf, report)
    _transcript(pdf, report)
    return bytes(pdf.output())


def _line(pdf: Any, text: str, size: float = 10, h: float = 6) -> None:
    pdf.set_font("cjk", size=size)
    pdf.multi_cell(_WIDTH, h, text, new_x="LMARGIN", new_y="NEXT")


def _summary(pdf: Any, report: QcReport, native: dict[str, Any]) -> None:
    v = report.verdict
    info = native.get("video_info", {})
    _line(pdf, "双录质检报告 / Dual-recording QC report", 18, 10)
    _line(
        pdf,
        f"文件 / file: {info.get('name', '')}    "
        f"流水号 / running no.: {report.context.task.running_no or '—'}",
    )
    _line(
        pdf,
        f"分辨率 / size: {info.get('width')}×{info.get('height')}  帧率 / fps: {info.get('fps')}  "
        f"视频 / video: {info.get('video_time')} s  音频 / audio: {info.get('audio_time')} s",
    )
    r, g, b = _VERDICT_RGB[v.verdict.value]
    pdf.set_text_color(r, g, b)
    _line(pdf, f"结论 / verdict: {v.verdict.value}    风险分 / risk score: {v.risk_score}/100", 14, 9)
    pdf.set_text_color(0, 0, 0)
    for reason in v.reasons[:12]:
        _line(pdf, f"- {reason}", 9, 5)
    pdf.ln(2)


def _timeline(pdf: Any, report: QcReport) -> None:
    ctx = report.context
    dur = max(ctx.duration, 1e-3)
    _line(pdf, "时间轴 / timeline", 12, 8)
    y0 = pdf.get_y()
    lanes = ("人脸 / face", "音量 / audio", "问题 / findings")
    lane_h, label_w = 8.0, 28.0
    x0, w = _LEFT + label_w, _WIDTH - label_w

    def x(t: float) -> float:
        return x0 + w * min(max(t / dur, 0.0), 1.0)

    pdf.set_font("cjk", size=8)
    for i, name in enumerate(lanes):
        pdf.text(_LEFT, y0 + i * (lane_h + 2) + 5.5, name)
        pdf.set_draw_color(200, 200, 200)
        pdf.rect(x0, y0 + i * (lane_h + 2), w, lane_h)
    checked = [fr for fr in ctx.frames if fr.faces is not None]
    nexts: list[Any] = [*checked[1:], None] if checked else []
    for fr, nxt in zip(checked, nexts, strict=True):
        # face presence: green = a face, red = none, blank = not checked (e.g. no video)
        pdf.set_fill_color(*((60, 170, 80) if fr.faces else (210, 60, 60)))
        end = nxt.t if nxt is not None else fr.t + 1.0
        pdf.rect(x(fr.t), y0, max(0.2, x(end) - x(fr.t)), lane_h, style="F")
    ya = y0 + lane_h + 2
    pdf.set_fill_color(70, 110, 200)
    for i, level in enumerate(ctx.levels):
        frac = min(1.0, max(0.0, (level + 60.0) / 60.0))
        if frac > 0:
            t = i * ctx.level_window
            pdf.rect(
                x(t),
                ya + lane_h * (1 - frac),
                max(0.2, x(t + ctx.level_window) - x(t)),
                lane_h * frac,
                style="F",
            )
    yf = ya + lane_h + 2
    for r in report.results:
        for f in r.findings:
            if f.start is None:
                continue
            pdf.set_fill_color(*_SEV_RGB[f.severity])
            end = f.end if f.end is not None else f.start
            pdf.rect(x(f.start), yf + 1, max(0.8, x(end) - x(f.start)), lane_h - 2, style="F")
    ticks = 6
    for k in range(ticks + 1):
        t = dur * k / ticks
        pdf.text(x(t) - 4, yf + lane_h + 5, _fmt(t))
    pdf.set_y(yf + lane_h + 8)


def _checks(pdf: Any, report: QcReport) -> None:
    _line(pdf, "检查项 / checks", 12, 8)
    specs = {s.id: s for s in report.specs}
    pdf.set_font("cjk", size=9)
    for r in report.results:
        s = specs.get(r.check_id)
        title = s.title_zh if s else r.check_id
        detail = r.reason or (r.findings[0].message if r.findings else "")
        if r.status is CheckStatus.FAILED:
            pdf.set_text_color(200, 30, 30)
        pdf.cell(45, 5.5, title)
        pdf.cell(20, 5.5, _STATUS_ZH[r.status])
        pdf.set_text_color(0, 0, 0)
        pdf.multi_cell(_WIDTH - 65, 5.5, detail[:120], new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)


def _images(pdf: Any, report: QcReport, native: dict[str, Any], load: ImageLoader | None) -> None:
    if load is None:
        return
    items: list[tuple[str, str]] = []
    if report.portrait_ref:
        items.append(("客户人像 / portrait", report.portrait_ref))
    items += [(f"关键帧 / key frame {_fmt(t)}", ref) for t, ref in report.keyframes]
    items += [
        (f"{r.check_id} {_fmt(f.evidence.frame_time)}", f.evidence.frame_ref)
        for r in report.results
        for f in r.findings
        if f.evidence.frame_ref
    ][:9]
    images = [(label, data) for label, ref in items if (data := load(ref))]
    if not images:
        return
    _line(pdf, "关键帧与证据 / key frames and evidence", 12, 8)
    image_grid(pdf, images, left=_LEFT, bottom_margin=15, label_size=7, label_chars=40)


def _findings(pdf: Any, report: QcReport) -> None:
    rows = [(r.check_id, f) for r in report.results for f in r.findings]
    if not rows:
        return
    _line(pdf, "问题明细 / findings", 12, 8)
    for check_id, f in rows[:60]:
        pdf.set_text_color(*_SEV_RGB[f.severity])
        node = f"  [节点 {f.node_id}]" if f.node_id else ""
        _line(pdf, f"{_fmt(f.start)}–{_fmt(f.end)}  {check_id}{node}  {f.message}", 9, 5)
        pdf.set_text_color(0, 0, 0)
        if f.evidence.quote:
            _line(pdf, f"    「{f.evidence.quote[:100]}」 {_fmt(f.evidence.quote_start)}", 8, 4.5)
    pdf.ln(2)


def _transcript(pdf: Any, report: QcReport) -> None:
    segs = report.context.transcript or ()
    if not segs:
        return
    _line(pdf, "逐字稿摘录 / transcript excerpts", 12, 8)
    for s in segs[:80]:
        _line(pdf, f"{_fmt(s.start)}–{_fmt(s.end)}  {s.text}", 9, 5)
    if len(segs) > 80:
        _line(pdf, f"…（共 {len(segs)} 段 / {len(segs)} segments in the JSON report）", 9, 5)
