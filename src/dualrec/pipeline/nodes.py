"""Where each flow node happened: from markers (打点), or inferred by aligning the transcript to
the flow's scripted texts in order."""

from __future__ import annotations

from collections.abc import Sequence

from dualrec.checks.base import NodeSpan
from dualrec.checks.textmatch import TimedText, align
from dualrec.core.flow import Flow, Marker
from dualrec.media.ports import TranscriptSegment

__all__ = ["infer_spans", "spans_from_markers"]


def spans_from_markers(flow: Flow | None, markers: Sequence[Marker]) -> tuple[NodeSpan, ...]:
    out = []
    for m in markers:
        node = flow.node(m.node_id) if flow else None
        out.append(NodeSpan(m.node_id, node.type if node else "unknown", m.start, m.end, inferred=False))
    return tuple(out)


def infer_spans(
    flow: Flow, transcript: Sequence[TranscriptSegment], duration: float, *, min_score: float = 0.6
) -> tuple[NodeSpan, ...]:
    """Each node whose script (or required statements) is found, in flow order, starts there and
    ends where the next found node starts (or at the end of the recording)."""
    text = TimedText.from_segments(transcript)
    found: list[tuple[str, str, float, float]] = []
    cursor = 0
    for node in flow.nodes:
        probe = node.script or "".join(node.required_statements)
        if not probe:
            continue
        m = align(probe, text, cursor)
        if m.coverage >= min_score and m.start is not None:
            found.append((node.id, node.type, m.start, m.coverage))
            cursor = m.hi
    spans = []
    for i, (node_id, ntype, start, score) in enumerate(found):
        end = found[i + 1][2] if i + 1 < len(found) else max(duration, start)
        spans.append(NodeSpan(node_id, ntype, start, end, inferred=True, score=round(score, 3)))
    return tuple(spans)
