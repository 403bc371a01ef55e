"""The documented node parameters (a flow node's ``params``) and how every reader reads them.

docs/flows.md promises these; the live session, the customer's page, QC and flow validation all
read them here, so that a parameter is never documented in one spelling and read in another:

- ``identity``: ``liveness_actions`` (2 or 3, or a list of ``blink`` / ``nod`` / ``shake`` asked in
  random order), ``face_threshold`` (the largest face distance customer ↔ ID photo that still
  matches, 0.1–1.0; absent: the server's), ``id_card`` (``false``: identity by liveness only);
- ``willingness``: ``mode`` = ``read_along`` (跟读: spoken, scored by the server) or ``copy``
  (抄录: handwritten on the page, read by OCR); absent: an ordinary answer. ``accuracy`` (0.1–1.0,
  the share of the sentence that must be read / copied; absent: the server's default);
  ``sentence`` (the text to read or copy; absent: the node's shown text after its first colon,
  as in ``请跟读：本人……``);
- ``document_display``: ``min_page_seconds`` (0–600: how long each page is shown before it can be
  confirmed as read; absent: the server's default).

Flows saved before these names used ``read_along`` (the sentence itself) and ``threshold`` on the
willingness node. They are read as a fallback, never rewritten: without ``mode``, a non-empty
``read_along`` means read-along with that sentence; without ``accuracy``, ``threshold`` is the
accuracy.

Nodes are read structurally (``type``, ``params``, ``subtitle``, ``script``) so that ``core.flow``
can use these rules in ``validate_flow`` without an import cycle.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

__all__ = [
    "COPY",
    "COPY_ACCURACY",
    "LIVENESS_ACTIONS",
    "READ_ALONG",
    "READ_ALONG_ACCURACY",
    "NodeLike",
    "Willingness",
    "face_threshold",
    "flow_face_threshold",
    "min_page_seconds",
    "param_problems",
    "willingness",
]

READ_ALONG = "read_along"
COPY = "copy"
# The one default accuracy of each scored willingness mode (a node's params.accuracy overrides it):
# the live session's setting (DUALREC_SESSION_READ_ALONG_THRESHOLD / _COPY_ACCURACY) defaults to it,
# and server QC's ``answers`` thresholds take that setting's value, so both judge a read-along or a
# copy against the same number.
READ_ALONG_ACCURACY = 0.8  # share of the sentence's syllables read, in order
COPY_ACCURACY = 0.8  # share of the sentence's characters copied, in order
WILLINGNESS_MODES: tuple[str, ...] = (READ_ALONG, COPY)
LIVENESS_ACTIONS: tuple[str, ...] = ("blink", "nod", "shake")
ACCURACY_RANGE = (0.1, 1.0)
FACE_THRESHOLD_RANGE = (0.1, 1.0)
PAGE_SECONDS_RANGE = (0.0, 600.0)
_INSTRUCTION_MAX = 16  # "请跟读：" / "请抄录以下内容：" — the part before the colon that is not the sentence


class NodeLike(Protocol):
    @property
    def type(self) -> str: ...

    @property
    def params(self) -> Mapping[str, Any]: ...

    @property
    def subtitle(self) -> str: ...

    @property
    def script(self) -> str: ...


@dataclass(frozen=True)
class Willingness:
    """How a willingness node is confirmed: ``answer`` (是 / 同意, by voice or tapping one of all
    the options), ``read_along`` or ``copy`` of ``sentence`` at ``accuracy`` (None: the server's)."""

    mode: Literal["answer", "read_along", "copy"]
    sentence: str = ""
    accuracy: float | None = None

    @property
    def scored(self) -> bool:
        """True when the node is passed only by a score the server computes (never by a tap)."""
        return self.mode in WILLINGNESS_MODES


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _sentence_from_text(text: str) -> str:
    """``请跟读：本人……`` → ``本人……``; a text without a short instruction before a colon is whole."""
    text = text.strip()
    for i, ch in enumerate(text[: _INSTRUCTION_MAX + 1]):
        if ch in "：:":
            rest = text[i + 1 :].strip()
            return rest or text
    return text


def willingness(node: NodeLike) -> Willingness:
    """The willingness rule of ``node`` (documented names first, the old spellings as a fallback).

    Raises ``ValueError`` for a ``mode`` that is neither ``read_along`` nor ``copy`` (publishing
    refuses such a flow; see ``param_problems``)."""
    params = node.params
    legacy_sentence = params.get("read_along")
    mode = params.get("mode")
    if mode is None and isinstance(legacy_sentence, str) and legacy_sentence.strip():
        mode = READ_ALONG
    if mode is None or mode == "":
        return Willingness("answer")
    if mode not in WILLINGNESS_MODES:
        raise ValueError(f"unknown willingness mode {mode!r}")
    accuracy = _number(params.get("accuracy"))
    if accuracy is None:
        accuracy = _number(params.get("threshold"))
    sentence = params.get("sentence")
    if not (isinstance(sentence, str) and sentence.strip()):
        if isinstance(legacy_sentence, str) and legacy_sentence.strip():
            sentence = legacy_sentence
        else:
            sentence = _sentence_from_text(node.subtitle or node.script)
    return Willingness("read_along" if mode == READ_ALONG else "copy", sentence.strip(), accuracy)


def face_threshold(node: NodeLike) -> float | None:
    """The identity node's ``face_threshold`` (largest matching face distance), None when unset."""
    if node.type != "identity":
        return None
    return _number(node.params.get("face_threshold"))


def flow_face_threshold(nodes: Iterable[NodeLike], default: float) -> float:
    """The face limit a flow sets (its first identity node with ``face_threshold``), else ``default``."""
    return next((t for n in nodes if (t := face_threshold(n)) is not None), default)


def min_page_seconds(node: NodeLike) -> float | None:
    """The document node's ``min_page_seconds``, None when unset (the server's default applies)."""
    if node.type != "document_display":
        return None
    return _number(node.params.get("min_page_seconds"))


def _in(value: Any, lo: float, hi: float) -> bool:
    number = _number(value)
    return number is not None and lo <= number <= hi


def param_problems(node: NodeLike) -> list[tuple[str, str]]:
    """What is wrong with the documented parameters of ``node``: ``(zh, en)`` pairs."""
    p = node.params
    out: list[tuple[str, str]] = []
    if node.type == "willingness":
        try:
            rule = willingness(node)
        except ValueError:
            out.append(
                (
                    f"意愿确认方式 params.mode 须为 read_along 或 copy，而不是「{p.get('mode')}」",
                    f"params.mode must be read_along or copy, not {p.get('mode')!r}",
                )
            )
            return out
        if "accuracy" in p and not _in(p["accuracy"], *ACCURACY_RANGE):
            out.append(
                ("params.accuracy 须为 0.1–1 之间的数", "params.accuracy must be a number from 0.1 to 1")
            )
        if rule.scored and not rule.sentence:
            out.append(("跟读/抄录节点缺少要朗读或抄写的文字", "a read-along/copy node has no sentence"))
    if node.type == "identity":
        if "face_threshold" in p and not _in(p["face_threshold"], *FACE_THRESHOLD_RANGE):
            out.append(
                (
                    "params.face_threshold 须为 0.1–1 之间的数",
                    "params.face_threshold must be a number from 0.1 to 1",
                )
            )
        actions = p.get("liveness_actions")
        if actions is not None:
            ok = (
                isinstance(actions, list) and bool(actions) and all(a in LIVENESS_ACTIONS for a in actions)
            ) or (_number(actions) in (2.0, 3.0))
            if not ok:
                out.append(
                    (
                        "params.liveness_actions 须为 2、3 或 blink/nod/shake 的列表",
                        "params.liveness_actions must be 2, 3 or a list of blink/nod/shake",
                    )
                )
    page_seconds = p.get("min_page_seconds", 0)
    if node.type == "document_display" and not _in(page_seconds, *PAGE_SECONDS_RANGE):
        out.append(
            (
                "params.min_page_seconds 须为 0–600 之间的秒数",
                "params.min_page_seconds must be 0 to 600 seconds",
            )
        )
    return out
