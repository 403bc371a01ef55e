"""Reading and writing the question-bank workbook (format: ``services.question_banks.workbook_format``).

``read_workbook`` streams the sheets (openpyxl read-only mode), checks every row and returns what
it found with every problem located as (sheet, row as Excel shows it, column); a file that is not
a workbook at all is one clear error. It never touches the database: the caller decides.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import openpyxl
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from dualrec.core.flow import AnswerOption
from dualrec.core.question_banks import ScriptTemplate, check_code, check_name, check_question, check_template
from dualrec.core.questions import MAX_DIFFICULTY, RISK_LEVELS, DrawRule, Question
from dualrec.errors import InvalidInputError
from dualrec.services.question_banks.workbook_format import (
    SHEET_NOTES,
    SHEETS,
    CellError,
    Column,
    format_answers,
    node_type_key,
    node_type_label,
    normalize_header,
    parse_answers,
    parse_flag,
    parse_int,
    parse_text,
    sheet_kind,
)

__all__ = [
    "MAX_BYTES",
    "MAX_ROWS",
    "XLSX_MEDIA_TYPE",
    "ParsedWorkbook",
    "RowError",
    "read_workbook",
    "template_workbook",
    "write_workbook",
]

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_BYTES = 20 * 1024 * 1024  # the upload
MAX_UNPACKED_BYTES = 400 * 1024 * 1024  # what the zip expands to (a zip bomb stops here)
MAX_ROWS = 50_000  # non-empty data rows, all sheets together
MAX_LISTED_ERRORS = 1000
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass(frozen=True)
class RowError:
    sheet: str
    row: int  # as Excel numbers it (the header is usually row 1)
    column: str  # letter, "" for the whole row or sheet
    header: str  # the column's header in the file (or its standard name when missing)
    problem: str  # "中文 / English"

    def as_dict(self) -> dict[str, Any]:
        return {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "header": self.header,
            "problem": self.problem,
        }


@dataclass
class ParsedWorkbook:
    questions: list[tuple[int, Question]] = field(default_factory=list)
    bank_names: dict[str, str] = field(default_factory=dict)
    rules: dict[str, list[DrawRule]] = field(default_factory=dict)
    templates: list[tuple[int, ScriptTemplate]] = field(default_factory=list)
    sheets: list[str] = field(default_factory=list)  # the kinds present
    rows: int = 0


def rejected(reason: str, message: str, **details: Any) -> InvalidInputError:
    return InvalidInputError(message, details={"file_error": reason, **details})


def _open(data: bytes) -> Any:
    if data[:8] == _OLE2:
        raise rejected(
            "legacy_xls",
            "这是旧版 .xls 文件，请在 Excel 中另存为 .xlsx 后再导入 / "
            "this is a legacy .xls file: save it as .xlsx in Excel and import that",
        )
    not_xlsx = rejected(
        "not_xlsx",
        "文件不是有效的 Excel 工作簿（.xlsx），可能是其他格式或已损坏 / "
        "the file is not a valid Excel workbook (.xlsx): another format, or damaged",
    )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
            unpacked = sum(i.file_size for i in zf.infolist())
            broken = zf.testzip()
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise not_xlsx from exc
    if broken is not None or "xl/workbook.xml" not in names:
        raise not_xlsx
    if unpacked > MAX_UNPACKED_BYTES:
        raise rejected("too_large", "工作簿解压后过大 / the workbook expands to too much data")
    try:
        return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on damaged parts
        raise not_xlsx from exc


def _stream(ws: Any) -> Iterator[tuple[Any, ...]]:
    ws.reset_dimensions()  # some writers record a wrong used range; read what is really there
    rows = ws.iter_rows(min_row=1, values_only=True)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except Exception as exc:  # a damaged sheet part
            raise rejected(
                "not_xlsx",
                f"工作表「{ws.title}」已损坏，无法读取 / the sheet {ws.title!r} is damaged",
            ) from exc
        yield row


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class _Sheet:
    """One sheet's header and the located errors of its rows."""

    def __init__(self, title: str, columns: tuple[Column, ...], errors: list[RowError]) -> None:
        self.title = title
        self.columns = columns
        self.errors = errors
        self.index: dict[str, int] = {}
        self.headers: dict[str, str] = {}
        self.row = 0

    def read_header(self, row_no: int, values: tuple[Any, ...]) -> bool:
        known = {normalize_header(n): c for c in self.columns for n in (c.header, *c.aliases)}
        for i, value in enumerate(values):
            col = known.get(normalize_header(value))
            if col is None:
                continue
            if col.key in self.index:
                self.error(row_no, i, f"重复的列「{value}」/ column {value!r} appears twice")
                continue
            self.index[col.key] = i
            self.headers[col.key] = str(value).strip()
        missing = [c for c in self.columns if c.required and c.key not in self.index]
        if missing:
            zh = "、".join(c.header for c in missing)
            en = ", ".join(c.key for c in missing)
            self.errors.append(
                RowError(self.title, row_no, "", zh, f"缺少必填列：{zh} / missing required columns: {en}")
            )
        return not missing

    def error(self, row_no: int, index: int | None, problem: str, header: str = "") -> None:
        column = get_column_letter(index + 1) if index is not None else ""
        self.errors.append(RowError(self.title, row_no, column, header, problem))

    def error_at(self, row_no: int, key: str, problem: str) -> None:
        header = self.headers.get(key, next((c.header for c in self.columns if c.key == key), key))
        self.error(row_no, self.index.get(key), problem, header)

    def raw(self, values: tuple[Any, ...], key: str) -> Any:
        i = self.index.get(key)
        return values[i] if i is not None and i < len(values) else None

    def required(self, row_no: int, values: tuple[Any, ...]) -> bool:
        """Reports every required cell left blank; True when there is none."""
        blank = [c for c in self.columns if c.required and _blank(self.raw(values, c.key))]
        for c in blank:
            self.error_at(row_no, c.key, f"「{self.headers.get(c.key, c.header)}」必填 / {c.key} is required")
        return not blank

    def text(self, row_no: int, values: tuple[Any, ...], key: str) -> str | None:
        try:
            return parse_text(self.raw(values, key))
        except CellError as exc:
            self.error_at(row_no, key, str(exc))
            return None

    def integer(self, row_no: int, values: tuple[Any, ...], key: str, default: int) -> int | None:
        try:
            return parse_int(self.raw(values, key), default)
        except CellError as exc:
            self.error_at(row_no, key, str(exc))
            return None


