"""Recording flows (流程): nodes, texts, expected answers, branches; parsing, validation, diff.

A flow is pure data, parsed from plain dicts (JSON) with precise errors and written back with
``flow_to_dict`` (defaults omitted, so stored versions and diffs stay small). QC reads the same
model (scripts, required statements, expected answers, markers); the live flow engine in
``core.flow_engine`` walks it; ``validate_flow`` says what blocks publishing.

Branch targets are node ids or one of ``@end`` (finish), ``@fail`` (the attempt fails) and
``@handover`` (hand the customer to a human interviewer).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast, get_args

from dualrec.core.node_params import param_problems
from dualrec.core.sensitive_words import find_words
from dualrec.errors import InvalidInputError
from dualrec.i18n import msg

__all__ = [
    "NODE_TYPES",
    "SPECIAL_TARGETS",
    "AnswerOption",
    "Branch",
    "FailAction",
    "Flow",
    "FlowChange",
    "FlowMode",
    "FlowNode",
    "FlowProblem",
    "Marker",
    "NodeType",
    "Speaker",
    "TextHit",
    "diff_flows",
    "flow_to_dict",
    "parse_flow",
    "parse_markers",
    "review_flow_texts",
    "validate_flow",
]

NodeType = Literal["identity", "risk_disclosure", "qa", "willingness", "document_display", "signing", "end"]
Speaker = Literal["agent", "customer", "system"]
FlowMode = Literal["self_service", "human"]
FailAction = Literal["fail", "handover"]
ANSWER_NODE_TYPES: frozenset[str] = frozenset({"qa", "willingness"})
SPECIAL_TARGETS: frozenset[str] = frozenset({"@end", "@fail", "@handover"})

#: node type → (zh-CN, en) names, in the standard order of SPEC §1
NODE_TYPES: dict[str, tuple[str, str]] = {
    "identity": ("身份核实", "Identity verification"),
    "risk_disclosure": ("业务介绍及风险告知", "Business introduction and risk disclosure"),
    "qa": ("反欺诈提问", "Anti-fraud questions"),
    "willingness": ("意愿确认", "Willingness confirmation"),
    "document_display": ("文件展示", "Document display"),
    "signing": ("文件签署", "Document signing"),
    "end": ("结束录制", "End of recording"),
}

_MAX_RETRIES = 5
_MAX_TIMEOUT = 600.0


@dataclass(frozen=True)
class AnswerOption:
    """An expected answer and the words that mean the same (e.g. 是 ≈ 是的/对/确认)."""

    text: str
    synonyms: tuple[str, ...] = ()

    @property
    def all_forms(self) -> tuple[str, ...]:
        return (self.text, *self.synonyms)


@dataclass(frozen=True)
class Branch:
    """When the customer gives ``answer`` (an expected answer's text), go to ``next``."""

    answer: str
    next: str


@dataclass(frozen=True)
class FlowNode:
    id: str
    type: NodeType
    title: str = ""
    script: str = ""  # what is read/played in this node (TTS text)
    subtitle: str = ""  # shown on screen; empty: the script
    speaker: Speaker = "agent"
    required_statements: tuple[str, ...] = ()
    expected_answers: tuple[AnswerOption, ...] = ()  # empty on qa/willingness: an affirmative answer
    optional: bool = False  # may be switched off per flow
    enabled: bool = True
    retries: int = 1  # how many times a wrong/unclear answer (or a failed step) is asked again
    timeout_seconds: float = 30.0  # no answer within this time counts as an unclear answer
    branches: tuple[Branch, ...] = ()
    next: str | None = None  # default successor; None: the next enabled node in order
    on_fail: FailAction = "fail"  # after the retries are used up
    draw_bank: str = ""  # qa: questions drawn from this bank (business type) when a task starts
    params: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=True)

    @property
    def needs_answer(self) -> bool:
        return self.type in ANSWER_NODE_TYPES

    @property
    def shown_text(self) -> str:
        return self.subtitle or self.script


