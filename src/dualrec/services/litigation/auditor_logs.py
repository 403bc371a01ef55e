"""Auditor exports (SPEC §2.3): the operation log and the litigation log — who exported, downloaded or
pushed which evidence — filtered by time range, business type and operator, as CSV or signed PDF.

Both read the hash-chained audit log. The litigation log is its ``evidence.*`` rows (signed litigation
reports, package downloads, archive pushes) plus catalogue and log exports. The business type of a row
is the one recorded with it, else the one of the recording or task it is about. Exports are audited
themselves (``audit.exported``).

They are scoped like the audit log (``services.common.audit``): the caller's branch subtree, or that of
``branch_id`` inside it. Rows are read in keyset pages, each page in its own short read-only unit of
work, so a CSV download that the client stops reading holds no transaction.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from dualrec.core.audit import AuditAction
from dualrec.core.identity import AuditEvent
from dualrec.db.repositories.audit import AuditFilter
from dualrec.db.uow import UnitOfWork, UnitOfWorkFactory
from dualrec.i18n import DEFAULT_LANGUAGE, render, split_legacy
from dualrec.services.common import audit
from dualrec.services.common.context import Actor
from dualrec.services.common.csv_cells import safe_cell
from dualrec.services.pdf.layout import require_font
from dualrec.services.pdf.pades import PdfSigner

__all__ = [
    "LITIGATION_ACTIONS",
    "LogFilter",
    "LogKind",
    "LogRow",
    "export_csv",
    "export_pdf",
    "preview",
    "record_export",
]

LogKind = Literal["operations", "litigation"]
# evidence leaving the system, and exports of the archive catalogue and of these logs
LITIGATION_ACTIONS = ("evidence.", "archive.exported", AuditAction.AUDIT_EXPORTED)
PDF_MAX_ROWS = 5000  # a longer log is exported as CSV (the PDF says so)

_ACTION_ZH = {
    AuditAction.EVIDENCE_LITIGATION_REPORT: "生成诉讼报告",
    AuditAction.EVIDENCE_PACKAGE_DOWNLOADED: "下载存证包",
    AuditAction.EVIDENCE_PUSH_REQUESTED: "申请推送档案系统",
    AuditAction.EVIDENCE_PUSHED: "推送档案系统成功",
    AuditAction.EVIDENCE_PUSH_FAILED: "推送档案系统失败",
    AuditAction.AUDIT_EXPORTED: "导出审计日志",
    "archive.exported": "导出档案目录",
    AuditAction.LOGIN: "登录",
    AuditAction.LOGIN_FAILED: "登录失败",
    AuditAction.LOGOUT: "退出",
    AuditAction.PERMISSION_DENIED: "越权访问被拒",
    AuditAction.RECORDING_UPLOADED: "上传录像",
    AuditAction.RECORDING_QC_FINISHED: "质检完成",
    AuditAction.TASK_CREATED: "创建任务",
    AuditAction.TASK_RESET: "重置任务",
    AuditAction.TASK_CANCELLED: "取消任务",
    AuditAction.USER_CREATED: "创建用户",
    AuditAction.USER_UPDATED: "修改用户",
    AuditAction.USER_DELETED: "删除用户",
    AuditAction.FLOW_PUBLISHED: "发布流程",
}
COLUMNS = (
    ("id", "序号"),
    ("at", "时间"),
    ("operator", "操作人"),
    ("action", "操作"),
    ("action_zh", "操作（中文）"),
    ("target", "对象"),
    ("business_type", "业务类型"),
    ("outcome", "结果"),
    ("ip", "IP"),
    ("summary", "摘要"),
)


@dataclass(frozen=True)
class LogFilter:
    since: datetime | None = None
    until: datetime | None = None
    operator: str | None = None
    business_type: str | None = None
    branch_id: int | None = None  # that branch's subtree (inside the caller's)


@dataclass(frozen=True)
class LogRow:
    id: int
    at: datetime
    operator: str
    action: str
    action_zh: str
    target: str
    business_type: str
    outcome: str
    ip: str
    summary: str
    hash: str

    def values(self) -> list[str]:
        """The CSV cells: text cells escaped so that a spreadsheet never runs them as formulas."""
        return [
            safe_cell(str(getattr(self, key))) if key != "at" else self.at.isoformat() for key, _ in COLUMNS
        ]


def _summary(ev: AuditEvent) -> str:
    d = ev.details
    parts = []
    if "running_no" in d:
        parts.append(f"流水号 {d['running_no'] or '—'}")
    if "masked" in d:
        parts.append("脱敏" if d["masked"] else "未脱敏")
    for key in ("status_code", "attempt", "log", "format", "count", "error"):
        if d.get(key) not in (None, ""):
            parts.append(f"{key}={d[key]}")
    digest = d.get("sha256") or d.get("package_sha256")
    if isinstance(digest, str):
        parts.append(f"sha256={digest}")
    return "；".join(str(p) for p in parts)[:400]


class _BusinessTypes:
    """The business type of an audit row (recorded with it, else its recording's or task's), cached
    across the pages of one export."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], str] = {}

    def of(self, uow: UnitOfWork, ev: AuditEvent) -> str:
        recorded = ev.details.get("business_type")
        if isinstance(recorded, str):
            return recorded
        key = (ev.target_type, ev.target_id)
        if key not in self._cache:
            self._cache[key] = self._lookup(uow, *key)
        return self._cache[key]

    @staticmethod
    def _lookup(uow: UnitOfWork, target_type: str, target_id: str) -> str:
        if target_type == "recording":
            rec = uow.recordings.get(target_id)
            return rec.business_type if rec else ""
        if target_type == "task":
            task = uow.tasks.get(target_id)
            return task.business_type if task else ""
        return ""


