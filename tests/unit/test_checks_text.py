"""Text checks: ASR-tolerant statement matching, answers, sensitive words, node inference."""

from __future__ import annotations

import pytest

from dualrec.checks.base import CheckContext
from dualrec.checks.builtin import answers, script_coverage, sensitive_words
from dualrec.checks.builtin.answers import classify
from dualrec.checks.catalog import default_thresholds
from dualrec.checks.textmatch import TimedText, align
from dualrec.core.flow import AnswerOption, Marker, parse_flow
from dualrec.core.qc import CheckStatus, Severity
from dualrec.core.sensitive_words import DEFAULT_SENSITIVE_WORDS
from dualrec.media.ports import TranscriptSegment as Seg
from dualrec.media.ports import Word
from dualrec.pipeline.nodes import infer_spans, spans_from_markers

TH = default_thresholds()


def ctx(transcript: list[Seg] | None, **kw: object) -> CheckContext:
    return CheckContext(
        path="x.mp4",
        transcript=None if transcript is None else tuple(transcript),
        sensitive_words=DEFAULT_SENSITIVE_WORDS,
        thresholds=TH,
        **kw,
    )  # type: ignore[arg-type]


def test_asr_homophone_errors_still_cover_the_statement() -> None:
    # real faster-whisper output for asr_example.wav: 达摩院 heard as 达摩运
    text = TimedText.from_segments([Seg(0.0, 5.5, "欢迎大家来体验达摩运推出的语音识别模型。")])
    m = align("欢迎大家来体验达摩院推出的语音识别模型", text)
    assert m.coverage >= 0.9 and m.start == pytest.approx(0.0) and m.end == pytest.approx(5.5)
    # near-homophones (zh/z, n/l, -ng/-n) are folded too
    text2 = TimedText.from_segments([Seg(0.0, 3.0, "投资有风线，请您仅慎选择")])
    assert align("投资有风险，请您谨慎选择", text2).coverage >= 0.8


def test_statement_times_come_from_word_timestamps() -> None:
    seg = Seg(
        10.0,
        20.0,
        "前面的话本产品不保本",
        words=(Word(10.0, 14.0, "前面的话"), Word(17.0, 20.0, "本产品不保本")),
    )
    m = align("本产品不保本", TimedText.from_segments([seg]))
    assert m.coverage == 1.0 and m.start == pytest.approx(17.0) and m.end == pytest.approx(20.0)


def test_script_coverage_reports_percent_and_best_quote() -> None:
    flow = parse_flow(
        {
            "nodes": [
                {
                    "id": "r",
                    "type": "risk_disclosure",
                    "required_statements": ["本产品不保本，投资有风险", "过往业绩不代表未来表现"],
                }
            ]
        }
    )
    res = script_coverage.run(ctx([Seg(2.0, 6.0, "本产品不保本，投资有风险。")], flow=flow))
    assert res.status is CheckStatus.FAILED and len(res.findings) == 1
    rows = res.metrics["statements"]
    assert isinstance(rows, list) and rows[0]["coverage"] == 1.0 and rows[1]["coverage"] < 0.5
    assert (
        "过往业绩不代表未来表现" in res.findings[0].message and res.findings[0].severity is Severity.CRITICAL
    )


def test_script_coverage_without_flow_or_transcript_says_why() -> None:
    assert script_coverage.run(ctx([])).reason == "未提供流程 / no flow supplied"
    flow = parse_flow({"nodes": [{"id": "r", "type": "risk_disclosure", "required_statements": ["保本"]}]})
    res = script_coverage.run(ctx(None, flow=flow, asr_error="ASR broke"))
    assert res.status is CheckStatus.NOT_RUN and res.reason == "ASR broke"


@pytest.mark.parametrize(
    ("said", "expected", "verdict"),
    [
        ("是的", (), "yes"),
        ("对，我同意", (), "yes"),
        ("好的明白了", (), "yes"),
        ("嗯确认", (), "yes"),
        ("不是", (), "no"),
        ("我不同意", (), "no"),
        ("不清楚", (), "no"),
        ("不知道", (), "no"),
        ("", (), "silent"),
        ("，。", (), "silent"),
        ("我再想想吧", (), "unclear"),
        ("本人自愿", (AnswerOption("自愿", ("愿意",)),), "yes"),
        ("我愿意", (AnswerOption("自愿", ("愿意",)),), "yes"),
        ("我不愿意", (AnswerOption("自愿", ("愿意",)),), "no"),
        ("没有", (AnswerOption("没有", ("无",)),), "yes"),
        ("是的", (AnswerOption("没有"),), "unclear"),
    ],
)
def test_answer_classification(said: str, expected: tuple[AnswerOption, ...], verdict: str) -> None:
    assert classify(said, expected) == verdict


