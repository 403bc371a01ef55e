"""Required statements: each found in the transcript (pinyin-aware fuzzy), coverage % and quote."""

from __future__ import annotations

from dualrec.checks.base import CheckContext, FunctionCheck, finding, not_run, result
from dualrec.checks.textmatch import TimedText, align
from dualrec.core.qc import CheckResult, Finding, Measure, Severity
from dualrec.i18n import msg

ID = "script_coverage"
PAD = 3.0  # seconds around a node's span where its statements are looked for


def run(ctx: CheckContext) -> CheckResult:
    if ctx.flow is None:
        return not_run(ID, "未提供流程 / no flow supplied")
    wanted = [(n, s) for n in ctx.flow.nodes for s in n.required_statements]
    if not wanted:
        return not_run(ID, "流程中没有必读话术 / the flow has no required statements")
    if ctx.transcript is None:
        return not_run(ID, ctx.asr_error or "没有逐字稿 / no transcript")
    text = TimedText.from_segments(ctx.transcript)
    spans = {s.node_id: s for s in ctx.nodes}
    limit = ctx.threshold(ID, "min_coverage")
    out: list[Finding] = []
    rows: list[dict[str, object]] = []
    for node, statement in wanted:
        span = spans.get(node.id)
        lo, hi = text.between(span.start - PAD, span.end + PAD) if span else (0, len(text.chars))
        m = align(statement, text, lo, hi)
        rows.append(
            {
                "node_id": node.id,
                "statement": statement,
                "coverage": round(m.coverage, 3),
                "quote": m.quote,
                "start": m.start,
                "end": m.end,
            }
        )
        if m.coverage < limit:
            out.append(
                finding(
                    ctx,
                    ID,
                    Severity.CRITICAL,
                    msg(
                        "finding.script_coverage.statement_incomplete_at_node"
                        if span
                        else "finding.script_coverage.statement_incomplete",
                        node=node.title or node.id,
                        coverage=m.coverage,
                        statement=statement,
                    ),
                    start=m.start if m.start is not None else (span.start if span else None),
                    end=m.end if m.end is not None else (span.end if span else None),
                    quote=m.quote or None,
                    quote_start=m.start,
                    quote_end=m.end,
                    node_id=node.id,
                    confidence=round(1 - m.coverage, 3),
                    measure=Measure("min_coverage", round(m.coverage, 3), limit, "below"),
                )
            )
    mean = sum(float(str(r["coverage"])) for r in rows) / len(rows)
    return result(ID, out, {"statements": rows, "mean_coverage": round(mean, 3)})


CHECK = FunctionCheck(ID, run)