def _scope(uows: UnitOfWorkFactory, actor: Actor, flt: LogFilter) -> AuditFilter:
    """The audit filter of ``flt`` within the caller's scope (an out-of-scope branch is a 404)."""
    with uows.read() as uow:
        base = AuditFilter(since=flt.since, until=flt.until, actor=flt.operator)
        return audit.scoped_filter(uow, actor, base, flt.branch_id)


def _pages(
    uows: UnitOfWorkFactory, scoped: AuditFilter, log: LogKind, flt: LogFilter
) -> Iterator[list[LogRow]]:
    """The log's rows, oldest first, a page at a time; no unit of work is open while a page is used."""
    types = _BusinessTypes()
    last_id = 0
    while True:
        with uows.read() as uow:
            events = uow.audit.page_after(scoped, after_id=last_id, limit=audit.EXPORT_PAGE)
            rows = [row for ev in events if (row := _row(uow, types, log, flt, ev)) is not None]
        yield rows
        if len(events) < audit.EXPORT_PAGE:
            return
        last_id = events[-1].id


def _row(
    uow: UnitOfWork, types: _BusinessTypes, log: LogKind, flt: LogFilter, ev: AuditEvent
) -> LogRow | None:
    if log == "litigation" and not ev.action.startswith(LITIGATION_ACTIONS):
        return None
    business_type = types.of(uow, ev)
    if flt.business_type and business_type != flt.business_type:
        return None
    return LogRow(
        id=ev.id,
        at=ev.at,
        operator=ev.actor,
        action=ev.action,
        action_zh=_ACTION_ZH.get(ev.action, ev.action),
        target=f"{ev.target_type}:{ev.target_id}" if ev.target_type else "",
        business_type=business_type,
        outcome=ev.outcome,
        ip=ev.ip,
        summary=_summary(ev),
        hash=ev.hash,
    )


def _all_rows(uows: UnitOfWorkFactory, actor: Actor, log: LogKind, flt: LogFilter) -> list[LogRow]:
    return [row for page in _pages(uows, _scope(uows, actor, flt), log, flt) for row in page]


def preview(
    uows: UnitOfWorkFactory, *, actor: Actor, log: LogKind, flt: LogFilter, page: int, page_size: int
) -> tuple[list[LogRow], int]:
    """One page, newest first, and the number of matching rows."""
    rows = _all_rows(uows, actor, log, flt)
    rows.reverse()
    start = (page - 1) * page_size
    return rows[start : start + page_size], len(rows)


def export_csv(uows: UnitOfWorkFactory, *, actor: Actor, log: LogKind, flt: LogFilter) -> Iterator[str]:
    """The log as CSV (UTF-8 with BOM for Excel), oldest first, each row with its audit-chain hash.
    The scope is checked now; the rows are read while streaming, a page per short unit of work."""
    return _csv(uows, _scope(uows, actor, flt), log, flt)