@dataclass(frozen=True)
class Flow:
    id: str
    name: str
    nodes: tuple[FlowNode, ...]
    mode: FlowMode = "self_service"
    business_type: str = ""
    description: str = ""

    def node(self, node_id: str) -> FlowNode | None:
        return next((n for n in self.nodes if n.id == node_id), None)

    @property
    def active_nodes(self) -> tuple[FlowNode, ...]:
        return tuple(n for n in self.nodes if n.enabled)

    def successor(self, node_id: str) -> str:
        """Where ``node_id`` goes by default: its ``next``, else the next enabled node, else @end."""
        node = self.node(node_id)
        if node is None:
            raise KeyError(node_id)
        if node.type == "end":
            return "@end"
        if node.next:
            return node.next
        after = False
        for n in self.nodes:
            if after and n.enabled:
                return n.id
            after = after or n.id == node_id
        return "@end"


@dataclass(frozen=True)
class Marker:
    """打点: when a node ran in the recording, what was played and what the system recorded."""

    node_id: str
    start: float
    end: float
    prompts: tuple[str, ...] = ()
    answers: tuple[str, ...] = ()


def _err(where: str, problem: str) -> InvalidInputError:
    return InvalidInputError(msg("flow.invalid_flow", where=where, msg=problem), details={"where": where})


def _str(
    d: Mapping[str, Any], key: str, where: str, *, default: str | None = None, limit: int = 20000
) -> str:
    value = d.get(key, default)
    if not isinstance(value, str) or (default is None and not value):
        raise _err(f"{where}.{key}", "需要非空字符串 / a non-empty string is required")
    if len(value) > limit:
        raise _err(f"{where}.{key}", f"超过 {limit} 个字符 / longer than {limit} characters")
    return value