def read_workbook(data: bytes, *, max_rows: int = MAX_ROWS) -> tuple[ParsedWorkbook, list[RowError]]:
    """Everything in the workbook, and every problem found (the caller writes nothing if any)."""
    if len(data) > MAX_BYTES:
        raise rejected("too_large", _too_large_message(), max_bytes=MAX_BYTES)
    wb = _open(data)
    out = ParsedWorkbook()
    errors: list[RowError] = []
    try:
        for ws in wb.worksheets:
            kind = sheet_kind(ws.title)
            if kind is None:
                continue
            if kind in out.sheets:
                errors.append(
                    RowError(ws.title, 1, "", "", "同类工作表出现两次 / a second sheet of this kind")
                )
                continue
            out.sheets.append(kind)
            _read_sheet(ws, kind, out, errors, max_rows)
    finally:
        wb.close()
    if not out.sheets:
        names = "」「".join(name for name, _, _ in SHEETS.values())
        raise rejected(
            "no_sheets",
            f"工作簿中没有「{names}」工作表 / the workbook has none of the sheets {names}",
        )
    return out, errors


def _too_large_message() -> str:
    mib = MAX_BYTES // (1024 * 1024)
    return f"文件超过 {mib} MB 上限 / the file is larger than {mib} MB"


def _read_sheet(ws: Any, kind: str, out: ParsedWorkbook, errors: list[RowError], max_rows: int) -> None:
    sheet = _Sheet(ws.title, SHEETS[kind][2], errors)
    header_seen = usable = False
    seen: dict[tuple[str, ...], int] = {}
    physical = 0
    for row_no, values in enumerate(_stream(ws), start=1):
        physical += 1
        if physical > 10 * max_rows:
            raise rejected("too_many_rows", _too_many(max_rows), max_rows=max_rows)
        if all(_blank(v) for v in values):
            continue
        if not header_seen:
            header_seen = True
            usable = sheet.read_header(row_no, values)
            continue
        out.rows += 1
        if out.rows > max_rows:
            raise rejected("too_many_rows", _too_many(max_rows), max_rows=max_rows)
        if not usable:
            continue
        if kind == "questions":
            _question_row(sheet, row_no, values, out, seen)
        elif kind == "rules":
            _rule_row(sheet, row_no, values, out, seen)
        else:
            _template_row(sheet, row_no, values, out, seen)
    if not header_seen:
        errors.append(
            RowError(ws.title, 1, "", "", "工作表是空的，缺少表头 / the sheet is empty (no header row)")
        )