def _csv(uows: UnitOfWorkFactory, scoped: AuditFilter, log: LogKind, flt: LogFilter) -> Iterator[str]:
    buf = io.StringIO()
    writer = csv.writer(buf)
    buf.write("\ufeff")
    writer.writerow([*(zh for _, zh in COLUMNS), "哈希"])
    writer.writerow([*(key for key, _ in COLUMNS), "hash"])
    for rows in _pages(uows, scoped, log, flt):
        for row in rows:
            writer.writerow([*row.values(), row.hash])
        if buf.tell() > 64_000:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def _label(kind: str, value: str, language: str) -> str:
    """A value's display name in ``language`` (the value itself when the catalogue has none)."""
    key = f"label.{kind}.{value.replace('.', '_')}"
    shown = render(key, {}, language)
    return value if shown == key else shown


def _filter_text(flt: LogFilter, language: str) -> str:
    def at(value: datetime | None) -> str:
        return value.isoformat(timespec="seconds") if value else "—"

    every = render("report.audit.all", {}, language)
    branch = (
        render("report.audit.subtree", {"branch_id": flt.branch_id}, language) if flt.branch_id else every
    )
    return render(
        "report.audit.filter",
        {
            "since": at(flt.since),
            "until": at(flt.until),
            "business_type": _label("business_type", flt.business_type, language)
            if flt.business_type
            else every,
            "operator": flt.operator or every,
            "branch": branch,
        },
        language,
    )


def export_pdf(
    uows: UnitOfWorkFactory,
    *,
    actor: Actor,
    log: LogKind,
    flt: LogFilter,
    generated_by: str,
    signer: PdfSigner | None,
    language: str = DEFAULT_LANGUAGE,
) -> tuple[bytes, int]:
    """The log as an A4 landscape PDF (CJK) in one language, signed when a signer is given; returns
    (pdf, row count)."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    rows = _all_rows(uows, actor, log, flt)

    def tx(key: str, **params: Any) -> str:
        return render(f"report.audit.{key}", params, language)

    title = tx("title_operations") if log == "operations" else tx("title_litigation")
    pdf = FPDF(orientation="L", format="A4")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_font("cjk", "", str(require_font()))
    pdf.set_lang(language)
    pdf.set_title(title)
    pdf.add_page()
    pdf.set_font("cjk", size=15)
    pdf.cell(0, 9, tx("heading", title=title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=8.5)
    pdf.multi_cell(0, 5, _filter_text(flt, language), new_x="LMARGIN", new_y="NEXT")
    now = datetime.now(UTC).isoformat(timespec="seconds")
    pdf.multi_cell(0, 5, tx("generated", at=now, by=generated_by, n=len(rows)), new_x="LMARGIN", new_y="NEXT")
    if len(rows) > PDF_MAX_ROWS:
        pdf.multi_cell(0, 5, tx("first_rows_only", n=PDF_MAX_ROWS), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("cjk", size=7)
    widths = (12, 34, 24, 30, 46, 18, 12, 24, 67)
    heading = FontFace(emphasis="", fill_color=(235, 240, 248))
    with pdf.table(col_widths=widths, text_align="LEFT", line_height=4.2, headings_style=heading) as table:
        columns = ("id", "at", "operator", "action", "target", "business_type", "outcome", "ip", "summary")
        table.row([tx(f"col.{c}") for c in columns])
        for row in rows[:PDF_MAX_ROWS]:
            action = _label("audit_action", row.action, language)
            if action == row.action and language != "en":
                action = row.action_zh
            table.row(
                [
                    str(row.id),
                    row.at.isoformat(timespec="seconds"),
                    row.operator,
                    action,
                    row.target,
                    _label("business_type", row.business_type, language) if row.business_type else "—",
                    _label("outcome", row.outcome, language),
                    row.ip,
                    split_legacy(row.summary, language),
                ]
            )
    data = bytes(pdf.output())
    if signer is not None:
        data = signer.sign(data, reason=f"审计导出 / audit export: {title}")
    return data, len(rows)


def record_export(
    uows: UnitOfWorkFactory, *, actor: Actor, log: LogKind, fmt: str, flt: LogFilter, count: int | None
) -> None:
    details: dict[str, Any] = {
        "log": log,
        "format": fmt,
        "since": flt.since.isoformat() if flt.since else None,
        "until": flt.until.isoformat() if flt.until else None,
        "operator": flt.operator,
        "filter_business_type": flt.business_type,
        "filter_branch_id": flt.branch_id,
    }
    if count is not None:
        details["count"] = count
    audit.record_now(
        uows, actor=actor, action=AuditAction.AUDIT_EXPORTED, target_type="audit_log", details=details
    )
