"""The documented node parameters (docs/flows.md) are the ones read: willingness ``params.mode`` /
``accuracy`` / ``sentence`` (old ``read_along`` / ``threshold`` as a fallback), identity
``face_threshold`` in QC's identity_match, the choices a customer may tap, the scored outcomes of
the flow engine, and QC's answers check on read-along and copy nodes."""

from __future__ import annotations

import math
from typing import Any

import pytest

from dualrec.checks.base import CheckContext, FaceObservation, FrameAnalysis
from dualrec.checks.builtin import answers, identity_match
from dualrec.checks.catalog import default_thresholds
from dualrec.checks.recitation import copy_score, reading_score
from dualrec.core.answers import choices, opposite
from dualrec.core.flow import Marker, parse_flow, validate_flow
from dualrec.core.flow_engine import Scored, advance, start
from dualrec.core.node_params import face_threshold, willingness
from dualrec.core.qc import CheckStatus, Severity
from dualrec.media.ports import TranscriptSegment as Seg
from dualrec.pipeline.nodes import spans_from_markers
from dualrec.services.flows.demo_content import DEMO_FLOWS

TH = default_thresholds()
SENTENCE = "本人已充分了解产品风险，自愿购买本产品"


def _node(params: dict[str, Any], script: str = "请跟读：" + SENTENCE, **extra: Any) -> Any:
    flow = parse_flow(
        {
            "nodes": [
                {
                    "id": "w",
                    "type": "willingness",
                    "title": "意愿",
                    "script": script,
                    "params": params,
                    **extra,
                },
                {"id": "end", "type": "end"},
            ]
        }
    )
    return flow.node("w")


# ---- willingness: documented names, the old spellings as a fallback ------------------------------


def test_documented_mode_accuracy_and_sentence_are_read() -> None:
    rule = willingness(_node({"mode": "read_along", "accuracy": 0.95}))
    assert (rule.mode, rule.accuracy, rule.sentence) == ("read_along", 0.95, SENTENCE)  # after "请跟读："
    rule = willingness(_node({"mode": "copy", "sentence": "本人自愿投保"}))
    assert (rule.mode, rule.accuracy, rule.sentence) == ("copy", None, "本人自愿投保")
    assert willingness(_node({})).mode == "answer"


def test_flows_stored_with_the_old_spellings_keep_working() -> None:
    rule = willingness(
        _node({"read_along": "欢迎大家来体验", "threshold": 0.7}, script="请朗读屏幕上的文字。")
    )
    assert (rule.mode, rule.sentence, rule.accuracy) == ("read_along", "欢迎大家来体验", 0.7)
    # the documented name wins over the old one
    assert willingness(_node({"mode": "read_along", "accuracy": 0.9, "threshold": 0.5})).accuracy == 0.9


def test_publishing_refuses_parameters_that_would_be_ignored() -> None:
    flow = parse_flow(
        {
            "nodes": [
                {
                    "id": "id",
                    "type": "identity",
                    "params": {"face_threshold": 3, "liveness_actions": ["wink"]},
                },
                {"id": "w", "type": "willingness", "script": "请确认", "params": {"mode": "read-along"}},
                {
                    "id": "w2",
                    "type": "willingness",
                    "script": "请跟读：好",
                    "params": {"mode": "copy", "accuracy": 2},
                },
                {"id": "d", "type": "document_display", "params": {"min_page_seconds": -1}},
                {"id": "end", "type": "end"},
            ]
        }
    )
    problems = {(p.where, p.message.split(" / ")[1]) for p in validate_flow(flow)}
    assert ("id", "params.face_threshold must be a number from 0.1 to 1") in problems
    assert ("id", "params.liveness_actions must be 2, 3 or a list of blink/nod/shake") in problems
    assert ("w", "params.mode must be read_along or copy, not 'read-along'") in problems
    assert ("w2", "params.accuracy must be a number from 0.1 to 1") in problems
    assert ("d", "params.min_page_seconds must be 0 to 600 seconds") in problems


