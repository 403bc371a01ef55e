"""The QC report as a PDF (fpdf2, CJK font): summary and verdict, a timeline drawn with fpdf
primitives (face presence, audio level, findings), key frames, findings, transcript excerpts.

One language per report (``zh-CN`` or ``en``), chosen when it is rendered: headings, labels,
statuses, check names and finding texts all come in that language (data values such as file
names, quotes and the transcript stay as recorded)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dualrec.checks.catalog import spec_for
from dualrec.core.qc import CheckStatus, Severity
from dualrec.i18n import DEFAULT_LANGUAGE, render, split_legacy
from dualrec.pipeline.qc import QcReport
from dualrec.services.pdf.layout import CJK_FONT, image_grid, require_font

__all__ = ["PDF_ARTIFACTS", "pdf_artifact", "render_qc_pdf"]

# the QC report's PDF artifact per language (the zh-CN one keeps its historic name)
PDF_ARTIFACTS = {"pdf": "zh-CN", "pdf_en": "en"}


def pdf_artifact(language: str) -> str:
    return next(name for name, lang in PDF_ARTIFACTS.items() if lang == language)


ImageLoader = Callable[[str], bytes | None]  # evidence reference → JPEG bytes (None: unavailable)

_VERDICT_RGB = {"PASS": (30, 140, 60), "REVIEW": (215, 140, 0), "FAIL": (200, 30, 30)}
_SEV_RGB = {
    Severity.CRITICAL: (200, 30, 30),
    Severity.MAJOR: (230, 120, 0),
    Severity.MINOR: (220, 190, 0),
    Severity.INFO: (120, 120, 120),
}
_LEFT, _WIDTH = 15.0, 180.0
_REASON = re.compile(r"^([a-z][a-z0-9_]*): (.*)$", re.S)


def _fmt(t: float | None) -> str:
    if t is None:
        return "—"
    return f"{int(t // 60):02d}:{t % 60:05.2f}"


class _Text:
    """Catalogue texts of the report in its one language."""

    def __init__(self, language: str) -> None:
        self.language = language

    def __call__(self, key: str, **params: Any) -> str:
        return render(f"report.qc.{key}", params, self.language)

    def status(self, status: CheckStatus) -> str:
        return self(f"status.{status.value}")

    def verdict(self, verdict: str) -> str:
        return self(f"verdict.{verdict.lower()}")

    def check(self, report: QcReport, check_id: str) -> str:
        spec = next((s for s in report.specs if s.id == check_id), None)
        if spec is None:
            return check_id
        return spec.title_en if self.language == "en" else spec.title_zh

    def plain(self, text: str) -> str:
        """A stored "中文 / English" text (finding, reason): its side in this language."""
        return split_legacy(text, self.language)

    def reason(self, report: QcReport, text: str) -> str:
        """A verdict reason ("<check id>: <text>") with the check's display name."""
        m = _REASON.match(text)
        if m is None or spec_for(m.group(1)) is None:
            return self.plain(text)
        return f"{self.check(report, m.group(1))}: {self.plain(m.group(2))}"


def render_qc_pdf(
    report: QcReport,
    native: dict[str, Any],
    *,
    load_image: ImageLoader | None = None,
    font: Path = CJK_FONT,
    language: str = DEFAULT_LANGUAGE,
) -> bytes:
    from fpdf import FPDF

    tx = _Text(language)
    require_font(font)
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_font("cjk", "", str(font))
    pdf.set_font("cjk", size=10)
    pdf.add_page()
    pdf.set_lang(language)
    pdf.set_title(tx("title"))
    _summary(pdf, report, native, tx)
    _timeline(pdf, report, tx)
    _checks(pdf, report, tx)
    _images(pdf, report, native, load_image, tx)
    _findings(pdf, report, tx)
    _transcript(pdf, report, tx)
    return bytes(pdf.output())


def _line(pdf: Any, text: str, size: float = 10, h: float = 6) -> None:
    pdf.set_font("cjk", size=size)
    pdf.multi_cell(_WIDTH, h, text, new_x="LMARGIN", new_y="NEXT")