def _strs(d: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = d.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _err(f"{where}.{key}", "需要字符串列表 / a list of strings is required")
    return tuple(cast(list[str], value))


def _bool(d: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
    value = d.get(key, default)
    if not isinstance(value, bool):
        raise _err(f"{where}.{key}", "需要 true/false / a boolean is required")
    return value


def _number(d: Mapping[str, Any], key: str, where: str, default: float, lo: float, hi: float) -> float:
    value = d.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
        raise _err(f"{where}.{key}", f"需要 {lo:g}–{hi:g} 之间的数 / a number from {lo:g} to {hi:g}")
    return float(value)


def _choice(d: Mapping[str, Any], key: str, where: str, default: str, allowed: Iterable[str]) -> str:
    value = _str(d, key, where, default=default)
    allowed = tuple(allowed)
    if value not in allowed:
        raise _err(f"{where}.{key}", f"取值须为 {'/'.join(allowed)} / must be one of {', '.join(allowed)}")
    return value


def _answers(raw: Any, where: str) -> tuple[AnswerOption, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise _err(where, "需要列表 / a list is required")
    out = []
    for i, item in enumerate(raw):
        if isinstance(item, str) and item:
            out.append(AnswerOption(item))
        elif isinstance(item, dict):
            _no_unknown(item, {"text", "synonyms"}, f"{where}[{i}]")
            out.append(
                AnswerOption(_str(item, "text", f"{where}[{i}]"), _strs(item, "synonyms", f"{where}[{i}]"))
            )
        else:
            raise _err(f"{where}[{i}]", "需要字符串或 {text, synonyms} / a string or {text, synonyms}")
    return tuple(out)


def _branches(raw: Any, where: str) -> tuple[Branch, ...]:
    if raw is None:
        return ()
    if isinstance(raw, dict):  # {"是": "n3", "否": "@handover"}
        raw = [{"answer": k, "next": v} for k, v in raw.items()]
    if not isinstance(raw, list):
        raise _err(where, "需要列表 / a list is required")
    out = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise _err(f"{where}[{i}]", "需要 {answer, next} / an {answer, next} object is required")
        _no_unknown(item, {"answer", "next"}, f"{where}[{i}]")
        out.append(Branch(_str(item, "answer", f"{where}[{i}]"), _str(item, "next", f"{where}[{i}]")))
    return tuple(out)


def _params(raw: Any, where: str) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not all(isinstance(k, str) for k in raw):
        raise _err(where, "需要对象 / an object is required")
    for key, value in raw.items():
        ok = isinstance(value, str | int | float | bool) or (
            isinstance(value, list) and all(isinstance(v, str | int | float) for v in value)
        )
        if not ok:
            raise _err(f"{where}.{key}", "只允许数字、文字或其列表 / only numbers, text or lists of them")
    return dict(raw)


_NODE_KEYS = frozenset(
    {
        "id",
        "type",
        "title",
        "script",
        "subtitle",
        "speaker",
        "required_statements",
        "expected_answers",
        "optional",
        "enabled",
        "retries",
        "timeout_seconds",
        "branches",
        "next",
        "on_fail",
        "draw_bank",
        "params",
    }
)
_FLOW_KEYS = frozenset({"id", "name", "nodes", "mode", "business_type", "description"})


def _no_unknown(d: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
    unknown = sorted(set(d) - set(allowed))
    if unknown:
        raise _err(where, f"未知字段 / unknown fields: {', '.join(unknown)}")


def _parse_node(raw: Any, where: str) -> FlowNode:
    if not isinstance(raw, dict):
        raise _err(where, "需要对象 / an object is required")
    _no_unknown(raw, _NODE_KEYS, where)
    ntype = _choice(raw, "type", where, "", get_args(NodeType)) if "type" in raw else _str(raw, "type", where)
    nxt = raw.get("next")
    if nxt is not None and (not isinstance(nxt, str) or not nxt):
        raise _err(f"{where}.next", "需要节点 id / a node id is required")
    return FlowNode(
        id=_str(raw, "id", where, limit=64),
        type=cast(NodeType, ntype),
        title=_str(raw, "title", where, default="", limit=200),
        script=_str(raw, "script", where, default=""),
        subtitle=_str(raw, "subtitle", where, default=""),
        speaker=cast(Speaker, _choice(raw, "speaker", where, "agent", get_args(Speaker))),
        required_statements=_strs(raw, "required_statements", where),
        expected_answers=_answers(raw.get("expected_answers"), f"{where}.expected_answers"),
        optional=_bool(raw, "optional", where, False),
        enabled=_bool(raw, "enabled", where, True),
        retries=int(_number(raw, "retries", where, 1, 0, _MAX_RETRIES)),
        timeout_seconds=_number(raw, "timeout_seconds", where, 30.0, 1.0, _MAX_TIMEOUT),
        branches=_branches(raw.get("branches"), f"{where}.branches"),
        next=nxt,
        on_fail=cast(FailAction, _choice(raw, "on_fail", where, "fail", get_args(FailAction))),
        draw_bank=_str(raw, "draw_bank", where, default="", limit=64),
        params=_params(raw.get("params"), f"{where}.params"),
    )


def parse_flow(data: Any) -> Flow:
    """A ``Flow`` from its JSON form; structural errors raise ``InvalidInputError`` with ``where``.

    Referential problems (a branch to a missing node, …) are reported by ``validate_flow``, so a
    draft with problems can still be saved and shown.
    """
    if not isinstance(data, dict):
        raise _err("flow", "需要 JSON 对象 / a JSON object is required")
    _no_unknown(data, _FLOW_KEYS, "flow")
    raw_nodes = data.get("nodes")
    if not isinstance(raw_nodes, list) or not raw_nodes:
        raise _err("flow.nodes", "需要非空列表 / a non-empty list is required")
    nodes = [_parse_node(raw, f"nodes[{i}]") for i, raw in enumerate(raw_nodes)]
    ids = [n.id for n in nodes]
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})
        raise _err("flow.nodes", f"节点 id 重复 / duplicate node ids: {', '.join(dup)}")
    bad = [i for i in ids if i.startswith("@")]
    if bad:
        raise _err("flow.nodes", f"节点 id 不能以 @ 开头 / node ids may not start with @: {bad[0]}")
    return Flow(
        id=_str(data, "id", "flow", default="flow", limit=64),
        name=_str(data, "name", "flow", default="", limit=200),
        nodes=tuple(nodes),
        mode=cast(FlowMode, _choice(data, "mode", "flow", "self_service", get_args(FlowMode))),
        business_type=_str(data, "business_type", "flow", default="", limit=64),
        description=_str(data, "description", "flow", default="", limit=2000),
    )


_NODE_DEFAULTS = FlowNode(id="", type="end")


def _node_dict(node: FlowNode) -> dict[str, Any]:
    out: dict[str, Any] = {"id": node.id, "type": node.type}
    for name in (
        "title",
        "script",
        "subtitle",
        "speaker",
        "optional",
        "enabled",
        "retries",
        "timeout_seconds",
        "next",
        "on_fail",
        "draw_bank",
    ):
        value = getattr(node, name)
        if value != getattr(_NODE_DEFAULTS, name):
            out[name] = value
    if node.required_statements:
        out["required_statements"] = list(node.required_statements)
    if node.expected_answers:
        out["expected_answers"] = [
            {"text": a.text, "synonyms": list(a.synonyms)} if a.synonyms else a.text
            for a in node.expected_answers
        ]
    if node.branches:
        out["branches"] = [{"answer": b.answer, "next": b.next} for b in node.branches]
    if node.params:
        out["params"] = dict(node.params)
    return out


def flow_to_dict(flow: Flow) -> dict[str, Any]:
    """The JSON form of ``flow`` (``parse_flow(flow_to_dict(f)) == f``), defaults omitted."""
    out: dict[str, Any] = {"id": flow.id, "name": flow.name, "mode": flow.mode}
    if flow.business_type:
        out["business_type"] = flow.business_type
    if flow.description:
        out["description"] = flow.description
    out["nodes"] = [_node_dict(n) for n in flow.nodes]
    return out


@dataclass(frozen=True)
class FlowProblem:
    """Something that blocks publishing: where (node id or ``flow``) and what, in zh-CN / en."""

    where: str
    message: str


def _targets(flow: Flow, node: FlowNode) -> list[str]:
    """Every place ``node`` can lead to (branches, the default successor, the failure outcome)."""
    out = [b.next for b in node.branches]
    out.append(flow.successor(node.id))
    out.append("@" + node.on_fail)
    return out


def validate_flow(flow: Flow) -> list[FlowProblem]:
    problems: list[FlowProblem] = []

    def add(where: str, zh: str, en: str) -> None:
        problems.append(FlowProblem(where, f"{zh} / {en}"))

    active = flow.active_nodes
    if not active:
        add("flow", "没有启用的节点", "no enabled node")
        return problems
    ids = {n.id for n in flow.nodes}
    for node in flow.nodes:
        if not node.enabled and not node.optional:
            add(node.id, "必选节点不能关闭", "a required node cannot be switched off")
        if not node.enabled:
            continue
        if node.type in ("risk_disclosure", "willingness") and not node.script.strip():
            add(node.id, "缺少播报文本", "the node has no script")
        if node.type == "qa" and not node.script.strip() and not node.draw_bank:
            add(node.id, "问答节点需要问题文本或题库", "a qa node needs a question or a question bank")
        answers = {a.text for a in node.expected_answers}
        if node.branches and node.type in ANSWER_NODE_TYPES and not node.expected_answers:
            answers = {"是", "否"}
        for b in node.branches:
            if node.type not in ANSWER_NODE_TYPES:
                add(node.id, "只有问答/意愿节点可以按回答分支", "only qa/willingness nodes branch on answers")
                break
            if b.answer not in answers:
                add(
                    node.id,
                    f"分支答案「{b.answer}」不在标准答案中",
                    f"branch answer {b.answer!r} is not expected",
                )
        for target in [b.next for b in node.branches] + ([node.next] if node.next else []):
            if target in SPECIAL_TARGETS:
                continue
            if target not in ids:
                add(node.id, f"跳转目标「{target}」不存在", f"target {target!r} does not exist")
            elif not (flow.node(target) or node).enabled:
                add(node.id, f"跳转目标「{target}」已关闭", f"target {target!r} is switched off")
        if node.draw_bank and node.type != "qa":
            add(node.id, "只有问答节点可以从题库抽题", "only qa nodes draw from a question bank")
        for zh, en in param_problems(node):
            add(node.id, zh, en)
    if problems:
        return problems
    # every enabled node reachable from the first; from every reachable node a way to the end
    graph = {n.id: [t for t in _targets(flow, n) if t not in SPECIAL_TARGETS or t == "@end"] for n in active}
    seen: set[str] = set()
    stack = [active[0].id]
    while stack:
        cur = stack.pop()
        if cur in seen or cur == "@end":
            continue
        seen.add(cur)
        stack.extend(graph.get(cur, []))
    for node in active:
        if node.id not in seen:
            add(node.id, "该节点无法到达", "the node can never be reached")
    ends = {"@end"}
    changed = True
    while changed:
        changed = False
        for nid, targets in graph.items():
            if nid not in ends and any(t in ends for t in targets):
                ends.add(nid)
                changed = True
    for nid in sorted(seen - ends):
        add(nid, "从该节点无法走到结束", "the flow can never finish from this node")
    return problems


@dataclass(frozen=True)
class TextHit:
    """A sensitive word in a flow text: node, field (``script``, ``required_statements[1]`` …)."""

    node_id: str
    field: str
    word: str
    index: int
    text: str


def _texts(node: FlowNode) -> Iterable[tuple[str, str]]:
    yield "title", node.title
    yield "script", node.script
    yield "subtitle", node.subtitle
    for i, s in enumerate(node.required_statements):
        yield f"required_statements[{i}]", s


def review_flow_texts(flow: Flow, words: Sequence[str]) -> list[TextHit]:
    """Every sensitive word in the flow's texts (what the agent says, shows or requires); a denied
    word (本产品不保本) is a disclosure, not a hit."""
    hits: list[TextHit] = []
    for node in flow.nodes:
        for name, text in _texts(node):
            found = find_words(text, words, skip_negated=True)
            hits += [TextHit(node.id, name, h.word, h.index, text) for h in found]
    return hits


@dataclass(frozen=True)
class FlowChange:
    """One difference between two versions: ``added``/``removed``/``moved`` node or a ``changed``
    field (``before``/``after`` in JSON form)."""

    kind: Literal["added", "removed", "moved", "changed", "flow"]
    node_id: str
    field: str = ""
    before: Any = None
    after: Any = None


def diff_flows(old: Flow | None, new: Flow) -> list[FlowChange]:
    """What publishing ``new`` changes compared with ``old`` (None: everything is added)."""
    if old is None:
        return [FlowChange("added", n.id) for n in new.nodes]
    changes: list[FlowChange] = []
    for name in ("name", "mode", "business_type", "description"):
        if getattr(old, name) != getattr(new, name):
            changes.append(FlowChange("flow", "", name, getattr(old, name), getattr(new, name)))
    old_ids = [n.id for n in old.nodes]
    new_ids = [n.id for n in new.nodes]
    changes += [FlowChange("removed", i) for i in old_ids if i not in new_ids]
    kept_old = [i for i in old_ids if i in new_ids]
    kept_new = [i for i in new_ids if i in old_ids]
    for i in new_ids:
        if i not in old_ids:
            changes.append(FlowChange("added", i))
            continue
        if kept_old.index(i) != kept_new.index(i):
            changes.append(FlowChange("moved", i, "position", kept_old.index(i) + 1, kept_new.index(i) + 1))
        before, after = _node_dict(cast(FlowNode, old.node(i))), _node_dict(cast(FlowNode, new.node(i)))
        for key in sorted(set(before) | set(after)):
            if before.get(key) != after.get(key):
                changes.append(FlowChange("changed", i, key, before.get(key), after.get(key)))
    return changes


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