def test_the_demo_flows_use_the_documented_parameters_and_validate() -> None:
    for _name, _bank, definition in DEMO_FLOWS.values():
        flow = parse_flow(definition)
        assert validate_flow(flow) == []
        identity = flow.node("identity")
        assert identity is not None and face_threshold(identity) == 0.6
    wealth, insurance = parse_flow(DEMO_FLOWS["wm-sale"][2]), parse_flow(DEMO_FLOWS["ins-sale"][2])
    read = willingness(wealth.node("willing"))  # type: ignore[arg-type]
    assert read.mode == "read_along" and read.sentence.startswith("本人已充分了解产品风险")
    copy = willingness(insurance.node("willing"))  # type: ignore[arg-type]
    assert copy.mode == "copy" and copy.sentence.startswith("本人已阅读保险条款")


# ---- the choices a customer may tap ----------------------------------------------------------------


def test_a_question_never_shows_its_expected_answer_alone() -> None:
    assert sorted(choices(["没有"], "s1")) == ["有", "没有"]
    assert sorted(choices(["了解"], "s1")) == ["不了解", "了解"]
    assert sorted(choices([], "s1")) == ["否", "是"]
    assert opposite("本人已充分了解产品风险") == "否"
    # neutral order: the expected answer is not always first
    firsts = {choices(["没有"], f"session-{i}")[0] for i in range(20)}
    assert firsts == {"有", "没有"}
    assert choices(["是", "否"], "x") == choices(["是", "否"], "x")  # the same on every reload


def test_tapping_the_other_choice_is_a_wrong_answer_not_an_unclear_one() -> None:
    from dualrec.core.flow_engine import Answer

    flow = parse_flow(
        {
            "nodes": [
                {
                    "id": "q",
                    "type": "qa",
                    "script": "有人承诺保本吗？",
                    "expected_answers": ["没有"],
                    "retries": 0,
                }
            ]
        }
    )
    state = advance(flow, start(flow), Answer("有"))
    assert state.steps[-1].result == "wrong" and state.status == "failed"


# ---- scored outcomes ---------------------------------------------------------------------------------


def test_scored_outcomes_pass_retry_or_go_on_marked_for_review() -> None:
    flow = parse_flow(
        {
            "nodes": [
                {
                    "id": "w",
                    "type": "willingness",
                    "script": "请抄录：本人自愿",
                    "retries": 1,
                    "on_fail": "handover",
                },
                {"id": "end", "type": "end"},
            ]
        }
    )
    s0 = start(flow)
    assert advance(flow, s0, Scored("本人自愿", True)).node_id == "end"
    again = advance(flow, s0, Scored("本人", False))
    assert again.node_id == "w" and again.ask == 2 and again.steps[-1].result == "wrong"
    assert advance(flow, again, Scored("本人", False)).status == "handover"
    review = advance(flow, again, Scored("", False, review="字迹无法识别"))
    assert review.node_id == "end" and review.steps[-1].result == "review"
    assert review.steps[-1].reason == "字迹无法识别"


def test_reading_is_judged_by_sound_copying_by_characters() -> None:
    assert reading_score("理财非存款", "理财飞存款") == 1.0  # a homophone the recogniser wrote
    assert copy_score("理财非存款", "理财飞存款") == pytest.approx(0.8)  # a wrong character written
    assert copy_score("本人自愿，购买", "本人自愿购买") == 1.0  # punctuation does not count


# ---- QC: answers on read-along / copy nodes, identity_match with face_threshold ------------------


def _qc(flow: Any, transcript: list[Seg], markers: tuple[Marker, ...]) -> CheckContext:
    return CheckContext(
        path="x.mp4",
        transcript=tuple(transcript),
        thresholds=TH,
        flow=flow,
        markers=markers,
        nodes=spans_from_markers(flow, markers),
    )


def _read_along_flow(accuracy: float) -> Any:
    return parse_flow(
        {
            "nodes": [
                {
                    "id": "w",
                    "type": "willingness",
                    "script": "请跟读：" + SENTENCE,
                    "params": {"mode": "read_along", "accuracy": accuracy},
                },
                {"id": "end", "type": "end"},
            ]
        }
    )


