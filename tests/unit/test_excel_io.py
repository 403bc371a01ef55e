"""Question-bank Excel import/export: broken workbooks give precise (sheet, row, column) errors and
change nothing; a 10 000-row workbook imports completely; export → import changes nothing."""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Callable
from typing import Any

import openpyxl
import pytest

from dualrec.bootstrap.container import Container
from dualrec.core.audit import AuditAction
from dualrec.core.identity import Principal
from dualrec.core.rbac import BUILTIN_ROLES
from dualrec.db.repositories.audit import AuditFilter
from dualrec.errors import InvalidInputError, PermissionDeniedError
from dualrec.services.common import audit
from dualrec.services.common.context import Actor, RequestMeta
from dualrec.services.question_banks import workbook_codec as excel_io
from dualrec.services.question_banks.workbook_codec import read_workbook, template_workbook
from dualrec.services.question_banks.workbooks import export_workbook, import_workbook

Q_HEADER = ["题库", "题库名称", "题目编号", "题目", "标准答案", "同义词", "难度", "启用"]
R_HEADER = ["题库", "风险等级", "抽题数量", "最低难度", "最高难度"]
T_HEADER = ["业务类型", "节点类型", "标题", "话术"]
GOOD_Q = [
    "wealth",
    "理财产品销售",
    "WM-001",
    "您是否本人自愿购买？",
    "是｜否",
    "是:是的,对;否：不是",
    1,
    "是",
]


def _actor(role: str = "admin") -> Actor:
    principal = Principal(
        kind="user",
        id=1,
        name=f"test-{role}",
        role=role,
        branch_id=1,
        branch_path="/1/",
        permissions=BUILTIN_ROLES[role].permissions,
    )
    return Actor(principal=principal, meta=RequestMeta())


def xlsx(sheets: dict[str, list[list[Any]]]) -> bytes:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for i, row in enumerate(rows, start=1):
            for j, value in enumerate(row, start=1):
                if value is not None:
                    cell = ws.cell(row=i, column=j, value=value)
                    if isinstance(value, str):
                        cell.data_type = "s"  # "=1+1 …" is text typed by an operator, not a formula
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def snapshot(container: Container) -> tuple[Any, ...]:
    with container.uows() as uow:
        banks = uow.questions.banks()
        return (
            [(b.code, b.name, b.rules) for b in banks],
            [uow.questions.questions(b.code) for b in banks],
            [(t.business_type, t.node_type, t.title, t.text) for t in uow.questions.templates()],
        )


def errors_of(exc: pytest.ExceptionInfo[InvalidInputError]) -> list[tuple[str, int, str]]:
    return [(e["sheet"], e["row"], e["column"]) for e in exc.value.details["row_errors"]]


# ------------------------------------------------------------------------------ broken workbooks

