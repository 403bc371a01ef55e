"""The minimal view of a recording flow that QC needs: nodes, scripts, expected answers, markers.

Parsed from plain dicts (JSON) with clear errors. A later issue extends flows; keep this small.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast, get_args

from dualrec.errors import InvalidInputError

__all__ = [
    "AnswerOption",
    "Flow",
    "FlowNode",
    "Marker",
    "NodeType",
    "Speaker",
    "parse_flow",
    "parse_markers",
]

NodeType = Literal["identity", "risk_disclosure", "qa", "willingness", "document_display", "signing", "end"]
Speaker = Literal["agent", "customer", "system"]
FlowMode = Literal["self_service", "human"]
ANSWER_NODE_TYPES: frozenset[str] = frozenset({"qa", "willingness"})


@dataclass(frozen=True)
class AnswerOption:
    """An expected answer and the words that mean the same (e.g. 是 ≈ 是的/对/确认)."""

    text: str
    synonyms: tuple[str, ...] = ()

    @property
    def all_forms(self) -> tuple[str, ...]:
        return (self.text, *self.synonyms)


@dataclass(frozen=True)
class FlowNode:
    id: str
    type: NodeType
    title: str = ""
    script: str = ""  # what is read/played in this node
    speaker: Speaker = "agent"
    required_statements: tuple[str, ...] = ()
    expected_answers: tuple[AnswerOption, ...] = ()  # empty on qa/willingness: an affirmative answer

    @property
    def needs_answer(self) -> bool:
        return self.type in ANSWER_NODE_TYPES


@dataclass(frozen=True)
class Flow:
    id: str
    name: str
    nodes: tuple[FlowNode, ...]
    mode: FlowMode = "self_service"

    def node(self, node_id: str) -> FlowNode | None:
        return next((n for n in self.nodes if n.id == node_id), None)


@dataclass(frozen=True)
class Marker:
    """打点: when a node ran in the recording, what was played and what the system recorded."""

    node_id: str
    start: float
    end: float
    prompts: tuple[str, ...] = ()
    answers: tuple[str, ...] = ()


def _err(where: str, msg: str) -> InvalidInputError:
    return InvalidInputError(f"流程格式错误 / invalid flow: {where}: {msg}", details={"where": where})


def _str(d: Mapping[str, Any], key: str, where: str, *, default: str | None = None) -> str:
    value = d.get(key, default)
    if not isinstance(value, str) or (default is None and not value):
        raise _err(f"{where}.{key}", "需要非空字符串 / a non-empty string is required")
    return value


def _strs(d: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = d.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _err(f"{where}.{key}", "需要字符串列表 / a list of strings is required")
    return tuple(cast(list[str], value))


def _answers(raw: Any, where: str) -> tuple[AnswerOption, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise _err(where, "需要列表 / a list is required")
    out = []
    for i, item in enumerate(raw):
        if isinstance(item, str):
            out.append(AnswerOption(item))
        elif isinstance(item, dict):
            out.append(
                AnswerOption(_str(item, "text", f"{where}[{i}]"), _strs(item, "synonyms", f"{where}[{i}]"))
            )
        else:
            raise _err(f"{where}[{i}]", "需要字符串或 {text, synonyms} / a string or {text, synonyms}")
    return tuple(out)


def parse_flow(data: Any) -> Flow:
    if not isinstance(data, dict):
        raise _err("flow", "需要 JSON 对象 / a JSON object is required")
    raw_nodes = data.get("nodes")
    if not isinstance(raw_nodes, list) or not raw_nodes:
        raise _err("flow.nodes", "需要非空列表 / a non-empty list is required")
    nodes: list[FlowNode] = []
    for i, raw in enumerate(raw_nodes):
        where = f"nodes[{i}]"
        if not isinstance(raw, dict):
            raise _err(where, "需要对象 / an object is required")
        ntype = _str(raw, "type", where)
        if ntype not in get_args(NodeType):
            raise _err(f"{where}.type", f"未知节点类型 / unknown node type {ntype!r}")
        speaker = _str(raw, "speaker", where, default="agent")
        if speaker not in get_args(Speaker):
            raise _err(f"{where}.speaker", f"未知说话人 / unknown speaker {speaker!r}")
        nodes.append(
            FlowNode(
                id=_str(raw, "id", where),
                type=cast(NodeType, ntype),
                title=_str(raw, "title", where, default=""),
                script=_str(raw, "script", where, default=""),
                speaker=cast(Speaker, speaker),
                required_statements=_strs(raw, "required_statements", where),
                expected_answers=_answers(raw.get("expected_answers"), f"{where}.expected_answers"),
            )
        )
    ids = [n.id for n in nodes]
    if len(set(ids)) != len(ids):
        raise _err("flow.nodes", "节点 id 重复 / duplicate node ids")
    mode = _str(data, "mode", "flow", default="self_service")
    if mode not in get_args(FlowMode):
        raise _err("flow.mode", f"未知模式 / unknown mode {mode!r}")
    return Flow(
        id=_str(data, "id", "flow", default="flow"),
        name=_str(data, "name", "flow", default=""),
        nodes=tuple(nodes),
        mode=cast(FlowMode, mode),
    )


def parse_markers(data: Any, flow: Flow | None = None) -> tuple[Marker, ...]:
    """Markers from ``[{node_id, start, end, prompts?, answers?}]`` or ``{"markers": [...]}``."""
    if isinstance(data, dict):
        data = data.get("markers")
    if not isinstance(data, list):
        raise _err("markers", "需要列表 / a list is required")
    out: list[Marker] = []
    for i, raw in enumerate(cast(Sequence[Any], data)):
        where = f"markers[{i}]"
        if not isinstance(raw, dict):
            raise _err(where, "需要对象 / an object is required")
        node_id = _str(raw, "node_id", where)
        start, end = raw.get("start"), raw.get("end")
        if not isinstance(start, int | float) or not isinstance(end, int | float) or not 0 <= start <= end:
            raise _err(where, "需要 0 ≤ start ≤ end（秒）/ need 0 ≤ start ≤ end in seconds")
        if flow is not None and flow.node(node_id) is None:
            raise _err(f"{where}.node_id", f"流程中没有该节点 / no such node in the flow: {node_id!r}")
        out.append(
            Marker(
                node_id, float(start), float(end), _strs(raw, "prompts", where), _strs(raw, "answers", where)
            )
        )
    return tuple(sorted(out, key=lambda m: m.start))