def test_qc_scores_a_read_along_at_the_nodes_accuracy() -> None:
    # the prompt is spoken, then the customer reads 15 of the sentence's 18 syllables (0.83)
    transcript = [Seg(0.0, 6.0, "请跟读：" + SENTENCE), Seg(6.5, 11.0, "本人已充分了解产品风险自愿购买")]
    markers = (Marker("w", 0.0, 12.0), Marker("end", 12.0, 14.0))
    at_80 = answers.run(_qc(_read_along_flow(0.8), transcript, markers))
    assert at_80.status is CheckStatus.PASSED, at_80
    at_95 = answers.run(_qc(_read_along_flow(0.95), transcript, markers))
    assert at_95.status is CheckStatus.FAILED
    assert at_95.findings[0].severity is Severity.MAJOR and "95%" in at_95.findings[0].message
    # the prompt alone (spoken by the page, the customer silent) is not the customer's reading
    prompt_only = [Seg(0.0, 6.0, "请跟读：" + SENTENCE)]
    assert answers.run(_qc(_read_along_flow(0.8), prompt_only, markers)).status is CheckStatus.FAILED
    # what the live session heard from the customer's microphone (the markers' answers) counts
    heard = (Marker("w", 0.0, 12.0, answers=(SENTENCE,)), Marker("end", 12.0, 14.0))
    assert answers.run(_qc(_read_along_flow(0.95), prompt_only, heard)).status is CheckStatus.PASSED
    # a plain "自愿购买" (the old fallback matched it as the expected answer) is no read-along
    short = [Seg(0.0, 6.0, "请跟读：" + SENTENCE), Seg(6.5, 8.0, "自愿购买")]
    assert answers.run(_qc(_read_along_flow(0.8), short, markers)).status is CheckStatus.FAILED


def test_qc_passes_a_copy_only_on_a_confident_reading_the_session_recorded() -> None:
    flow = parse_flow(
        {
            "nodes": [
                {
                    "id": "w",
                    "type": "willingness",
                    "script": "请抄录：本人自愿投保",
                    "params": {"mode": "copy"},
                },
                {"id": "end", "type": "end"},
            ]
        }
    )
    read = (Marker("w", 0.0, 30.0, answers=("本人自愿投保",)), Marker("end", 30.0, 32.0))
    assert answers.run(_qc(flow, [Seg(0.0, 3.0, "请抄录本人自愿投保")], read)).status is CheckStatus.PASSED
    # nothing read with confidence (the session marked the node for review): a person must look
    unread = (Marker("w", 0.0, 30.0), Marker("end", 30.0, 32.0))
    result = answers.run(_qc(flow, [Seg(0.0, 3.0, "请抄录本人自愿投保")], unread))
    assert result.status is CheckStatus.FAILED and "人工" in result.findings[0].message
    # the prompt spoken in the recording is not the customer's copy
    assert result.findings[0].severity is Severity.MAJOR


def _embedding(distance: float) -> tuple[float, ...]:
    return (distance, *([0.0] * 127))


@pytest.mark.parametrize(("threshold", "status"), [(0.6, CheckStatus.PASSED), (0.3, CheckStatus.FAILED)])
def test_identity_match_uses_the_flows_face_threshold(threshold: float, status: CheckStatus) -> None:
    flow = parse_flow(
        {
            "nodes": [
                {"id": "id", "type": "identity", "params": {"face_threshold": threshold}},
                {"id": "end", "type": "end"},
            ]
        }
    )
    face = FaceObservation((100, 100, 200, 200), 0.1, embedding=_embedding(0.45))
    frames = tuple(
        FrameAnalysis(t=i * 0.5, luma=120.0, contrast=40.0, motion=None, faces=(face,)) for i in range(10)
    )
    ctx = CheckContext(path="x.mp4", thresholds=TH, flow=flow, frames=frames, id_photo=_embedding(0.0))
    res = identity_match.run(ctx)
    assert res.status is status
    assert math.isclose(float(res.metrics["median_distance"]), 0.45, abs_tol=1e-6)
    assert res.metrics["threshold"] == threshold
