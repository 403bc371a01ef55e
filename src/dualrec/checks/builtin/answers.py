"""Customer answers: affirmative / expected where the flow asks; silence is not consent.

A willingness node confirmed by reading a sentence aloud (``params.mode: read_along``) is scored on
the recording as the live session scored it: the sentence's syllables in order at ``accuracy``. One
confirmed by copying it by hand (``copy``) has nothing to hear: it passes on the copy the live
session read with confidence (the markers' answers); without one it needs a person's review.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from dualrec.checks.base import CheckContext, FunctionCheck, NodeSpan, finding, not_run, result
from dualrec.checks.recitation import copy_score, reading_score
from dualrec.checks.textmatch import TimedText, align
from dualrec.core.answers import AFFIRMATIVE, NEGATIVE, clean_answer, has_form
from dualrec.core.flow import AnswerOption, FlowNode
from dualrec.core.node_params import COPY, READ_ALONG, Willingness, willingness
from dualrec.core.qc import CheckResult, Finding, Severity
from dualrec.i18n import msg

ID = "answers"
Answer = Literal["yes", "no", "unclear", "silent"]


def classify(text: str, expected: Sequence[AnswerOption] = ()) -> Answer:
    clean = clean_answer(text)
    if not clean:
        return "silent"
    if expected:
        forms = [f for opt in expected for f in opt.all_forms]
        if any(has_form(clean, f) for f in forms):
            return "yes"
        return "no" if any(n in clean for n in NEGATIVE) else "unclear"
    if any(n in clean for n in NEGATIVE):
        return "no"
    return "yes" if any(has_form(clean, a) for a in AFFIRMATIVE) else "unclear"


def _answer_text(
    ctx: CheckContext, text: TimedText, node: FlowNode, span: NodeSpan, extra: float = 0.0
) -> tuple[str, int, int]:
    lo, hi = text.between(span.start, span.end + 1.0)
    if node.script:
        m = align(node.script, text, lo, hi)
        if m.coverage >= 0.5:
            lo = m.hi
    window_end = (text.ends[lo - 1] if lo > 0 else span.start) + ctx.threshold(ID, "answer_window") + extra
    _, hi2 = text.between(0.0, min(span.end + 1.0, window_end))
    hi = min(hi, hi2)
    return text.chars[lo:hi], lo, max(lo, hi)


def run(ctx: CheckContext) -> CheckResult:
    if ctx.flow is None:
        return not_run(ID, "未提供流程 / no flow supplied")
    nodes = [n for n in ctx.flow.nodes if n.needs_answer]
    if not nodes:
        return not_run(ID, "流程中没有需要客户应答的节点 / no node in the flow asks for an answer")
    if ctx.transcript is None and not any(m.answers for m in ctx.markers):
        return not_run(ID, ctx.asr_error or "没有逐字稿 / no transcript")
    text = TimedText.from_segments(ctx.transcript or ())
    spans = {s.node_id: s for s in ctx.nodes}
    out: list[Finding] = []
    rows: list[dict[str, object]] = []
    for node in nodes:
        span = spans.get(node.id)
        if span is None:
            out.append(
                finding(
                    ctx,
                    ID,
                    Severity.MAJOR,
                    msg("finding.answers.node_found_recording_answer_cannot", value=node.title or node.id),
                    node_id=node.id,
                )
            )
            continue
        rule = _rule(node)
        # a sentence read aloud takes longer than a yes: ~0.35 s per character on top of the window
        said, lo, hi = _answer_text(ctx, text, node, span, 0.35 * len(rule.sentence) if rule.scored else 0.0)
        # the prompt of a read-along contains the sentence itself: what was heard counts as the
        # customer's reading only after the prompt was found (else it may be the prompt)
        prompt_found = bool(node.script) and lo > text.between(span.start, span.end + 1.0)[0]
        q0 = text.starts[lo] if hi > lo else span.start
        q1 = text.ends[hi - 1] if hi > lo else span.end
        if rule.scored:
            row, problem = _scored(ctx, node, rule, said if prompt_found else "")
            rows.append(row)
            if problem:
                out.append(
                    finding(
                        ctx,
                        ID,
                        Severity.MAJOR,
                        f"「{node.title or node.id}」{problem}",
                        start=q0,
                        end=q1,
                        quote=str(row["answer"]) or None,
                        quote_start=q0 if rule.mode == READ_ALONG else None,
                        quote_end=q1 if rule.mode == READ_ALONG else None,
                        node_id=node.id,
                    )
                )
            continue
        recorded = " ".join(a for m in ctx.markers if m.node_id == node.id for a in m.answers)
        verdict = classify(said, node.expected_answers)
        if verdict in ("silent", "unclear") and recorded:
            verdict = classify(recorded, node.expected_answers)
        rows.append({"node_id": node.id, "answer": said or recorded, "result": verdict})
        if verdict == "yes":
            continue
        sev = Severity.CRITICAL if verdict == "no" else Severity.MAJOR
        out.append(
            finding(
                ctx,
                ID,
                sev,
                msg(f"finding.answers.answer_{verdict}", node=node.title or node.id),
                start=q0,
                end=q1,
                quote=said or recorded or None,
                quote_start=q0,
                quote_end=q1,
                node_id=node.id,
                # the recogniser's probability for the words quoted (none for silence or a
                # recorded tap)
                confidence=text.confidence(lo, hi) if said else None,
            )
        )
    return result(ID, out, {"answers": rows})


def _rule(node: FlowNode) -> Willingness:
    if node.type != "willingness":
        return Willingness("answer")
    try:
        return willingness(node)
    except ValueError:  # publishing refuses it; an old flow with a bad mode is judged as an answer
        return Willingness("answer")


def _scored(ctx: CheckContext, node: FlowNode, rule: Willingness, said: str) -> tuple[dict[str, object], str]:
    """(the row of the metrics, the problem or "") of a read-along / copy node."""
    recorded = [a for m in ctx.markers if m.node_id == node.id for a in m.answers]
    if rule.mode == READ_ALONG:
        accuracy = rule.accuracy if rule.accuracy is not None else ctx.threshold(ID, "read_along_accuracy")
        tries = [(reading_score(rule.sentence, a), a) for a in [said, *recorded] if a]
        score, answer = max(tries, default=(0.0, ""))
        row = {"node_id": node.id, "answer": answer, "result": "read", "score": round(score, 3)}
        if score >= accuracy:
            return row, ""
        row["result"] = "not_read"
        return row, (
            f"跟读准确率 {score:.0%}，低于要求的 {accuracy:.0%} / the sentence was read at {score:.0%}, "
            f"{accuracy:.0%} required"
        )
    assert rule.mode == COPY
    accuracy = rule.accuracy if rule.accuracy is not None else ctx.threshold(ID, "copy_accuracy")
    tries = [(copy_score(rule.sentence, a), a) for a in recorded if a]
    score, answer = max(tries, default=(0.0, ""))
    row = {"node_id": node.id, "answer": answer, "result": "copied", "score": round(score, 3)}
    if score >= accuracy:
        return row, ""
    row["result"] = "review"
    return row, (
        "手写抄录未经自动确认（无可信的识别结果），需人工核对会话中保存的抄录图片 / the handwritten copy "
        "was not confirmed automatically; a person must check the stored image"
    )


CHECK = FunctionCheck(ID, run)
