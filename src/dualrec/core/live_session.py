"""The customer's self-service session (H5): its lifecycle, the reconnect window, and its timeline.

A session belongs to one attempt of a task. The page records with MediaRecorder and uploads the
recording in numbered chunks; every (re)connection starts a new *segment* of the same recording, so
the timeline of the final recording is the segments one after another. Events (打点: node start/end,
prompts played, answers recognised, liveness results, alerts) are stamped with the segment and the
time inside it; ``build_markers`` turns them into node markers on the final timeline once the
segments' real durations are known.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from dualrec.core.flow import Flow, Marker
from dualrec.core.flow_engine import FlowState, Step

__all__ = [
    "MAX_CHUNK_BYTES",
    "MAX_SEGMENTS",
    "MAX_SEQ",
    "RECONNECT_WINDOW",
    "EventKind",
    "LiveSession",
    "SessionEvent",
    "SessionStatus",
    "build_markers",
    "estimated_flow_minutes",
    "flow_state_from_dict",
    "flow_state_to_dict",
    "missing_chunks",
    "resume_allowed",
    "upload_quota",
]

RECONNECT_WINDOW = timedelta(minutes=15)
MAX_CHUNK_BYTES = 8 * 1024 * 1024  # MediaRecorder timeslices of a few seconds are far smaller
MAX_SEGMENTS = 50  # reconnections of one attempt
MAX_SEQ = 20_000  # chunks per segment (a 1 s timeslice for 5 h)


class SessionStatus(StrEnum):
    CONSENT = "consent"  # link opened, consent not given yet
    RUNNING = "running"  # the flow is running (or the customer dropped and may come back)
    PAUSED = "paused"  # a sensitive word was heard: waiting for the customer to continue
    COMPLETED = "completed"  # the flow ended well; the recording is being finished
    FAILED = "failed"  # the flow failed
    HANDOVER = "handover"  # handed to a human interviewer
    EXPIRED = "expired"  # gone longer than the reconnect window


OPEN_STATUSES: frozenset[str] = frozenset(
    {SessionStatus.CONSENT, SessionStatus.RUNNING, SessionStatus.PAUSED}
)


class EventKind(StrEnum):
    CONSENT = "consent"
    SEGMENT_START = "segment_start"
    NODE_START = "node_start"
    NODE_END = "node_end"
    PROMPT = "prompt"  # a text was played/shown
    ANSWER = "answer"  # an answer was recognised (voice) or tapped
    LIVENESS = "liveness"
    IDENTITY = "identity"
    ID_CARD = "id_card"
    PAGE_READ = "page_read"
    SIGNED = "signed"
    ALERT = "alert"
    FINISHED = "finished"


@dataclass(frozen=True)
class SessionEvent:
    kind: str
    segment: int
    t: float  # seconds since the segment's recording started (the page's clock)
    node_id: str = ""
    data: Mapping[str, Any] = field(default_factory=dict, hash=False)
    at: datetime | None = None


@dataclass(frozen=True)
class LiveSession:
    id: str
    task_id: str
    attempt_no: int
    status: str
    flow_state: FlowState
    segment: int  # the segment being recorded now (0 on the first connection)
    started_at: datetime
    last_seen_at: datetime
    finished_at: datetime | None = None
    reason: str = ""
    identity: Mapping[str, Any] = field(default_factory=dict, hash=False)
    final_seqs: Mapping[int, int] = field(default_factory=dict, hash=False)  # segment → last seq
    recording_id: str | None = None

    @property
    def open(self) -> bool:
        return self.status in OPEN_STATUSES


READING_CHARS_PER_SECOND = 4.0  # a script read aloud (TTS or the customer), Chinese


def estimated_flow_minutes(flow: Flow) -> float:
    """A generous upper estimate of how long the flow takes: every enabled node asked as often as
    its retries allow, each ask reading its script and then waiting its whole answer timeout."""
    seconds = 0.0
    for node in flow.active_nodes:
        reading = len(node.script or node.subtitle) / READING_CHARS_PER_SECOND
        seconds += (node.retries + 1) * (reading + node.timeout_seconds)
    return max(1.0, seconds / 60)


def upload_quota(flow: Flow, bytes_per_minute: int, floor_bytes: int) -> int:
    """Bytes of recording chunks one attempt may upload: ``floor_bytes`` (reconnections, documents
    read at the customer's pace) plus ``bytes_per_minute`` per estimated minute of the flow."""
    return floor_bytes + int(bytes_per_minute * estimated_flow_minutes(flow))


def resume_allowed(last_seen_at: datetime, now: datetime, window: timedelta = RECONNECT_WINDOW) -> bool:
    """A dropped customer may come back to the same attempt within the window."""
    return now - last_seen_at <= window


def missing_chunks(
    received: Mapping[int, Iterable[int]], final_seqs: Mapping[int, int]
) -> dict[int, list[int]]:
    """segment → the chunk numbers not received yet, for every segment whose last chunk is known."""
    out: dict[int, list[int]] = {}
    for segment, last in final_seqs.items():
        have = set(received.get(segment, ()))
        gaps = [s for s in range(last + 1) if s not in have]
        if gaps:
            out[segment] = gaps
    return out


# ---- flow state (de)serialisation -------------------------------------------------------------


def flow_state_to_dict(state: FlowState) -> dict[str, Any]:
    return {
        "status": state.status,
        "node_id": state.node_id,
        "ask": state.ask,
        "reason": state.reason,
        "visits": dict(state.visits or {}),
        "steps": [
            {
                "node_id": s.node_id,
                "ask": s.ask,
                "result": s.result,
                "to": s.to,
                "answer": s.answer,
                "option": s.option,
                "reason": s.reason,
            }
            for s in state.steps
        ],
    }


def flow_state_from_dict(data: Mapping[str, Any]) -> FlowState:
    return FlowState(
        status=data["status"],
        node_id=data.get("node_id"),
        ask=int(data.get("ask", 1)),
        reason=str(data.get("reason", "")),
        visits=dict(data.get("visits") or {}),
        steps=tuple(
            Step(
                node_id=s["node_id"],
                ask=int(s["ask"]),
                result=s["result"],
                to=s["to"],
                answer=s.get("answer", ""),
                option=s.get("option", ""),
                reason=s.get("reason", ""),
            )
            for s in data.get("steps", ())
        ),
    )


# ---- the final timeline ------------------------------------------------------------------------


def build_markers(events: Sequence[SessionEvent], durations: Mapping[int, float]) -> list[Marker]:
    """Node markers on the assembled recording: segment ``k`` starts after segments ``0..k-1``.

    A node that was still open when its segment ended (the customer dropped) is closed at the end
    of that segment; it is opened again by the next segment's ``node_start``.
    """
    offsets: dict[int, float] = {}
    total = 0.0
    for seg in sorted(durations):
        offsets[seg] = total
        total += durations[seg]

    def at(e: SessionEvent) -> float:
        base = offsets.get(e.segment)
        if base is None:
            return total
        return round(base + max(0.0, min(e.t, durations[e.segment])), 3)

    markers: list[Marker] = []
    open_node: tuple[str, float, int] | None = None
    prompts: list[str] = []
    answers: list[str] = []

    def close(end: float) -> None:
        nonlocal open_node, prompts, answers
        if open_node is not None:
            markers.append(
                Marker(open_node[0], open_node[1], max(end, open_node[1]), tuple(prompts), tuple(answers))
            )
        open_node, prompts, answers = None, [], []

    for e in sorted(events, key=lambda e: (e.segment, e.t)):
        if open_node is not None and e.segment != open_node[2]:
            close(offsets.get(open_node[2], 0.0) + durations.get(open_node[2], 0.0))
        if e.kind == EventKind.NODE_START:
            close(at(e))
            open_node = (e.node_id, at(e), e.segment)
        elif e.kind == EventKind.NODE_END and open_node is not None and open_node[0] == e.node_id:
            close(at(e))
        elif e.kind == EventKind.PROMPT and open_node is not None:
            text = str(e.data.get("text", ""))
            if text:
                prompts.append(text)
        elif e.kind == EventKind.ANSWER and open_node is not None:
            text = str(e.data.get("text", ""))
            if text:
                answers.append(text)
    if open_node is not None:
        close(offsets.get(open_node[2], 0.0) + durations.get(open_node[2], 0.0))
    return markers
