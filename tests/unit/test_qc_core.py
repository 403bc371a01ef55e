"""Pure QC domain: verdict table, GB 11643, ID card OCR parsing, flow parsing, sensitive words."""

from __future__ import annotations

import pytest

from dualrec.core.flow import parse_flow, parse_markers
from dualrec.core.idcard import gb11643_check_digit, is_valid_id_number, parse_id_card
from dualrec.core.qc import CheckResult, CheckStatus, Finding, Severity, Verdict, decide_verdict
from dualrec.core.sensitive_words import DEFAULT_SENSITIVE_WORDS, find_words, parse_word_list
from dualrec.errors import InvalidInputError


def _res(check_id: str, *sevs: Severity, status: CheckStatus | None = None) -> CheckResult:
    findings = tuple(Finding(check_id, s, f"{s.value} thing") for s in sevs)
    st = status or (CheckStatus.FAILED if findings else CheckStatus.PASSED)
    return CheckResult(
        check_id, st, findings, reason="why" if st in (CheckStatus.NOT_RUN, CheckStatus.ERROR) else None
    )


@pytest.mark.parametrize(
    ("results", "verdict"),
    [
        ([_res("a"), _res("b")], Verdict.PASS),
        ([_res("a"), _res("b", Severity.INFO)], Verdict.PASS),
        ([_res("a", Severity.MINOR)], Verdict.REVIEW),
        ([_res("a", Severity.MAJOR)], Verdict.REVIEW),
        ([_res("a", Severity.MAJOR), _res("b", Severity.MAJOR), _res("c", Severity.MAJOR)], Verdict.FAIL),
        ([_res("a", Severity.CRITICAL)], Verdict.FAIL),
        ([_res("a", status=CheckStatus.ERROR)], Verdict.REVIEW),
        ([_res("crit", status=CheckStatus.NOT_RUN)], Verdict.REVIEW),
        ([_res("minor", status=CheckStatus.NOT_RUN)], Verdict.PASS),
    ],
)
def test_verdict_table(results: list[CheckResult], verdict: Verdict) -> None:
    summary = decide_verdict(results, check_severity={"crit": Severity.CRITICAL, "minor": Severity.MINOR})
    assert summary.verdict is verdict
    assert (summary.reasons == ()) == (verdict is Verdict.PASS)


def test_risk_score_grows_with_severity_and_is_capped() -> None:
    low = decide_verdict([_res("a", Severity.MINOR)]).risk_score
    high = decide_verdict([_res("a", Severity.CRITICAL)]).risk_score
    many = decide_verdict([_res(str(i), Severity.CRITICAL) for i in range(9)]).risk_score
    assert 0 < low < high <= many == 100


@pytest.mark.parametrize(
    ("first17", "digit"),
    [("11010519491231002", "X"), ("44030419900101001", "1"), ("11010119900307451", "4")],
)
def test_gb11643_check_digit(first17: str, digit: str) -> None:
    assert gb11643_check_digit(first17) == digit
    assert is_valid_id_number(first17 + digit)
    wrong = "0" if digit != "0" else "1"
    assert not is_valid_id_number(first17 + wrong)


def test_invalid_shapes_are_not_valid_numbers() -> None:
    assert not is_valid_id_number("1234")
    assert not is_valid_id_number("01010519491231002X")  # cannot start with 0
    assert is_valid_id_number("11010519491231002x")
    with pytest.raises(ValueError):
        gb11643_check_digit("12345")


def test_parse_front_of_card_from_ocr_lines() -> None:
    lines = [
        "姓名 张三",
        "性别男 民族汉",
        "出生1949年12月31日",
        "住址北京市朝阳区",
        "某某街道1号",
        "公民身份号码 11010519491231002X",
    ]
    f = parse_id_card(lines)
    assert (f.name, f.sex, f.ethnicity, f.birth) == ("张三", "男", "汉", "1949-12-31")
    assert f.address == "北京市朝阳区某某街道1号"
    assert f.id_number == "11010519491231002X" and f.id_number_valid and f.side == "front"


def test_parse_back_of_card_and_ocr_lookalikes() -> None:
    back = parse_id_card(
        ["中华人民共和国", "居民身份证", "签发机关 北京市公安局朝阳分局", "有效期限2015.01.01-2035.01.01"]
    )
    assert back.side == "back" and back.authority == "北京市公安局朝阳分局" and back.id_number is None
    # OCR read the letter O for a zero: still recognised, and the birth date comes from the number
    f = parse_id_card(["11O10519491231002X"])
    assert f.id_number == "11010519491231002X" and f.birth == "1949-12-31"


def test_parse_flow_and_markers() -> None:
    flow = parse_flow(
        {
            "id": "f1",
            "mode": "human",
            "nodes": [
                {"id": "n1", "type": "risk_disclosure", "required_statements": ["本产品不保本"]},
                {
                    "id": "n2",
                    "type": "qa",
                    "script": "您是否同意？",
                    "expected_answers": ["同意", {"text": "是", "synonyms": ["对"]}],
                },
            ],
        }
    )
    assert flow.mode == "human" and flow.node("n2") is not None
    n2 = flow.node("n2")
    assert n2 is not None and n2.needs_answer and n2.expected_answers[1].all_forms == ("是", "对")
    markers = parse_markers(
        {
            "markers": [
                {"node_id": "n2", "start": 5, "end": 9, "answers": ["是"]},
                {"node_id": "n1", "start": 0, "end": 5},
            ]
        },
        flow,
    )
    assert [m.node_id for m in markers] == ["n1", "n2"] and markers[1].answers == ("是",)


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({}, "flow.nodes"),
        ({"nodes": [{"id": "a", "type": "dance"}]}, "nodes[0].type"),
        ({"nodes": [{"type": "qa"}]}, "nodes[0].id"),
        ({"nodes": [{"id": "a", "type": "qa"}, {"id": "a", "type": "end"}]}, "flow.nodes"),
        ({"nodes": [{"id": "a", "type": "qa", "expected_answers": [3]}]}, "nodes[0].expected_answers[0]"),
    ],
)
def test_flow_errors_say_where(data: dict[str, object], where: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        parse_flow(data)
    assert err.value.details["where"] == where


def test_marker_errors() -> None:
    flow = parse_flow({"nodes": [{"id": "a", "type": "qa"}]})
    with pytest.raises(InvalidInputError):
        parse_markers([{"node_id": "a", "start": 5, "end": 2}], flow)
    with pytest.raises(InvalidInputError):
        parse_markers([{"node_id": "zz", "start": 0, "end": 2}], flow)


def test_sensitive_words_list_and_matching() -> None:
    assert {"保本", "稳赚", "无风险", "保证收益", "刚性兑付", "保底"} <= set(DEFAULT_SENSITIVE_WORDS)
    assert parse_word_list("# 注释\n保本\n\n 稳赚 \n保本\n") == ("保本", "稳赚")
    hits = find_words("这款产品保本保息，稳赚不赔", ["保本", "保本保息", "稳赚", "稳赚不赔"])
    assert [(h.word, h.index) for h in hits] == [("保本保息", 4), ("稳赚不赔", 9)]
