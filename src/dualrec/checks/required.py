"""Which checks a recording's flow requires — the one table the verdict reads.

A check the flow requires that could not run (its engine missing, unavailable or raising, or an
input the flow promises missing) makes the verdict REVIEW, whatever the check's severity, and the
verdict's reason names the check, why the flow needs it and why it did not run
(``core.qc.decide_verdict``). A check of this table that the flow does not require is waived: its
``not_run`` (e.g. script coverage of a flow without required statements) does not count. Without
a flow (a plain upload) nothing is required or waived here: critical-severity checks that did not
run force REVIEW. A check that errored always does.

- Every recording made to a flow needs the file, its picture and sound, the customer on camera
  (present, alone or with the agent as the mode asks, the same person throughout), the transcript
  and the sensitive-word search (when a word list is configured): ``FLOW_CHECKS``.
- Each node type adds its own (``NODE_CHECKS``): the identity node the ID card, the face against
  the ID photo and the customer's portrait; a node that asks the customer (qa, willingness) the
  answers; a node of any type with required statements the script coverage.
- An ID photo supplied with the request makes the face comparison required, whatever the nodes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from dualrec.core.flow import NODE_TYPES, Flow, FlowNode

__all__ = ["FLOW_CHECKS", "NODE_CHECKS", "RULED_CHECKS", "required_checks", "waived_checks"]

#: what every recording made to a flow needs, whatever its nodes
FLOW_CHECKS: tuple[str, ...] = (
    "file_integrity",
    "technical_quality",
    "black_screen",
    "frozen_picture",
    "silence",
    "face_presence",
    "people_count",
    "identity_consistency",
    "transcript",
    "sensitive_words",
)

#: node type → the checks an enabled node of that type requires (on the conditions of ``_WHEN``)
NODE_CHECKS: Mapping[str, tuple[str, ...]] = {
    "identity": ("id_card", "identity_match", "portrait", "script_coverage"),
    "risk_disclosure": ("script_coverage",),
    "qa": ("answers", "script_coverage"),
    "willingness": ("answers", "script_coverage"),
    "document_display": ("script_coverage",),
    "signing": ("script_coverage",),
    "end": ("script_coverage",),
}

#: a node requires these checks only when it has something for them to check
_WHEN: Mapping[str, Callable[[FlowNode], bool]] = {
    "script_coverage": lambda node: bool(node.required_statements),
    "answers": lambda node: node.needs_answer,
}

#: the checks this table speaks for (plugins are not among them: for those the severity rule holds)
RULED_CHECKS: frozenset[str] = frozenset(FLOW_CHECKS).union(*NODE_CHECKS.values())

_FLOW_WHY = "流程录像 / a recording made to a flow"
_PHOTO_WHY = "提供了身份证照片 / an ID photo was supplied"


def _node_why(node: FlowNode) -> str:
    zh, en = NODE_TYPES.get(node.type, (node.type, node.type))
    title = f"「{node.title}」" if node.title else ""
    return f"流程节点 {node.id}{title}（{zh}）/ flow node {node.id} ({en})"


def required_checks(
    flow: Flow | None, *, sensitive_words: Sequence[str] = (), id_photo: bool = False
) -> dict[str, str]:
    """Check id → why the recording needs it (the first enabled node that asks for it). Empty
    without a flow. The sensitive-word search is required only when there are words to look for."""
    if flow is None:
        return {}
    out: dict[str, str] = {}
    for check_id in FLOW_CHECKS:
        if check_id != "sensitive_words" or sensitive_words:
            out[check_id] = _FLOW_WHY
    for node in flow.active_nodes:
        for check_id in NODE_CHECKS.get(node.type, ()):
            when = _WHEN.get(check_id)
            if check_id not in out and (when is None or when(node)):
                out[check_id] = _node_why(node)
    if id_photo:
        out.setdefault("identity_match", _PHOTO_WHY)
    return out


def waived_checks(flow: Flow | None, required: Mapping[str, str]) -> frozenset[str]:
    """The checks of this table the flow does not need (none without a flow)."""
    return frozenset() if flow is None else RULED_CHECKS - set(required)