def _too_many(max_rows: int) -> str:
    return f"数据超过 {max_rows} 行，请拆分后分批导入 / more than {max_rows} rows: split the file"


def _bank_name(sheet: _Sheet, row_no: int, values: tuple[Any, ...], bank: str, out: ParsedWorkbook) -> None:
    name = sheet.text(row_no, values, "bank_name")
    if not name:
        return
    problems = check_name(name)
    if problems:
        sheet.error_at(row_no, "bank_name", problems[0].message)
    elif out.bank_names.setdefault(bank, name) != name:
        sheet.error_at(
            row_no,
            "bank_name",
            f"题库「{bank}」的名称前后不一致（先前为「{out.bank_names[bank]}」）/ "
            f"bank {bank!r} is given two different names",
        )


def _duplicate(
    sheet: _Sheet, row_no: int, key: tuple[str, ...], seen: dict[tuple[str, ...], int], col: str
) -> bool:
    first = seen.setdefault(key, row_no)
    if first != row_no:
        sheet.error_at(row_no, col, f"与第 {first} 行重复 / duplicate of row {first}")
        return True
    return False


def _question_row(
    sheet: _Sheet, row_no: int, values: tuple[Any, ...], out: ParsedWorkbook, seen: dict[tuple[str, ...], int]
) -> None:
    before = len(sheet.errors)
    bank, code = sheet.text(row_no, values, "bank"), sheet.text(row_no, values, "code")
    if bank and code:
        _duplicate(sheet, row_no, (bank, code), seen, "code")
    if not sheet.required(row_no, values):
        return
    text = sheet.text(row_no, values, "text")
    answers_text, synonyms_text = (
        sheet.text(row_no, values, "answers"),
        sheet.text(row_no, values, "synonyms"),
    )
    difficulty = sheet.integer(row_no, values, "difficulty", 1)
    try:
        enabled = parse_flag(sheet.raw(values, "enabled"), True)
    except CellError as exc:
        sheet.error_at(row_no, "enabled", str(exc))
        enabled = True
    answers: list[tuple[str, tuple[str, ...]]] = []
    if answers_text is not None and synonyms_text is not None:
        try:
            answers = parse_answers(answers_text, synonyms_text)
        except CellError as exc:
            sheet.error_at(row_no, "synonyms", str(exc))
    if bank is not None and not check_code(bank, "bank"):
        _bank_name(sheet, row_no, values, bank, out)
    if bank is None or code is None or text is None or difficulty is None:
        return
    q = Question(
        code=code,
        bank=bank,
        text=text,
        answers=tuple(AnswerOption(t, s) for t, s in answers),
        difficulty=difficulty,
        enabled=enabled,
    )
    problems = check_question(q) if answers or len(sheet.errors) == before else []
    for p in problems:
        sheet.error_at(row_no, p.field, p.message)
    if len(sheet.errors) == before:
        out.questions.append((row_no, q))