def test_answers_with_markers_and_silence_is_not_consent() -> None:
    flow = parse_flow(
        {
            "nodes": [
                {"id": "q1", "type": "qa", "title": "问一", "script": "您是否了解产品风险"},
                {"id": "q2", "type": "willingness", "title": "问二", "script": "您是否自愿购买"},
            ]
        }
    )
    markers = (Marker("q1", 0.0, 6.0), Marker("q2", 6.0, 12.0))
    transcript = [Seg(0.5, 3.0, "您是否了解产品风险"), Seg(3.5, 4.0, "了解"), Seg(6.5, 9.0, "您是否自愿购买")]
    c = ctx(transcript, flow=flow, markers=markers, nodes=spans_from_markers(flow, markers))
    res = answers.run(c)
    assert [f.node_id for f in res.findings] == ["q2"]
    assert "沉默不视为同意" in res.findings[0].message
    # the answer the live system recorded (e.g. a button) counts when the audio has none
    rec = (Marker("q1", 0.0, 6.0), Marker("q2", 6.0, 12.0, answers=("是",)))
    assert answers.run(ctx(transcript, flow=flow, markers=rec, nodes=c.nodes)).status is CheckStatus.PASSED


def test_sensitive_words_exact_homophone_and_negated() -> None:
    transcript = [
        Seg(0.0, 4.0, "本产品不保本，并非刚性兑付"),  # disclosures: negated, not findings
        Seg(5.0, 8.0, "这个产品保苯的，收益高"),  # ASR wrote 保苯 for 保本
        Seg(9.0, 12.0, "绝对无风险"),
    ]
    res = sensitive_words.run(ctx(transcript))
    words = [(f.message, f.start, f.confidence) for f in res.findings]
    assert len(words) == 2
    assert "保本" in words[0][0] and "同音" in words[0][0] and 5.0 <= (words[0][1] or 0) <= 8.0
    assert "无风险" in words[1][0] and 9.0 <= (words[1][1] or 0) <= 12.0
    # these segments carry no score from a recogniser: no confidence is shown, none is made up
    assert words[0][2] is None and words[1][2] is None
    assert res.metrics["negated_mentions"]


def test_a_sensitive_word_finding_carries_the_recognisers_own_probability() -> None:
    said = Seg(
        9.0,
        12.0,
        "这个绝对无风险",
        confidence=0.8,
        words=(Word(9.0, 10.0, "这个", 0.9), Word(10.0, 11.0, "绝对", 0.9), Word(11.0, 12.0, "无风险", 0.42)),
    )
    homophone = Seg(5.0, 8.0, "这个产品保苯的", confidence=0.9)
    res = sensitive_words.run(ctx([homophone, said]))
    found = {f.message.split("「")[1].split("」")[0]: f.confidence for f in res.findings}
    assert found["无风险"] == 0.42  # the words' probability, as the engine gave it
    assert found["保本"] is None  # a homophone guess: the engine scored 保苯, not 保本


def test_nodes_inferred_from_transcript_in_flow_order() -> None:
    flow = parse_flow(
        {
            "nodes": [
                {"id": "a", "type": "identity", "script": "请出示您的身份证"},
                {"id": "b", "type": "risk_disclosure", "required_statements": ["本产品不保本"]},
                {"id": "c", "type": "qa", "script": "您是否同意"},
                {"id": "d", "type": "end", "script": "这句没有读"},
            ]
        }
    )
    transcript = [
        Seg(1.0, 3.0, "请出示您的身份证"),
        Seg(5.0, 7.0, "本产品不保本"),
        Seg(9.0, 10.0, "您是否同意"),
        Seg(10.5, 11.0, "同意"),
    ]
    spans = infer_spans(flow, transcript, 15.0)
    assert [(s.node_id, round(s.start), round(s.end)) for s in spans] == [
        ("a", 1, 5),
        ("b", 5, 9),
        ("c", 9, 15),
    ]
    assert all(s.inferred for s in spans)
