"""The live flow as a pure state machine: which node runs now, and what an answer leads to.

``start(flow)`` gives the first state; ``advance(flow, state, outcome)`` gives the next one. The
caller (the self-service session, the interviewer's console, tests) does the talking and the
recognising and reports each node's outcome:

- an answer node (qa / willingness) gets ``Answer(text)`` or ``NoAnswer()`` (timeout): the answer
  is matched against the node's expected answers; a matched answer follows its branch (or the
  default successor); a wrong, unclear or missing answer is asked again up to ``retries`` times,
  then the node's ``on_fail`` applies (the attempt fails, or is handed to a human);
- any other node gets ``Passed()`` or ``Failed(reason)`` (e.g. liveness failed), with the same
  retry rule;
- a willingness node whose rule is a score (read-along, copy) gets ``Scored(text, passed)``: the
  caller scored what was heard / written against the node's sentence. Not passed is a wrong answer
  (asked again, then ``on_fail``); ``Scored(text, False, review=reason)`` goes on like a pass but
  the step says ``review`` with the reason (handwriting that could not be read with confidence is
  left to a person, never passed silently).

Loops drawn in the flow (否 → explain again → ask again) are allowed, but a node entered more
than ``MAX_VISITS`` times ends the attempt by its ``on_fail`` so a session always terminates.
Every transition is kept in ``steps`` (for markers and audit).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal

from dualrec.core.answers import NEGATIVE, AnswerMatch, clean_answer, has_form, match_option, opposite
from dualrec.core.flow import Flow, FlowNode
from dualrec.i18n import msg

__all__ = [
    "MAX_VISITS",
    "Answer",
    "Failed",
    "FlowState",
    "NoAnswer",
    "Outcome",
    "Passed",
    "Scored",
    "Step",
    "advance",
    "judge_answer",
    "start",
]

MAX_VISITS = 3
Status = Literal["running", "completed", "failed", "handover"]


@dataclass(frozen=True)
class Answer:
    text: str


@dataclass(frozen=True)
class NoAnswer:
    """The node's timeout passed without an answer (silence is not consent)."""


@dataclass(frozen=True)
class Passed:
    """A non-answer node finished successfully (identity verified, page read, document signed)."""


@dataclass(frozen=True)
class Failed:
    reason: str


@dataclass(frozen=True)
class Scored:
    """An answer node judged by the caller's score: ``text`` what was heard or read, ``passed`` the
    score reached the node's accuracy; a non-empty ``review`` goes on, marked for human review."""

    text: str
    passed: bool
    review: str = ""


Outcome = Answer | NoAnswer | Passed | Failed | Scored


@dataclass(frozen=True)
class Step:
    """One transition: at ``node_id`` (its ``ask``-th ask) the outcome was ``result``; then ``to``."""

    node_id: str
    ask: int
    result: Literal["matched", "wrong", "unclear", "silent", "passed", "failed", "review"]
    to: str  # next node id, or @retry / @end / @fail / @handover
    answer: str = ""
    option: str = ""  # the expected answer that matched
    reason: str = ""


@dataclass(frozen=True)
class FlowState:
    status: Status
    node_id: str | None  # the node to run now (None once finished)
    ask: int = 1  # 1 on the first ask, 2+ when the node is asked again
    reason: str = ""  # why it failed or was handed over
    visits: Mapping[str, int] | None = None
    steps: tuple[Step, ...] = ()

    @property
    def finished(self) -> bool:
        return self.status != "running"


def start(flow: Flow) -> FlowState:
    active = flow.active_nodes
    if not active:
        return FlowState("completed", None)
    first = active[0].id
    return FlowState("running", first, visits={first: 1})


def _options(node: FlowNode) -> list[tuple[str, tuple[str, ...]]]:
    if node.expected_answers:
        return [(a.text, a.synonyms) for a in node.expected_answers]
    # no expected answers: an affirmative answer continues; 否 only matters when a branch names it
    return [("是", ()), ("否", ())]


def _accepts(node: FlowNode, option: str) -> bool:
    """A matched option is acceptable when it was listed, or (default options) it is 是 or branched."""
    if node.expected_answers:
        return True
    return option == "是" or any(b.answer == option for b in node.branches)