def _rule_row(
    sheet: _Sheet, row_no: int, values: tuple[Any, ...], out: ParsedWorkbook, seen: dict[tuple[str, ...], int]
) -> None:
    before = len(sheet.errors)
    bank = sheet.text(row_no, values, "bank")
    level = (sheet.text(row_no, values, "risk_level") or "").upper()
    if bank and level in RISK_LEVELS:
        _duplicate(sheet, row_no, (bank, level), seen, "risk_level")
    if not sheet.required(row_no, values):
        return
    if bank is not None:
        for p in check_code(bank, "bank"):
            sheet.error_at(row_no, "bank", p.message)
    if level not in RISK_LEVELS:
        sheet.error_at(
            row_no,
            "risk_level",
            f"风险等级应为 R1–R5，实为 {level[:20]!r} / risk level must be R1–R5, got {level[:20]!r}",
        )
    count = sheet.integer(row_no, values, "count", 0)
    if count is not None and not 0 <= count <= 20:
        sheet.error_at(
            row_no, "count", f"抽题数量须为 0–20 的整数，实为 {count} / count must be 0–20, got {count}"
        )
    lo = sheet.integer(row_no, values, "min_difficulty", 1)
    hi = sheet.integer(row_no, values, "max_difficulty", MAX_DIFFICULTY)
    for key, v in (("min_difficulty", lo), ("max_difficulty", hi)):
        if v is not None and not 1 <= v <= MAX_DIFFICULTY:
            sheet.error_at(row_no, key, f"难度须为 1–{MAX_DIFFICULTY} / difficulty is 1–{MAX_DIFFICULTY}")
    if lo is not None and hi is not None and lo > hi:
        sheet.error_at(row_no, "max_difficulty", "最高难度低于最低难度 / max difficulty is below min")
    if bank is not None and not check_code(bank, "bank"):
        _bank_name(sheet, row_no, values, bank, out)
    if len(sheet.errors) > before or bank is None or count is None or lo is None or hi is None:
        return
    out.rules.setdefault(bank, []).append(DrawRule(level, count, lo, hi))


def _template_row(
    sheet: _Sheet, row_no: int, values: tuple[Any, ...], out: ParsedWorkbook, seen: dict[tuple[str, ...], int]
) -> None:
    before = len(sheet.errors)
    bt, nt, title, text = (
        sheet.text(row_no, values, k) for k in ("business_type", "node_type", "title", "text")
    )
    key = node_type_key(nt) if nt else None
    if bt and key and title:
        _duplicate(sheet, row_no, (bt, key, title), seen, "title")
    if not sheet.required(row_no, values) or bt is None or nt is None or title is None or text is None:
        return
    t = ScriptTemplate(0, bt, key or nt, title, text)
    for p in check_template(t):
        sheet.error_at(row_no, p.field, p.message)
    if len(sheet.errors) == before:
        out.templates.append((row_no, t))


# ------------------------------------------------------------------------------------------ writing


def _cell(ws: Any, value: Any, *, bold: bool = False) -> Any:
    cell = WriteOnlyCell(ws, value)
    if isinstance(value, str):
        cell.data_type = "s"  # a text starting with "=" stays text, never a formula
    if bold:
        cell.font = Font(bold=True)
    return cell


def _sheet(wb: Any, kind: str, rows: Sequence[Sequence[Any]]) -> None:
    name, _, columns = SHEETS[kind]
    ws = wb.create_sheet(name)
    for i, c in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = c.width
    ws.freeze_panes = "A2"
    ws.append([_cell(ws, c.header, bold=True) for c in columns])
    for row in rows:
        ws.append([_cell(ws, v) for v in row])


def question_row(q: Question, bank_name: str) -> list[Any]:
    answers, synonyms = format_answers([(a.text, a.synonyms) for a in q.answers])
    return [q.bank, bank_name, q.code, q.text, answers, synonyms, q.difficulty, "是" if q.enabled else "否"]


def rule_row(bank: str, bank_name: str, r: DrawRule) -> list[Any]:
    return [bank, bank_name, r.risk_level, r.count, r.min_difficulty, r.max_difficulty]


def template_row(t: ScriptTemplate) -> list[Any]:
    return [t.business_type, node_type_label(t.node_type), t.title, t.text]


