"""Renders a ``LitigationData`` as the litigation report PDF (fpdf2, WenQuanYi CJK font).

Sections: the task and the customer; the verdict; the node timeline (drawn, then a table); biometric
results (liveness, face comparison with its frames' distances, voiceprint); key frames and evidence
images; QC findings with their time ranges; checks; the verbatim transcript with timestamps; file
hashes; the ledger proof; the signature. Nothing here decides anything: it only lays out the data.

One language per report (``zh-CN`` or ``en``, chosen at generation): every heading, label, status,
check name and finding text comes from the catalogue (``report.lit.*``) in that language; data values
(names, numbers, quotes, the transcript) stay as recorded.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from dualrec.checks.catalog import spec_for
from dualrec.i18n import DEFAULT_LANGUAGE, render, split_legacy
from dualrec.services.litigation.report_data import LitigationData
from dualrec.services.pdf.layout import image_grid, require_font

__all__ = ["render_litigation_pdf"]

_LEFT, _WIDTH = 15.0, 180.0
_SEV = {"critical": (200, 30, 30), "major": (230, 120, 0), "minor": (200, 170, 0), "info": (120, 120, 120)}


class _Text:
    """The report's texts in its one language."""

    def __init__(self, language: str) -> None:
        self.language = language

    def __call__(self, key: str, **params: Any) -> str:
        return render(f"report.lit.{key}", params, self.language)

    def label(self, kind: str, value: Any) -> str:
        """A display name of an enumerated value (verdict, status, severity…); the value itself when
        the catalogue has none."""
        text = str(value)
        key = f"label.{kind}.{text}"
        shown = render(key, {}, self.language)
        return text if shown == key else shown

    def check(self, c: dict[str, Any]) -> str:
        spec = spec_for(str(c.get("id")))
        if spec is not None:
            return spec.title_en if self.language == "en" else spec.title_zh
        return self.plain(str(c.get("title") or c.get("id")))

    def plain(self, text: Any) -> str:
        """A stored "中文 / English" text: its side in this language."""
        return split_legacy(str(text), self.language)

    def reason(self, text: str) -> str:
        """A verdict reason ("<check id>: <text>") with the check's display name."""
        m = re.match(r"^([a-z][a-z0-9_]*): (.*)$", text, re.S)
        if m is None or spec_for(m.group(1)) is None:
            return self.plain(text)
        return f"{self.check({'id': m.group(1)})}: {self.plain(m.group(2))}"

    def finding(self, f: dict[str, Any]) -> str:
        key = f.get("message_key")
        if isinstance(key, str):
            params = f.get("params") if isinstance(f.get("params"), dict) else {}
            return render(key, params, self.language)
        return self.plain(f.get("message") or "")


def _clock(t: Any) -> str:
    if not isinstance(t, (int, float)):
        return "—"
    return f"{int(t // 60):02d}:{t % 60:05.2f}"


def _when(at: datetime | None) -> str:
    return at.isoformat(timespec="seconds") if at else "—"


def _span(a: Any, b: Any) -> str:
    return _clock(a) if b is None or b == a else f"{_clock(a)}–{_clock(b)}"