BROKEN: dict[str, tuple[dict[str, list[list[Any]]], list[tuple[str, int, str]], str]] = {
    # case: (sheets, expected (sheet, row, column) errors, a word the first problem mentions)
    "missing required columns": (
        {"题库": [["题库", "题目", "难度"], ["wealth", "问题", 1]]},
        [("题库", 1, "")],
        "题目编号、标准答案",
    ),
    "difficulty is text": (
        {"题库": [Q_HEADER, GOOD_Q, ["wealth", "", "WM-002", "问题", "是", "", "hard", "是"]]},
        [("题库", 3, "G")],
        "hard",
    ),
    "difficulty out of range": (
        {"题库": [Q_HEADER, ["wealth", "", "WM-002", "问题", "是", "", 9, ""]]},
        [("题库", 2, "G")],
        "1–5",
    ),
    "enabled is not yes/no": (
        {"题库": [Q_HEADER, ["wealth", "", "WM-002", "问题", "是", "", 1, "maybe"]]},
        [("题库", 2, "H")],
        "是 或 否",
    ),
    "required cell blank": (
        {"题库": [Q_HEADER, ["wealth", "", "WM-002", "问题", None, "", 1, "是"]]},
        [("题库", 2, "E")],
        "必填",
    ),
    "duplicate code after empty rows": (
        {"题库": [Q_HEADER, GOOD_Q, [], [None, "  "], GOOD_Q]},
        [("题库", 5, "C")],
        "第 2 行",
    ),
    "synonym of an unknown answer": (
        {"题库": [Q_HEADER, ["wealth", "", "WM-002", "问题", "是|否", "可能:也许", 1, ""]]},
        [("题库", 2, "F")],
        "可能",
    ),
    "answer containing a separator": (
        {"题库": [Q_HEADER, ["wealth", "", "WM-002", "问题", "是", "是:对，是的,好:的", 1, ""]]},
        [("题库", 2, "F")],
        "答案",
    ),
    "bad bank code": (
        {"题库": [Q_HEADER, ["理财", "", "WM-002", "问题", "是", "", 1, ""]]},
        [("题库", 2, "A")],
        "编号",
    ),
    "a code Excel made a date": (
        {
            "题库": [
                Q_HEADER,
                ["wealth", "", __import__("datetime").datetime(2024, 1, 2), "问题", "是", "", 1, ""],
            ]
        },
        [("题库", 2, "C")],
        "日期",
    ),
    "two names for one bank": (
        {"题库": [Q_HEADER, GOOD_Q, ["wealth", "别的名称", "WM-002", "问题", "是", "", 1, ""]]},
        [("题库", 3, "B")],
        "不一致",
    ),
    "negative count": (
        {"抽题规则": [R_HEADER, ["wealth", "R4", -1, 1, 5]]},
        [("抽题规则", 2, "C")],
        "-1",
    ),
    "count is text": (
        {"抽题规则": [R_HEADER, ["wealth", "R4", "three", 1, 5]]},
        [("抽题规则", 2, "C")],
        "three",
    ),
    "unknown risk level": (
        {"抽题规则": [R_HEADER, ["wealth", "R6", 3, 1, 5]]},
        [("抽题规则", 2, "B")],
        "R6",
    ),
    "min difficulty above max": (
        {"抽题规则": [R_HEADER, ["wealth", "R4", 3, 4, 2]]},
        [("抽题规则", 2, "E")],
        "最高难度",
    ),
    "duplicate risk level": (
        {"抽题规则": [R_HEADER, ["wealth", "R4", 3, 1, 5], ["wealth", "r4", 2, 1, 5]]},
        [("抽题规则", 3, "B")],
        "第 2 行",
    ),
    "unknown node type": (
        {"话术模板": [T_HEADER, ["wealth", "闲聊", "标题", "话术"]]},
        [("话术模板", 2, "B")],
        "闲聊",
    ),
    "duplicate template": (
        {
            "话术模板": [
                T_HEADER,
                ["wealth", "qa", "标题", "话术"],
                ["wealth", "反欺诈提问", "标题", "另一段"],
            ]
        },
        [("话术模板", 3, "C")],
        "第 2 行",
    ),
    "header only in a second sheet, errors in both": (
        {
            "题库": [Q_HEADER, ["wealth", "", "WM-002", "问题", "是", "", "难", ""]],
            "抽题规则": [R_HEADER, ["wealth", "R9", 1, 1, 5]],
        },
        [("题库", 2, "G"), ("抽题规则", 2, "B")],
        "难",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_rows_are_located_and_nothing_is_written(case: str, container: Container) -> None:
    sheets, expected, mentioned = BROKEN[case]
    before = snapshot(container)
    with pytest.raises(InvalidInputError) as exc:
        import_workbook(container.uows, actor=_actor(), data=xlsx(sheets))
    assert errors_of(exc) == expected
    assert mentioned in exc.value.details["row_errors"][0]["problem"]
    assert exc.value.details["error_count"] == len(expected)
    assert snapshot(container) == before


def test_one_bad_row_among_good_ones_imports_nothing(container: Container) -> None:
    rows = [Q_HEADER] + [["wealth", "", f"WM-{i:03}", f"问题{i}", "是|否", "", 1, ""] for i in range(50)]
    rows[30][6] = "hard"
    before = snapshot(container)
    with pytest.raises(InvalidInputError) as exc:
        import_workbook(container.uows, actor=_actor(), data=xlsx({"题库": rows}))
    assert errors_of(exc) == [("题库", 31, "G")]
    assert snapshot(container) == before


def _valid_xlsx() -> bytes:
    return xlsx({"题库": [Q_HEADER, GOOD_Q]})


def _truncated() -> bytes:
    data = _valid_xlsx()
    return data[: len(data) // 2]


def _docx_like() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<document/>")
    return buf.getvalue()


def _corrupt_member() -> bytes:
    """A zip whose directory is intact but whose worksheet bytes were damaged."""
    data = bytearray(_valid_xlsx())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for i in range(start + 5, start + 25):
        data[i] ^= 0xFF
    return bytes(data)


FILES: dict[str, tuple[Callable[[], bytes], str]] = {
    "random bytes": (lambda: bytes(range(256)) * 40, "not_xlsx"),
    "a CSV renamed .xlsx": (lambda: "题库,题目编号,题目\nwealth,WM-1,问题\n".encode(), "not_xlsx"),
    "a legacy .xls": (lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2000), "legacy_xls"),
    "a truncated workbook": (_truncated, "not_xlsx"),
    "a damaged sheet inside": (_corrupt_member, "not_xlsx"),
    "a zip that is not a workbook": (_docx_like, "not_xlsx"),
    "no known sheet": (lambda: xlsx({"Sheet1": [["a", "b"], [1, 2]]}), "no_sheets"),
}


@pytest.mark.parametrize("case", sorted(FILES))
def test_files_that_are_no_workbook_give_one_clear_error(case: str, container: Container) -> None:
    make, reason = FILES[case]
    before = snapshot(container)
    with pytest.raises(InvalidInputError) as exc:
        import_workbook(container.uows, actor=_actor(), data=make())
    assert exc.value.details["file_error"] == reason
    assert "row_errors" not in exc.value.details
    assert " / " in exc.value.message  # zh / en
    assert snapshot(container) == before


def test_limits_on_rows_and_size(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [Q_HEADER] + [["wealth", "", f"Q{i}", "问题", "是", "", 1, ""] for i in range(11)]
    with pytest.raises(InvalidInputError) as exc:
        read_workbook(xlsx({"题库": rows}), max_rows=10)
    assert exc.value.details["file_error"] == "too_many_rows" and "10" in exc.value.message
    read_workbook(xlsx({"题库": rows[:11]}), max_rows=10)  # exactly at the limit is fine
    monkeypatch.setattr(excel_io, "MAX_BYTES", 1000)
    with pytest.raises(InvalidInputError) as exc:
        read_workbook(_valid_xlsx())
    assert exc.value.details["file_error"] == "too_large"


def test_empty_rows_and_english_headers(container: Container) -> None:
    header = ["Bank", "Code", "Question", "Answers", "Synonyms", "Difficulty", "Enabled"]
    data = xlsx(
        {
            "questions": [
                [],
                header,
                [],
                ["wealth", "E-1", "Are you buying it yourself?", "yes|no", "", 2, "yes"],
            ],
            "Rules": [["bank", "risk level", "count"], ["wealth", "r4", 1]],
        }
    )
    result = import_workbook(container.uows, actor=_actor(), data=data)
    assert (result.rows, result.questions_created, result.banks_created) == (2, 1, 1)
    with container.uows() as uow:
        bank = uow.questions.bank("wealth")
        assert bank and bank.name == "wealth" and [r.risk_level for r in bank.rules] == ["R4"]
        q = uow.questions.question("wealth", "E-1")
    assert q and q.difficulty == 2 and [a.text for a in q.answers] == ["yes", "no"]


# --------------------------------------------------------------------------------- good workbooks


@pytest.mark.slow
def test_ten_thousand_rows_import_completely(
    container: Container, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [Q_HEADER] + [
        [
            f"bank{i % 4}",
            f"题库{i % 4}",
            f"Q-{i:05}",
            f"第 {i} 题：您是否了解本产品的风险？",
            "是|否",
            "是:对",
            1 + i % 5,
            "",
        ]
        for i in range(10_000)
    ]
    data = xlsx({"题库": rows, "抽题规则": [R_HEADER] + [[f"bank{b}", "R5", 3, 2, 5] for b in range(4)]})
    start = time.perf_counter()
    result = import_workbook(container.uows, actor=_actor(), data=data)
    took = time.perf_counter() - start
    with capsys.disabled():
        print(f"\n10 000-row workbook ({len(data) / 1024:.0f} KiB) imported in {took:.2f} s")
    assert (result.questions_created, result.banks_created, result.rows) == (10_000, 4, 10_004)
    with container.uows() as uow:
        banks = uow.questions.banks()
    assert [b.question_count for b in banks] == [2500] * 4
    assert all(b.rules[0].count == 3 for b in banks)
    again = import_workbook(container.uows, actor=_actor(), data=data, dry_run=True)
    assert again.questions_unchanged == 10_000 and again.questions_created == 0


def _full_workbook() -> bytes:
    return xlsx(
        {
            "题库": [
                Q_HEADER,
                GOOD_Q,
                ["wealth", "", "WM-002", "=1+1 是否需要计算？", "是", "", 3, "否"],
                [
                    "insure",
                    "保险销售",
                    "IN-001",
                    "您是否知晓犹豫期？\n请回答",
                    "知晓｜不知晓",
                    "知晓:知道,清楚",
                    2,
                    "是",
                ],
            ],
            "抽题规则": [
                R_HEADER,
                ["wealth", "R4", 1, 1, 5],
                ["wealth", "R5", 2, 1, 3],
                ["insure", "R1", 0, 1, 5],
            ],
            "话术模板": [T_HEADER, ["wealth", "risk_disclosure", "风险告知", "本产品不承诺收益。"]],
        }
    )


def test_export_then_import_changes_nothing(container: Container) -> None:
    first = import_workbook(container.uows, actor=_actor(), data=_full_workbook())
    assert (first.questions_created, first.banks_created, first.templates_created) == (3, 2, 1)
    before = snapshot(container)
    exported = export_workbook(container.uows)
    again = import_workbook(container.uows, actor=_actor(), data=exported)
    assert (again.questions_created, again.questions_updated, again.questions_unchanged) == (0, 0, 3)
    assert (again.banks_created, again.banks_updated) == (0, 0)
    assert (again.templates_created, again.templates_updated, again.templates_unchanged) == (0, 0, 1)
    assert snapshot(container) == before
    with container.uows() as uow:
        q = uow.questions.question("wealth", "WM-002")
    assert q and q.text == "=1+1 是否需要计算？" and not q.enabled  # text, not a formula


def test_export_of_one_bank_and_reimport_into_an_empty_database(container: Container, tmp_path: Any) -> None:
    import_workbook(container.uows, actor=_actor(), data=_full_workbook())
    parsed, errors = read_workbook(export_workbook(container.uows, bank="insure"))
    assert not errors
    assert [q.code for _, q in parsed.questions] == ["IN-001"]
    assert parsed.bank_names == {"insure": "保险销售"} and list(parsed.rules) == ["insure"]
    assert parsed.templates == []


def test_upsert_updates_changed_rows_and_replaces_listed_rules(container: Container) -> None:
    import_workbook(container.uows, actor=_actor(), data=_full_workbook())
    changed = xlsx(
        {
            "题库": [Q_HEADER, [*GOOD_Q[:6], 4, "是"]],
            "抽题规则": [R_HEADER, ["wealth", "R3", 1, 1, 5]],
        }
    )
    result = import_workbook(container.uows, actor=_actor(), data=changed)
    assert (result.questions_updated, result.questions_created, result.banks_updated) == (1, 0, 1)
    with container.uows() as uow:
        wealth, insure = uow.questions.bank("wealth"), uow.questions.bank("insure")
        q = uow.questions.question("wealth", "WM-001")
        untouched = uow.questions.question("wealth", "WM-002")
    assert wealth and [r.risk_level for r in wealth.rules] == ["R3"]
    assert insure and [r.risk_level for r in insure.rules] == ["R1"]
    assert q and q.difficulty == 4 and untouched is not None


def test_dry_run_counts_but_writes_nothing(container: Container) -> None:
    before = snapshot(container)
    result = import_workbook(container.uows, actor=_actor(), data=_full_workbook(), dry_run=True)
    assert result.dry_run and result.questions_created == 3 and result.banks_created == 2
    assert snapshot(container) == before


def test_the_template_download_imports_as_is(container: Container) -> None:
    data = template_workbook()
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["题库", "抽题规则", "话术模板", "说明"]
    notes = [row[1] for row in wb["说明"].iter_rows(min_row=2, values_only=True) if row[1]]
    assert "同义词" in notes and "风险等级" in notes
    result = import_workbook(container.uows, actor=_actor(), data=data)
    assert (result.questions_created, result.banks_created, result.templates_created) == (1, 1, 1)


# ----------------------------------------------------------------------------------- text review


def test_a_question_with_a_sensitive_word_is_imported_disabled(container: Container) -> None:
    data = xlsx(
        {"题库": [Q_HEADER, ["wealth", "", "WM-009", "本产品保证收益，您是否购买？", "是", "", 1, "是"]]}
    )
    result = import_workbook(container.uows, actor=_actor(), data=data)
    assert result.held_for_review == 1
    entry = result.review[0]
    assert (entry["sheet"], entry["row"], entry["code"]) == ("题库", 2, "WM-009")
    assert entry["hits"] == [{"field": "text", "word": "保证收益", "index": 3}]
    with container.uows() as uow:
        q = uow.questions.question("wealth", "WM-009")
    assert q and not q.enabled


def test_override_needs_the_permission_and_is_audited(container: Container) -> None:
    data = xlsx(
        {"题库": [Q_HEADER, ["wealth", "", "WM-009", "本产品保证收益，您是否购买？", "是", "", 1, "是"]]}
    )
    before = snapshot(container)
    with pytest.raises(PermissionDeniedError):
        import_workbook(
            container.uows,
            actor=_actor("interviewer"),
            data=data,
            override=True,
            override_reason="合规已确认",
        )
    assert snapshot(container) == before
    with pytest.raises(InvalidInputError):
        import_workbook(container.uows, actor=_actor(), data=data, override=True, override_reason=" ")
    result = import_workbook(
        container.uows, actor=_actor(), data=data, override=True, override_reason="合规已确认"
    )
    assert result.held_for_review == 0
    imported, _ = audit.search(
        container.uows,
        actor=_actor(),
        flt=AuditFilter(action=AuditAction.QUESTIONS_IMPORTED),
        page=1,
        page_size=10,
    )
    assert imported[0].details["sha256"] == result.sha256 and imported[0].details["questions_created"] == 1
    with container.uows() as uow:
        q = uow.questions.question("wealth", "WM-009")
    assert q and q.enabled
    events, _ = audit.search(
        container.uows,
        actor=_actor(),
        flt=AuditFilter(action=AuditAction.FLOW_REVIEW_OVERRIDDEN),
        page=1,
        page_size=10,
    )
    assert events and events[0].details["reason"] == "合规已确认"
    assert events[0].details["questions"] == ["wealth/WM-009"]
