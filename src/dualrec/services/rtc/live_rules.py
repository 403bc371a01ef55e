"""What the live worker decides, kept pure: cutting a party's audio into speech segments (a VAD
per frame decides, this class only counts), which flow node the interviewer is running (from the
node marks), and the risk alerts a subtitle raises (the customer's answer contradicting the running
node's expected answer, a sensitive word), debounced so one cause pops up once."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from dualrec.core.flow import Flow, FlowNode
from dualrec.core.flow_engine import judge_answer
from dualrec.core.sensitive_words import find_words

__all__ = [
    "FRAME_MS",
    "AlertRules",
    "RiskAlert",
    "Segmenter",
    "SpeechSegment",
    "running_node",
]

SAMPLE_RATE = 16000
FRAME_MS = 30  # webrtcvad takes 10, 20 or 30 ms frames
FRAME_BYTES = SAMPLE_RATE * FRAME_MS // 1000 * 2  # 16-bit mono


class NodeMark(Protocol):
    @property
    def node_id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def at(self) -> datetime: ...


@dataclass(frozen=True)
class SpeechSegment:
    start: float  # seconds on the party's stream clock (its samples)
    end: float
    pcm: bytes  # 16 kHz mono s16le
    ended_at: float  # wall clock (time.time()) when the frame that ended it arrived
    cut: bool = False  # ended by the length limit, not by silence


@dataclass
class Segmenter:
    """Speech segments of one party's audio: a segment opens after ``open_frames`` voiced frames
    among the last ``window`` frames (the frames before are kept as lead-in), closes after
    ``close_ms`` of unvoiced frames or at ``max_s`` (then the next opens at once when speech goes
    on), and is dropped when shorter than ``min_s`` of speech."""

    is_speech: Callable[[bytes], bool]
    open_frames: int = 4
    window: int = 6
    close_ms: int = 600
    max_s: float = 8.0
    min_s: float = 0.5
    _buf: bytearray = field(default_factory=bytearray)
    _t: float = 0.0  # stream time of the next frame
    _recent: list[tuple[bytes, bool]] = field(default_factory=list)
    _seg: bytearray | None = None
    _seg_start: float = 0.0
    _silent_ms: int = 0
    _voiced_ms: int = 0

    def push(self, pcm: bytes, wall: float) -> list[SpeechSegment]:
        """Feed 16 kHz mono s16le audio (any length); the segments it completed."""
        self._buf.extend(pcm)
        out: list[SpeechSegment] = []
        while len(self._buf) >= FRAME_BYTES:
            frame = bytes(self._buf[:FRAME_BYTES])
            del self._buf[:FRAME_BYTES]
            seg = self._frame(frame, wall)
            if seg is not None:
                out.append(seg)
        return out

    def flush(self, wall: float) -> SpeechSegment | None:
        """The segment in progress, if long enough (the stream ended)."""
        return self._close(wall, cut=True) if self._seg is not None else None

    def _frame(self, frame: bytes, wall: float) -> SpeechSegment | None:
        voiced = self.is_speech(frame)
        t = self._t
        self._t += FRAME_MS / 1000
        if self._seg is None:
            self._recent = [*self._recent, (frame, voiced)][-self.window :]
            if sum(v for _, v in self._recent) >= self.open_frames:
                self._seg = bytearray(b"".join(f for f, _ in self._recent))
                self._seg_start = t + FRAME_MS / 1000 - len(self._recent) * FRAME_MS / 1000
                self._voiced_ms = sum(v for _, v in self._recent) * FRAME_MS
                self._silent_ms = 0
                self._recent = []
            return None
        self._seg.extend(frame)
        if voiced:
            self._voiced_ms += FRAME_MS
            self._silent_ms = 0
        else:
            self._silent_ms += FRAME_MS
        if self._silent_ms >= self.close_ms:
            return self._close(wall, cut=False)
        if len(self._seg) / 2 / SAMPLE_RATE >= self.max_s:
            return self._close(wall, cut=True)
        return None

    def _close(self, wall: float, *, cut: bool) -> SpeechSegment | None:
        assert self._seg is not None
        pcm = bytes(self._seg)
        if not cut:  # the trailing silence is not part of what was said
            pcm = pcm[: max(0, len(pcm) - self._silent_ms * SAMPLE_RATE // 1000 * 2)]
        start = self._seg_start
        voiced = self._voiced_ms
        self._seg, self._silent_ms, self._voiced_ms = None, 0, 0
        if voiced < self.min_s * 1000:
            return None
        return SpeechSegment(start, start + len(pcm) / 2 / SAMPLE_RATE, pcm, wall, cut)


def running_node(flow: Flow, marks: Sequence[NodeMark]) -> FlowNode | None:
    """The node the interviewer marked as started and has not ended (a start ends the one before)."""
    current: str | None = None
    for m in sorted(marks, key=lambda m: m.at):
        if m.kind == "start":
            current = m.node_id
        elif m.kind == "end" and m.node_id == current:
            current = None
    return flow.node(current) if current else None


@dataclass(frozen=True)
class RiskAlert:
    code: str  # contradiction | sensitive_word
    reason_zh: str
    reason_en: str
    node_id: str = ""
    words: tuple[str, ...] = ()


@dataclass
class AlertRules:
    """Risk alerts of one call. ``repeat_s``: the same cause (code, node, words) pops up again only
    after this long."""

    sensitive_words: tuple[str, ...]
    repeat_s: float = 60.0
    _last: dict[tuple[str, str, tuple[str, ...]], float] = field(default_factory=dict)

    def check(self, speaker: str, text: str, node: FlowNode | None, now: float) -> list[RiskAlert]:
        text = text.strip()
        if not text:
            return []
        found: list[RiskAlert] = []
        words = tuple(sorted({h.word for h in find_words(text, self.sensitive_words, skip_negated=True)}))
        if words:
            who = "客户" if speaker == "customer" else "坐席"
            found.append(
                RiskAlert(
                    "sensitive_word",
                    f"{who}说出敏感词：{'、'.join(words)}（“{text[:60]}”）",
                    f"the {speaker} said a sensitive word: {', '.join(words)}",
                    node.id if node else "",
                    words,
                )
            )
        if speaker == "customer" and node is not None and node.needs_answer:
            result, _option = judge_answer(node, text)
            if result == "wrong":
                expected = "、".join(a.text for a in node.expected_answers) or "肯定回答"
                title = node.title or node.id
                found.append(
                    RiskAlert(
                        "contradiction",
                        f"客户回答与“{title}”的预期答案（{expected}）不符：“{text[:60]}”",
                        f"the customer's answer contradicts the expected answer of node {node.id}",
                        node.id,
                    )
                )
        out = []
        for a in found:
            key = (a.code, a.node_id, a.words)
            if now - self._last.get(key, -1e18) >= self.repeat_s:
                self._last[key] = now
                out.append(a)
        return out