def _summary(pdf: Any, report: QcReport, native: dict[str, Any], tx: _Text) -> None:
    v = report.verdict
    info = native.get("video_info", {})
    _line(pdf, tx("title"), 18, 10)
    _line(pdf, tx("file_line", name=info.get("name", ""), running_no=report.context.task.running_no or "—"))
    _line(
        pdf,
        tx(
            "media_line",
            width=info.get("width"),
            height=info.get("height"),
            fps=info.get("fps"),
            video=info.get("video_time"),
            audio=info.get("audio_time"),
        ),
    )
    r, g, b = _VERDICT_RGB[v.verdict.value]
    pdf.set_text_color(r, g, b)
    _line(pdf, tx("verdict_line", verdict=tx.verdict(v.verdict.value), risk=v.risk_score), 14, 9)
    pdf.set_text_color(0, 0, 0)
    for reason in v.reasons[:12]:
        _line(pdf, f"- {tx.reason(report, reason)}", 9, 5)
    pdf.ln(2)


def _timeline(pdf: Any, report: QcReport, tx: _Text) -> None:
    ctx = report.context
    dur = max(ctx.duration, 1e-3)
    _line(pdf, tx("timeline"), 12, 8)
    y0 = pdf.get_y()
    lanes = (tx("lane_face"), tx("lane_audio"), tx("lane_findings"))
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


def _checks(pdf: Any, report: QcReport, tx: _Text) -> None:
    _line(pdf, tx("checks"), 12, 8)
    pdf.set_font("cjk", size=9)
    for r in report.results:
        detail = tx.plain(r.reason or (r.findings[0].message if r.findings else ""))
        if r.status is CheckStatus.FAILED:
            pdf.set_text_color(200, 30, 30)
        pdf.cell(45, 5.5, tx.check(report, r.check_id)[:28])
        pdf.cell(20, 5.5, tx.status(r.status))
        pdf.set_text_color(0, 0, 0)
        pdf.multi_cell(_WIDTH - 65, 5.5, detail[:120], new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)


def _images(pdf: Any, report: QcReport, native: dict[str, Any], load: ImageLoader | None, tx: _Text) -> None:
    if load is None:
        return
    items: list[tuple[str, str]] = []
    if report.portrait_ref:
        items.append((tx("portrait"), report.portrait_ref))
    items += [(tx("key_frame", t=_fmt(t)), ref) for t, ref in report.keyframes]
    items += [
        (f"{tx.check(report, r.check_id)} {_fmt(f.evidence.frame_time)}", f.evidence.frame_ref)
        for r in report.results
        for f in r.findings
        if f.evidence.frame_ref
    ][:9]
    images = [(label, data) for label, ref in items if (data := load(ref))]
    if not images:
        return
    _line(pdf, tx("key_frames"), 12, 8)
    image_grid(pdf, images, left=_LEFT, bottom_margin=15, label_size=7, label_chars=40)


def _findings(pdf: Any, report: QcReport, tx: _Text) -> None:
    rows = [(r.check_id, f) for r in report.results for f in r.findings]
    if not rows:
        return
    _line(pdf, tx("findings"), 12, 8)
    for check_id, f in rows[:60]:
        pdf.set_text_color(*_SEV_RGB[f.severity])
        node = "  " + tx("node", node=f.node_id) if f.node_id else ""
        text = f.localized(tx.language)
        _line(pdf, f"{_fmt(f.start)}–{_fmt(f.end)}  {tx.check(report, check_id)}{node}  {text}", 9, 5)
        pdf.set_text_color(0, 0, 0)
        if f.evidence.quote:
            _line(pdf, f"    「{f.evidence.quote[:100]}」 {_fmt(f.evidence.quote_start)}", 8, 4.5)
    pdf.ln(2)


def _transcript(pdf: Any, report: QcReport, tx: _Text) -> None:
    segs = report.context.transcript or ()
    if not segs:
        return
    _line(pdf, tx("transcript"), 12, 8)
    for s in segs[:80]:
        _line(pdf, f"{_fmt(s.start)}–{_fmt(s.end)}  {s.text}", 9, 5)
    if len(segs) > 80:
        _line(pdf, tx("more_segments", n=len(segs)), 9, 5)