def write_workbook(
    questions: Sequence[list[Any]], rules: Sequence[list[Any]], templates: Sequence[list[Any]]
) -> bytes:
    """A workbook of the three sheets from rows made by ``question_row``/``rule_row``/``template_row``."""
    wb = openpyxl.Workbook(write_only=True)
    _sheet(wb, "questions", questions)
    _sheet(wb, "rules", rules)
    _sheet(wb, "templates", templates)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


_EXAMPLE_QUESTION = Question(
    code="WM-001",
    bank="wealth",
    text="您是否已阅读并理解本产品的风险揭示书？",
    answers=(AnswerOption("是", ("是的", "对", "理解")), AnswerOption("否", ("没有", "不理解"))),
    difficulty=2,
)


def template_workbook() -> bytes:
    """An empty workbook to fill in: the three sheets with one example row each, drop-down lists,
    and a 「说明」 sheet describing every column."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    examples = {
        "questions": question_row(_EXAMPLE_QUESTION, "理财产品销售"),
        "rules": rule_row("wealth", "理财产品销售", DrawRule("R4", 3, 1, 5)),
        "templates": template_row(
            ScriptTemplate(0, "wealth", "risk_disclosure", "风险告知", "本产品为非保本浮动收益型产品，…")
        ),
    }
    for kind, (name, _, columns) in SHEETS.items():
        ws = wb.create_sheet(name)
        ws.append([c.header for c in columns])
        ws.append(examples[kind])
        for i, c in enumerate(columns, start=1):
            ws.column_dimensions[get_column_letter(i)].width = c.width
            ws.cell(row=1, column=i).font = Font(bold=True)
        ws.freeze_panes = "A2"
        lists = {"enabled": '"是,否"', "risk_level": '"' + ",".join(RISK_LEVELS) + '"'}
        lists["difficulty"] = lists["min_difficulty"] = lists["max_difficulty"] = '"1,2,3,4,5"'
        for i, c in enumerate(columns, start=1):
            if c.key in lists:
                dv = DataValidation(type="list", formula1=lists[c.key], allow_blank=True)
                letter = get_column_letter(i)
                dv.add(f"{letter}2:{letter}{MAX_ROWS + 1}")
                ws.add_data_validation(dv)
            if c.key in ("code", "bank", "business_type"):
                for row in ws.iter_rows(min_row=2, max_row=2, min_col=i, max_col=i):
                    row[0].number_format = "@"
    notes = wb.create_sheet(SHEET_NOTES)
    notes.append(["工作表 / sheet", "列 / column", "必填 / required", "说明", "Notes"])
    for name, _, columns in SHEETS.values():
        for c in columns:
            notes.append([name, c.header, "是" if c.required else "否", c.note_zh, c.note_en])
    notes.append([])
    for line in _NOTES:
        notes.append([line])
    for letter, width in zip("ABCDE", (12, 12, 14, 60, 60), strict=True):
        notes.column_dimensions[letter].width = width
    for cell in notes[1]:
        cell.font = Font(bold=True)
    for row in notes.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


_NOTES = (
    "导入方式：按 题库+题目编号 新增或更新（upsert）；文件中没有的题目保持不变。/ "
    "Import upserts by bank + question code; questions not in the file are left as they are.",
    "抽题规则：表中出现的题库，其规则整体替换为表中各行；未出现的题库不变。/ "
    "A bank listed in 抽题规则 gets exactly the rules listed; other banks keep theirs.",
    "话术模板：按 业务类型+节点类型+标题 新增或更新。/ "
    "Templates upsert by business type + node type + title.",
    "任何一行有错误时不导入任何内容，错误报告给出工作表、行号、列和原因。/ "
    "If any row is wrong nothing is imported; the report names sheet, row, column and problem.",
    "题目含敏感词时以停用状态导入（不会被抽到），需有豁免权限的人员审核。/ "
    "A question containing a sensitive word is imported disabled (never drawn) until someone allowed "
    "to override the review approves it.",
    f"上限：{MAX_ROWS} 行、{MAX_BYTES // (1024 * 1024)} MB。空行会被跳过。仅支持 .xlsx。/ "
    f"Limits: {MAX_ROWS} rows, {MAX_BYTES // (1024 * 1024)} MB. Empty rows are skipped. .xlsx only.",
)
