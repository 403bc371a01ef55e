"""Customer answers: affirmative / expected where the flow asks; silence is not consent."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from dualrec.checks.base import CheckContext, FunctionCheck, NodeSpan, finding, not_run, result
from dualrec.checks.textmatch import TimedText, align
from dualrec.core.answers import AFFIRMATIVE, NEGATIVE, clean_answer, has_form
from dualrec.core.flow import AnswerOption, FlowNode
from dualrec.core.qc import CheckResult, Finding, Severity

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


def _answer_text(ctx: CheckContext, text: TimedText, node: FlowNode, span: NodeSpan) -> tuple[str, int, int]:
    lo, hi = text.between(span.start, span.end + 1.0)
    if node.script:
        m = align(node.script, text, lo, hi)
        if m.coverage >= 0.5:
            lo = m.hi
    window_end = (text.ends[lo - 1] if lo > 0 else span.start) + ctx.threshold(ID, "answer_window")
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
                    f"未找到节点「{node.title or node.id}」，无法确认客户应答 / node not found in the "
                    "recording; the answer cannot be confirmed",
                    node_id=node.id,
                )
            )
            continue
        said, lo, hi = _answer_text(ctx, text, node, span)
        recorded = " ".join(a for m in ctx.markers if m.node_id == node.id for a in m.answers)
        verdict = classify(said, node.expected_answers)
        if verdict in ("silent", "unclear") and recorded:
            verdict = classify(recorded, node.expected_answers)
        q0 = text.starts[lo] if hi > lo else span.start
        q1 = text.ends[hi - 1] if hi > lo else span.end
        rows.append({"node_id": node.id, "answer": said or recorded, "result": verdict})
        if verdict == "yes":
            continue
        sev, msg = {
            "no": (Severity.CRITICAL, "客户回答为否定 / the customer answered no"),
            "unclear": (Severity.MAJOR, "客户回答不明确 / the customer's answer is not the expected one"),
            "silent": (Severity.MAJOR, "客户未应答（沉默不视为同意）/ no answer (silence is not consent)"),
        }[verdict]
        out.append(
            finding(
                ctx,
                ID,
                sev,
                f"「{node.title or node.id}」{msg}",
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


CHECK = FunctionCheck(ID, run)