class _Doc:
    """A thin layer over FPDF: headings, key/value rows, wrapped lines, page header and footer."""

    def __init__(self, data: LitigationData, tx: _Text) -> None:
        from fpdf import FPDF

        font = require_font()
        self.tx = tx
        privacy = tx("footer_masked") if data.masked else tx("footer_unmasked")
        footer = tx("footer", report_id=data.report_id, privacy=privacy)

        class Pdf(FPDF):
            def footer(self) -> None:
                self.set_y(-12)
                self.set_font("cjk", size=7)
                self.set_text_color(110, 110, 110)
                self.cell(0, 5, f"{footer} · " + tx("page", page=self.page_no(), pages="{nb}"), align="C")
                self.set_text_color(0, 0, 0)

        self.pdf = Pdf(format="A4")
        self.pdf.set_auto_page_break(auto=True, margin=16)
        self.pdf.add_font("cjk", "", str(font))
        self.pdf.set_title(tx("title"))
        self.pdf.set_lang(tx.language)
        self.pdf.set_creator("dualrec")
        self.pdf.set_font("cjk", size=10)
        self.pdf.add_page()

    def line(self, text: str, size: float = 9, h: float = 5) -> None:
        self.pdf.set_font("cjk", size=size)
        self.pdf.multi_cell(_WIDTH, h, text, new_x="LMARGIN", new_y="NEXT")

    def heading(self, text: str) -> None:
        if self.pdf.get_y() > self.pdf.h - 40:
            self.pdf.add_page()
        self.pdf.ln(2)
        self.pdf.set_fill_color(235, 240, 248)
        self.pdf.set_font("cjk", size=12)
        self.pdf.cell(_WIDTH, 8, text, fill=True, new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(1)

    def rows(self, rows: list[tuple[str, str]], label_w: float = 48) -> None:
        for label, value in rows:
            self.pdf.set_font("cjk", size=8.5)
            self.pdf.set_text_color(90, 90, 90)
            self.pdf.cell(label_w, 5, label)
            self.pdf.set_text_color(0, 0, 0)
            self.pdf.multi_cell(_WIDTH - label_w, 5, value, new_x="LMARGIN", new_y="NEXT")


def render_litigation_pdf(data: LitigationData, language: str = DEFAULT_LANGUAGE) -> bytes:
    doc = _Doc(data, _Text(language))
    _cover(doc, data)
    _timeline(doc, data)
    _biometrics(doc, data)
    _images(doc, data)
    _findings(doc, data)
    _checks(doc, data)
    _transcript(doc, data)
    _hashes(doc, data)
    _ledger(doc, data)
    _signature(doc, data)
    return bytes(doc.pdf.output())


def _cover(doc: _Doc, d: LitigationData) -> None:
    rec, report, tx = d.recording, d.report, doc.tx
    doc.line(tx("title"), 18, 10)
    doc.rows(
        [
            (tx("report_id"), d.report_id),
            (tx("generated_at"), d.generated_at.isoformat(timespec="seconds")),
            (tx("generated_by"), d.generated_by),
            (tx("personal_data"), tx("masked") if d.masked else tx("unmasked")),
        ]
    )
    doc.heading(tx("h_task"))
    info = report.get("video_info", {})
    doc.rows(
        [
            (tx("recording_id"), rec.id),
            (tx("running_no"), rec.running_no or "—"),
            (tx("business_type"), tx.label("business_type", d.business_type) if d.business_type else "—"),
            (tx("mode"), tx.label("mode", report.get("mode")) if report.get("mode") else "—"),
            (tx("branch"), d.branch_name),
            (tx("uploaded_by"), rec.created_by),
            (tx("uploaded_at"), _when(rec.created_at)),
            (tx("qc_finished"), _when(rec.finished_at)),
            *((tx.plain(label), value) for label, value in d.customer),
            (tx("file"), tx("file_value", name=rec.filename, size=rec.size, type=rec.content_type)),
            (tx("recording_sha"), rec.sha256),
            (
                tx("av"),
                tx(
                    "av_value",
                    width=info.get("width"),
                    height=info.get("height"),
                    fps=info.get("fps"),
                    video=info.get("video_time"),
                    audio=info.get("audio_time"),
                    codecs=f"{info.get('video_codec') or '—'}/{info.get('audio_codec') or '—'}",
                ),
            ),
        ]
    )
    doc.heading(tx("h_verdict"))
    verdict = str(report.get("verdict"))
    doc.rows(
        [
            (tx("verdict"), tx.label("verdict", verdict)),
            (tx("risk_score"), f"{report.get('risk_score')}/100"),
        ]
    )
    for reason in report.get("reasons", [])[:20]:
        doc.line(f"· {tx.reason(str(reason))}", 8.5)


def _timeline(doc: _Doc, d: LitigationData) -> None:
    report, pdf, tx = d.report, doc.pdf, doc.tx
    doc.heading(tx("h_timeline"))
    nodes = report.get("nodes", [])
    duration = float(report.get("duration") or 0) or max((n.get("end", 0) for n in nodes), default=1.0)
    label_w, lane_h = 26.0, 7.0
    x0, w = _LEFT + label_w, _WIDTH - label_w

    def x(t: float) -> float:
        return x0 + w * min(max(t / max(duration, 1e-3), 0.0), 1.0)

    y = pdf.get_y()
    pdf.set_font("cjk", size=7)
    pdf.text(_LEFT, y + 4.5, tx("lane_nodes"))
    pdf.text(_LEFT, y + lane_h + 2 + 4.5, tx("lane_findings"))
    pdf.set_draw_color(190, 190, 190)
    pdf.rect(x0, y, w, lane_h)
    pdf.rect(x0, y + lane_h + 2, w, lane_h)
    for i, node in enumerate(nodes):
        pdf.set_fill_color(*((120, 160, 220) if i % 2 == 0 else (160, 190, 235)))
        a, b = float(node.get("start", 0)), float(node.get("end", 0))
        pdf.rect(x(a), y, max(0.3, x(b) - x(a)), lane_h, style="FD")
    for check in report.get("checks", []):
        for f in check.get("findings", []):
            if f.get("start") is None:
                continue
            pdf.set_fill_color(*_SEV.get(f.get("severity"), (120, 120, 120)))
            a, b = float(f["start"]), float(f.get("end") or f["start"])
            pdf.rect(x(a), y + lane_h + 3, max(0.8, x(b) - x(a)), lane_h - 2, style="F")
    for k in range(7):
        t = duration * k / 6
        pdf.text(x(t) - 4, y + 2 * lane_h + 6, _clock(t)[:5])
    pdf.set_y(y + 2 * lane_h + 9)
    if not nodes:
        doc.line(tx("no_nodes"), 8.5)
        return
    for node in nodes:
        source = tx("node_inferred") if node.get("inferred") else tx("node_markers")
        title = node.get("title") or node.get("node_id")
        doc.line(
            tx(
                "node_line",
                span=_span(node.get("start"), node.get("end")),
                title=title,
                type=tx.label("node_type", node.get("type")),
                source=source,
                n=len(node.get("findings", [])),
            ),
            8.5,
        )


def _check(report: dict[str, Any], check_id: str) -> dict[str, Any] | None:
    return next((c for c in report.get("checks", []) if c.get("id") == check_id), None)


def _check_line(tx: _Text, report: dict[str, Any], check_id: str, absent: str) -> str:
    check = _check(report, check_id)
    if check is None:
        return absent
    status = tx.label("check_status", check.get("status", ""))
    return status + (tx("paren", text=tx.plain(check["reason"])) if check.get("reason") else "")


def _source(tx: _Text, item: dict[str, Any]) -> str:
    """Where a result comes from and when it was taken (the live session's proofs)."""
    if item.get("source") != "live_session":
        return ""
    at = str(item.get("captured_at") or "")[:19].replace("T", " ")
    when = tx("source_time", t=_clock(item.get("time"))) if item.get("time") is not None else ""
    return tx("source_live", at=at or "—", when=when)


def _biometrics(doc: _Doc, d: LitigationData) -> None:
    report = d.report
    identity = report.get("identity") or {}
    faces = identity.get("face_comparison")
    tx = doc.tx
    doc.heading(tx("h_biometrics"))
    liveness = next((c for c in report.get("checks", []) if "liveness" in str(c.get("id"))), None)
    voice = next((c for c in report.get("checks", []) if "voiceprint" in str(c.get("id"))), None)
    rows = [
        (
            tx("liveness"),
            _check_line(tx, report, liveness["id"], "") if liveness else tx("liveness_not_performed"),
        ),
        (tx("face_vs_id"), _check_line(tx, report, "identity_match", tx("not_checked"))),
        (tx("same_person"), _check_line(tx, report, "identity_consistency", tx("not_checked"))),
        (tx("id_card"), _check_line(tx, report, "id_card", tx("not_checked"))),
        (
            tx("voiceprint"),
            _check_line(tx, report, voice["id"], "") if voice else tx("no_voiceprint"),
        ),
    ]
    doc.rows(rows, label_w=52)
    live = identity.get("liveness")
    if live:
        sep = "、" if tx.language != "en" else ", "
        actions = sep.join(tx.label("liveness_action", a) for a in live.get("actions", []))
        result = (
            tx("passed")
            if live.get("passed")
            else f"{tx('not_passed')} {tx.plain(live.get('reason') or '')}".strip()
        )
        doc.line(tx("liveness_line", result=result, actions=actions or "—", source=_source(tx, live)), 8.5)
    matched = (faces or {}).get("live")
    if matched:
        dist = matched.get("distance")
        doc.line(
            tx(
                "face_live_line",
                distance=dist if dist is not None else "—",
                threshold=matched.get("threshold"),
                verdict=tx("match") if matched.get("passed") else tx("mismatch"),
                source=_source(tx, matched),
            ),
            8.5,
        )
    if faces and faces.get("samples"):
        reference = tx("ref_live") if faces.get("reference") == "live_session" else tx("ref_id_photo")
        doc.line(tx("faces_against", reference=reference), 8.5)
        doc.line(
            tx(
                "faces_summary",
                n=faces["compared"],
                median=faces["median_distance"],
                threshold=faces["threshold"],
            ),
            8.5,
        )
        for s in faces.get("samples", []):
            doc.line(
                tx(
                    "face_sample",
                    t=_clock(s.get("time")),
                    distance=s.get("distance"),
                    similarity=s.get("similarity"),
                    verdict=tx("match") if s.get("match") else tx("mismatch"),
                ),
                8.5,
            )
    for card in identity.get("id_card", []):
        if card.get("source") == "live_session" and card.get("side") == "back":
            state = tx("recognised") if card.get("passed") else tx("not_recognised")
            doc.line(tx("card_back", state=state, source=_source(tx, card)), 8.5)
            continue
        doc.line(
            tx(
                "card_line",
                side=tx.label("card_side", card.get("side")),
                t=_clock(card.get("time")),
                name=card.get("name") or tx("not_recognised"),
                number=card.get("id_number") or tx("not_recognised"),
                check=tx("check_ok") if card.get("check_digit_valid") else tx("check_bad"),
                source=_source(tx, card),
            ),
            8.5,
        )


def _images(doc: _Doc, d: LitigationData) -> None:
    report, pdf, tx = d.report, doc.pdf, doc.tx
    identity = report.get("identity") or {}
    items: list[tuple[str, str]] = []
    if report.get("portrait"):
        items.append((tx("portrait"), report["portrait"]))
    if (identity.get("liveness") or {}).get("frame"):
        items.append((tx("liveness_frame"), identity["liveness"]["frame"]))
    for card in identity.get("id_card", []):
        if card.get("frame"):
            live = tx("live_suffix") if card.get("source") == "live_session" else ""
            side = tx.label("card_side", card.get("side"))
            items.append((tx("card_image", side=side, t=_clock(card.get("time")), live=live), card["frame"]))
    for s in (identity.get("face_comparison") or {}).get("samples", []):
        if s.get("frame"):
            items.append((tx("face_image", t=_clock(s.get("time")), distance=s.get("distance")), s["frame"]))
    items += [(tx("key_frame", t=_clock(k.get("time"))), k.get("frame")) for k in report.get("keyframes", [])]
    evidence = [
        (f"{tx.check(c)} {_clock(f['evidence'].get('frame_time'))}", f["evidence"].get("frame"))
        for c in report.get("checks", [])
        for f in c.get("findings", [])
        if f.get("evidence", {}).get("frame")
    ]
    items += evidence[:12]
    images = [(label, d.images[ref]) for label, ref in items if ref in d.images]
    doc.heading(tx("h_images"))
    if d.masked and identity.get("id_card"):
        doc.line(tx("card_images_unmasked_only"), 8.5)
    if not images:
        doc.line(tx("none"), 8.5)
        return
    image_grid(pdf, images, left=_LEFT, bottom_margin=18, label_size=6.5, label_chars=44)


def _findings(doc: _Doc, d: LitigationData) -> None:
    tx = doc.tx
    doc.heading(tx("h_findings"))
    rows = [(c, f) for c in d.report.get("checks", []) for f in c.get("findings", [])]
    if not rows:
        doc.line(tx("no_findings"), 8.5)
    for check, f in rows:
        sev = str(f.get("severity"))
        doc.pdf.set_text_color(*_SEV.get(sev, (0, 0, 0)))
        where = _span(f.get("start"), f.get("end")) if f.get("start") is not None else tx("whole_file")
        node = "  " + tx("node", node=f["node_id"]) if f.get("node_id") else ""
        doc.line(
            tx(
                "finding_line",
                where=where,
                severity=tx.label("severity", sev),
                check=tx.check(check),
                node=node,
                text=tx.finding(f),
            ),
            8.5,
        )
        doc.pdf.set_text_color(0, 0, 0)
        quote = (f.get("evidence") or {}).get("quote")
        if quote:
            doc.line(f"    「{quote}」", 8)


def _checks(doc: _Doc, d: LitigationData) -> None:
    tx = doc.tx
    doc.heading(tx("h_checks"))
    for c in d.report.get("checks", []):
        status = tx.label("check_status", c.get("status", ""))
        reason = f" — {tx.plain(c['reason'])}" if c.get("reason") else ""
        doc.line(tx("check_line", check=tx.check(c), status=status, reason=reason), 8.5)


def _transcript(doc: _Doc, d: LitigationData) -> None:
    doc.heading(doc.tx("h_transcript"))
    segments = d.report.get("transcript", [])
    if not segments:
        doc.line(doc.tx("no_transcript"), 8.5)
    for s in segments:
        doc.line(f"[{_clock(s.get('start'))}–{_clock(s.get('end'))}] {s.get('text')}", 8.5)


def _hashes(doc: _Doc, d: LitigationData) -> None:
    doc.heading(doc.tx("h_hashes"))
    for e in d.ledger.events:
        p = e.payload
        if isinstance(p.get("sha256"), str):
            doc.line(doc.tx("hash_line", name=p.get("name"), size=p.get("size"), seq=e.seq), 8)
            doc.line(f"    {p['sha256']}", 7.5, 4)


def _ledger(doc: _Doc, d: LitigationData) -> None:
    cp = d.ledger.checkpoint
    payload = cp.payload
    tx = doc.tx
    doc.heading(tx("h_ledger"))
    doc.line(tx("ledger_intro"), 8, 4.5)
    for e in d.ledger.events:
        kind = tx.label("ledger_kind", e.kind)
        what = e.payload.get("name") or e.payload.get("status") or ""
        doc.line(f"#{e.seq}  {e.at}  {kind} {what}", 8, 4.5)
        doc.line(f"    hash {e.hash}", 7, 3.8)
    doc.rows(
        [
            (tx("subject_root"), d.ledger.subject_root),
            (tx("checkpoint_seq"), str(payload.get("seq"))),
            (tx("checkpoint_at"), str(payload.get("at"))),
            (tx("head_hash"), str(payload.get("head_hash"))),
            (tx("ledger_root"), str(payload.get("merkle_root"))),
            (tx("algorithm"), f"{payload.get('algorithm')} · key id {payload.get('key_id')}"),
            (tx("checkpoint_signature"), cp.signature),
        ],
        label_w=58,
    )
    doc.line(tx("public_key"), 8)
    doc.line(cp.public_key.strip(), 7, 3.8)


def _signature(doc: _Doc, d: LitigationData) -> None:
    c = d.certificate
    tx = doc.tx
    doc.heading(tx("h_signature"))
    doc.rows(
        [
            (tx("certificate"), c.subject),
            (tx("fingerprint"), c.sha256),
            (tx("valid_until"), c.not_after.isoformat(timespec="seconds")),
            (tx("time_stamp"), tx("tsa", url=d.tsa_url) if d.tsa_url else tx("no_tsa")),
        ],
        label_w=48,
    )
    doc.line(tx("signature_note"), 8, 4.5)
