"""The Excel format of question banks, draw rules and script templates: sheets, columns, values.

One workbook, three sheets (any may be left out; other sheets such as 「说明」 are ignored):

- 「题库」 questions: 题库 (bank = business type code), 题库名称, 题目编号, 题目, 标准答案 (``是｜否``),
  同义词 (``是:是的,对;否:不是``), 难度 (1–5), 启用 (是/否)
- 「抽题规则」 draw rules: 题库, 风险等级 (R1–R5), 抽题数量, 最低难度, 最高难度
- 「话术模板」 script templates: 业务类型, 节点类型 (key or Chinese name), 标题, 话术

Headers are matched loosely (English names too, case, spaces, ``*`` and a bracketed remark are
ignored). docs/question-banks.md shows the format with an example.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from dualrec.core.flow import NODE_TYPES

__all__ = [
    "QUESTION_COLUMNS",
    "RULE_COLUMNS",
    "SHEETS",
    "SHEET_NOTES",
    "SHEET_QUESTIONS",
    "SHEET_RULES",
    "SHEET_TEMPLATES",
    "TEMPLATE_COLUMNS",
    "CellError",
    "Column",
    "format_answers",
    "node_type_key",
    "node_type_label",
    "normalize_header",
    "parse_answers",
    "parse_flag",
    "parse_int",
    "parse_text",
    "sheet_kind",
]

SHEET_QUESTIONS = "题库"
SHEET_RULES = "抽题规则"
SHEET_TEMPLATES = "话术模板"
SHEET_NOTES = "说明"


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # what export and the template write
    aliases: tuple[str, ...]
    required: bool
    note_zh: str
    note_en: str
    width: int = 14


QUESTION_COLUMNS: tuple[Column, ...] = (
    Column(
        "bank",
        "题库",
        ("题库/业务类型", "业务类型", "题库编号", "bank", "business type"),
        True,
        "题库编号，即业务类型编码（字母、数字、_、-）",
        "bank code = business type code",
    ),
    Column(
        "bank_name",
        "题库名称",
        ("bank name",),
        False,
        "新建题库时的名称；留空则用编号",
        "bank name (new banks; blank: the code)",
        18,
    ),
    Column(
        "code",
        "题目编号",
        ("编号", "code", "question code"),
        True,
        "同一题库内唯一；请将此列设为文本格式",
        "unique within the bank; format the column as text",
    ),
    Column(
        "text",
        "题目",
        ("题目内容", "问题", "text", "question"),
        True,
        "向客户提出的问题",
        "the question put to the customer",
        48,
    ),
    Column(
        "answers",
        "标准答案",
        ("答案", "answers", "expected answers"),
        True,
        "用 | 或 ｜ 分隔多个答案，如 是｜否",
        "expected answers separated by | , e.g. 是|否",
        18,
    ),
    Column(
        "synonyms",
        "同义词",
        ("synonyms",),
        False,
        "答案:同义词1,同义词2；多个答案用 ; 分隔，如 是:是的,对;否:不是",
        "answer:synonym1,synonym2; answers separated by ;",
        32,
    ),
    Column("difficulty", "难度", ("difficulty",), False, "1–5 的整数，默认 1", "integer 1–5, default 1", 8),
    Column(
        "enabled",
        "启用",
        ("是否启用", "enabled"),
        False,
        "是/否，默认 是；含敏感词的题目导入后为停用",
        "yes/no, default yes; a text with sensitive words is imported disabled",
        8,
    ),
)
RULE_COLUMNS: tuple[Column, ...] = (
    Column(
        "bank",
        "题库",
        ("题库/业务类型", "业务类型", "题库编号", "bank", "business type"),
        True,
        "题库编号；表中出现的题库，其规则整体替换为表中各行",
        "bank code; a bank listed here gets exactly these rules",
    ),
    Column("bank_name", "题库名称", ("bank name",), False, "新建题库时的名称", "bank name (new banks)", 18),
    Column("risk_level", "风险等级", ("risk level", "risk"), True, "R1–R5", "R1–R5", 10),
    Column("count", "抽题数量", ("数量", "题数", "count"), True, "0–20 的整数", "integer 0–20", 10),
    Column("min_difficulty", "最低难度", ("min difficulty",), False, "1–5，默认 1", "1–5, default 1", 10),
    Column("max_difficulty", "最高难度", ("max difficulty",), False, "1–5，默认 5", "1–5, default 5", 10),
)
TEMPLATE_COLUMNS: tuple[Column, ...] = (
    Column(
        "business_type", "业务类型", ("business type", "bank"), True, "业务类型编码", "business type code"
    ),
    Column(
        "node_type",
        "节点类型",
        ("node type", "node"),
        True,
        "身份核实、业务介绍及风险告知、反欺诈提问、意愿确认、文件展示、文件签署、结束录制（或英文键名）",
        "node type: its Chinese name or key (identity, risk_disclosure, qa, …)",
        22,
    ),
    Column(
        "title",
        "标题",
        ("title",),
        True,
        "同一业务类型和节点类型内唯一",
        "unique per business and node type",
        24,
    ),
    Column(
        "text",
        "话术",
        ("话术内容", "text", "script"),
        True,
        "坐席或 TTS 朗读的话术",
        "the script read out",
        60,
    ),
)

#: sheet kind -> (its name, the names accepted for it, its columns)
SHEETS: dict[str, tuple[str, tuple[str, ...], tuple[Column, ...]]] = {
    "questions": (SHEET_QUESTIONS, ("题目", "questions", "question bank"), QUESTION_COLUMNS),
    "rules": (SHEET_RULES, ("draw rules", "rules"), RULE_COLUMNS),
    "templates": (SHEET_TEMPLATES, ("script templates", "templates", "scripts"), TEMPLATE_COLUMNS),
}

_REMARK = re.compile(r"[（(].*[)）]$")
_SPACES = re.compile(r"[\s_*]+")


def normalize_header(value: Any) -> str:
    text = "" if value is None else str(value)
    text = _REMARK.sub("", text.strip())
    return _SPACES.sub("", text).lower()


def sheet_kind(title: str) -> str | None:
    wanted = normalize_header(title)
    for kind, (name, aliases, _) in SHEETS.items():
        if wanted in {normalize_header(n) for n in (name, *aliases)}:
            return kind
    return None


class CellError(ValueError):
    """A cell value of the wrong kind; the message is "中文 / English"."""


def parse_text(value: Any) -> str:
    """Text from a cell: strings stripped, whole numbers without ".0"; dates are refused."""
    if value is None:
        return ""
    if isinstance(value, bool):
        raise CellError("应为文本，实为逻辑值 / expected text, got TRUE/FALSE")
    if isinstance(value, datetime | date | time):
        raise CellError(
            "应为文本，Excel 把它当成了日期；请将该列设为文本格式 / expected text, Excel made it a date"
        )
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def parse_int(value: Any, default: int) -> int:
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    if isinstance(value, bool):
        raise CellError("应为整数 / expected a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"[+-]?\d{1,9}", value.strip()):
        return int(value.strip())
    raise CellError(f"应为整数，实为 {str(value)[:20]!r} / expected a whole number, got {str(value)[:20]!r}")


_YES = {"是", "启用", "y", "yes", "true", "1", "√", "✓"}
_NO = {"否", "停用", "禁用", "n", "no", "false", "0", "×"}


def parse_flag(value: Any, default: bool) -> bool:
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if word in _YES:
        return True
    if word in _NO:
        return False
    raise CellError(f"应为 是 或 否，实为 {str(value)[:20]!r} / expected yes or no")


_ANSWER_SPLIT = re.compile(r"[|｜\n]")
_ENTRY_SPLIT = re.compile(r"[;；\n]")
_SYNONYM_SPLIT = re.compile(r"[,，、]")


def parse_answers(answers: str, synonyms: str) -> list[tuple[str, tuple[str, ...]]]:
    """``是｜否`` and ``是:是的,对;否:不是`` → [(是, (是的, 对)), (否, (不是,))]."""
    texts = [a.strip() for a in _ANSWER_SPLIT.split(answers) if a.strip()]
    extra: dict[str, tuple[str, ...]] = {}
    for entry in _ENTRY_SPLIT.split(synonyms):
        if not entry.strip():
            continue
        answer, sep, rest = entry.replace("：", ":").partition(":")
        answer = answer.strip()
        if not sep or not answer:
            raise CellError(
                f"同义词应写成 答案:同义词1,同义词2，实为 {entry.strip()[:30]!r} / "
                "synonyms are written answer:synonym1,synonym2"
            )
        if answer not in texts:
            raise CellError(
                f"同义词中的答案「{answer}」不在标准答案中 / {answer!r} is not an expected answer"
            )
        if answer in extra:
            raise CellError(f"答案「{answer}」的同义词写了两次 / synonyms of {answer!r} given twice")
        extra[answer] = tuple(s.strip() for s in _SYNONYM_SPLIT.split(rest) if s.strip())
    return [(t, extra.get(t, ())) for t in texts]


def format_answers(answers: list[tuple[str, tuple[str, ...]]]) -> tuple[str, str]:
    """The inverse of ``parse_answers``."""
    return "|".join(t for t, _ in answers), ";".join(f"{t}:{','.join(s)}" for t, s in answers if s)


#: short names operators write besides the full ones of core.flow.NODE_TYPES
NODE_TYPE_ALIASES: dict[str, tuple[str, ...]] = {
    "identity": ("身份验证", "身份核验", "身份确认"),
    "risk_disclosure": ("风险告知", "风险揭示", "业务介绍"),
    "qa": ("问答", "反欺诈", "反欺诈问答", "提问"),
    "willingness": ("意愿", "意愿核实"),
    "document_display": ("文件出示", "展示文件"),
    "signing": ("签署", "签字"),
    "end": ("结束",),
}


def node_type_key(value: str) -> str | None:
    """``qa``, ``反欺诈提问``, ``问答`` or ``Anti-fraud questions`` → ``qa``."""
    wanted = normalize_header(value)
    for key, (zh, en) in NODE_TYPES.items():
        names = (key, zh, en, *NODE_TYPE_ALIASES.get(key, ()))
        if wanted in {normalize_header(n) for n in names}:
            return key
    return None


def node_type_label(key: str) -> str:
    return NODE_TYPES[key][0] if key in NODE_TYPES else key