def _judge(node: FlowNode, outcome: Outcome) -> tuple[str, str, str]:
    """(result, matched option, answer text) for ``outcome`` at ``node``."""
    if isinstance(outcome, NoAnswer):
        return "silent", "", ""
    if isinstance(outcome, Passed):
        return "passed", "", ""
    if isinstance(outcome, Failed):
        return "failed", "", ""
    if isinstance(outcome, Scored):
        # the affirmative option: the way a confirmed node goes on (its branch, else the successor)
        yes = node.expected_answers[0].text if node.expected_answers else "是"
        if outcome.review:
            return "review", yes, outcome.text
        return ("matched", yes, outcome.text) if outcome.passed else ("wrong", "", outcome.text)
    options = _options(node)
    match: AnswerMatch = match_option(outcome.text, options)
    if match.kind == "silent":
        return "silent", "", outcome.text
    if match.kind == "unclear" or match.option is None:
        clean = clean_answer(outcome.text)
        tapped_other = len(options) == 1 and clean == clean_answer(opposite(options[0][0]))  # 有 for 没有
        wrong = tapped_other or any(has_form(clean, n) for n in NEGATIVE)
        return ("wrong" if wrong else "unclear"), "", outcome.text
    option = options[match.option][0]
    return ("matched" if _accepts(node, option) else "wrong"), option, outcome.text


def judge_answer(node: FlowNode, text: str) -> tuple[str, str]:
    """How the flow would judge ``text`` as the answer at ``node``: (result, matched option) with
    result ``matched`` / ``wrong`` (contradicts the expected answer) / ``unclear`` / ``silent``."""
    result, option, _text = _judge(node, Answer(text))
    return result, option


def _finish(state: FlowState, step: Step, status: Status, reason: str = "") -> FlowState:
    return FlowState(status, None, 1, reason, state.visits, (*state.steps, step))


def advance(flow: Flow, state: FlowState, outcome: Outcome) -> FlowState:
    """The state after the current node produced ``outcome``. A finished state is returned as is."""
    if state.finished or state.node_id is None:
        return state
    node = flow.node(state.node_id)
    if node is None:
        raise KeyError(f"node {state.node_id!r} is not in the flow")
    if node.needs_answer and isinstance(outcome, Passed | Failed):
        raise ValueError(f"node {node.id!r} expects an answer, not {type(outcome).__name__}")
    if not node.needs_answer and isinstance(outcome, Answer | NoAnswer | Scored):
        raise ValueError(f"node {node.id!r} ({node.type}) takes Passed/Failed, not an answer")
    result, option, text = _judge(node, outcome)
    reason = outcome.reason if isinstance(outcome, Failed) else ""
    if isinstance(outcome, Scored) and outcome.review:
        reason = outcome.review
    base = {"node_id": node.id, "ask": state.ask, "result": result, "answer": text, "option": option}
    if result in ("matched", "passed", "review"):
        target = next((b.next for b in node.branches if b.answer == option), None) if option else None
        target = target or flow.successor(node.id)
        step = Step(to=target, reason=reason, **base)  # type: ignore[arg-type]
        if target == "@end":
            return _finish(state, step, "completed")
        if target in ("@fail", "@handover"):
            why = str(msg("flow.ended_by_answer", node=node.title or node.id, option=option))
            return _finish(state, step, "failed" if target == "@fail" else "handover", why)
        visits = dict(state.visits or {})
        visits[target] = visits.get(target, 0) + 1
        if visits[target] > MAX_VISITS:
            loop_node = flow.node(target) or node
            why = str(msg("flow.node_repeated", node=loop_node.title or target, limit=MAX_VISITS))
            fail_status: Status = "failed" if loop_node.on_fail == "fail" else "handover"
            return _finish(state, replace(step, to="@" + loop_node.on_fail), fail_status, why)
        return FlowState("running", target, 1, "", visits, (*state.steps, step))
    # wrong / unclear / silent / failed: ask again, then the node's on_fail
    if state.ask <= node.retries:
        step = Step(to="@retry", reason=reason, **base)  # type: ignore[arg-type]
        return FlowState("running", node.id, state.ask + 1, "", state.visits, (*state.steps, step))
    what = msg(f"flow.result_{result}", reason=reason)
    # one "中文 / English" pair (the reason is stored as text): pages show the reader's half
    why = str(msg("flow.node_gave_up", node=node.title or node.id, what=what, tries=state.ask))
    step = Step(to="@" + node.on_fail, reason=reason, **base)  # type: ignore[arg-type]
    return _finish(state, step, "failed" if node.on_fail == "fail" else "handover", why)
