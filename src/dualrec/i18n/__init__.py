"""Messages people read, in one language at a time.

A message is a stable key plus named parameters (:class:`Message`); the catalogue
(:mod:`dualrec.i18n.catalog`) holds one template per key and language. The API renders a
message in the language negotiated for the request (:func:`negotiate`); the CLI and logs use
:func:`bilingual`. Older messages written as one ``"中文 / English"`` literal are split by
:func:`split_legacy` so that a person never sees the pair.

This package is the lowest layer: it imports the standard library only.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "Message",
    "bilingual",
    "has_cjk",
    "msg",
    "negotiate",
    "normalize_language",
    "pair",
    "render",
    "split_legacy",
    "template_fields",
]

LANGUAGES: tuple[str, ...] = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"

_CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


@dataclass(frozen=True)
class Message:
    """A catalogue key and its parameters; rendered late, in the reader's language."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def render(self, language: str = DEFAULT_LANGUAGE) -> str:
        return render(self.key, self.params, language)

    def __str__(self) -> str:  # logs, CLI: both languages
        return bilingual(self.key, self.params)


def pair(zh: str, en: str) -> str:
    """A parameter value known in both languages (a display name): rendered as one side."""
    return zh if zh == en else f"{zh} / {en}"


def msg(key: str, /, **params: Any) -> Message:
    """``msg("session.not_started")`` or ``msg("task.not_found", task_id=7)``."""
    return Message(key, params)


class _Lenient(dict[str, Any]):
    def __missing__(self, name: str) -> str:
        return "{" + name + "}"


def render(key: str, params: Mapping[str, Any] | None, language: str) -> str:
    from dualrec.i18n.catalog import MESSAGES

    entry = MESSAGES.get(key)
    if entry is None:
        return key
    lang = normalize_language(language) or DEFAULT_LANGUAGE
    template = entry.get(lang) or entry[DEFAULT_LANGUAGE]
    # a parameter that is itself a message renders in the same language; an older "中文 / English"
    # text shows its one side only
    values = {
        k: v.render(lang) if isinstance(v, Message) else split_legacy(v, lang) if isinstance(v, str) else v
        for k, v in (params or {}).items()
    }
    try:
        return string.Formatter().vformat(template, (), _Lenient(values))
    except (ValueError, IndexError, KeyError, TypeError):
        return template


def bilingual(key: str, params: Mapping[str, Any] | None = None) -> str:
    zh, en = render(key, params, "zh-CN"), render(key, params, "en")
    return zh if zh == en else f"{zh} / {en}"


def template_fields(template: str) -> set[str]:
    """The named parameters a template uses (``{name}``, ``{name!r}``, ``{name:.1f}``)."""
    return {f.split(".")[0].split("[")[0] for _, f, _, _ in string.Formatter().parse(template) if f}


def normalize_language(tag: str | None) -> str | None:
    """Map a language tag to a supported language (``zh``, ``zh-Hans-CN`` → ``zh-CN``; ``en-GB`` → ``en``)."""
    if not tag:
        return None
    primary = tag.strip().lower().replace("_", "-").split("-")[0]
    if primary == "zh":
        return "zh-CN"
    if primary == "en":
        return "en"
    return None


def negotiate(accept_language: str | None, preferred: str | None = None) -> str:
    """The language to answer in: the user's own setting, else the best supported entry of
    ``Accept-Language`` by q-value (RFC 9110), else zh-CN."""
    chosen = normalize_language(preferred)
    if chosen:
        return chosen
    best: tuple[float, int, str] | None = None
    for order, part in enumerate((accept_language or "").split(",")):
        tag, _, rest = part.strip().partition(";")
        q = 1.0
        for p in rest.split(";"):
            name, _, value = p.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q <= 0:
            continue
        lang = DEFAULT_LANGUAGE if tag.strip() == "*" else normalize_language(tag)
        if lang and (best is None or (q, -order) > (best[0], best[1])):
            best = (q, -order, lang)
    return best[2] if best else DEFAULT_LANGUAGE


# " / ", or "/ " right after full-width punctuation ("（…）/ …"), as the older messages are written
# the English half has no Chinese, or starts with a Latin letter (it may quote a Chinese name: "未找到节点
# 「告知」/ node 告知 not found")
_PAIR = re.compile(
    r"^(?P<zh>.*?[\u3400-\u9fff].*?)(?:\s|(?<=[\u3000-\u303f\uff00-\uffef]))/\s(?P<en>[^\u3400-\u9fff]+|[A-Za-z](?:(?!/\s).)*)$",
    re.S,
)


def split_legacy(text: str, language: str) -> str:
    """One side of a ``"中文 / English"`` message (several joined by ``"; "`` or newlines are split
    each). Text that is not such a pair comes back unchanged."""
    if "/ " not in text:
        return text
    lines = text.split("\n")
    out = []
    for line in lines:
        pieces = line.split("; ")
        out.append("; ".join(_split_one(p, language) for p in pieces))
    return "\n".join(out)


_SEP = r"(?:\s|(?<=[\u3000-\u303f\uff00-\uffef]))/\s"
# zh-CN reading of nested pairs: drop each separator + English phrase up to the next delimiter
_ENGLISH_HALF = re.compile(
    _SEP + r"(?:[^\u3400-\u9fff()（）:：;；]|\([^()\u3400-\u9fff]*\))*?(?=\s*[()（）:：;；]|$)"
)
# en reading: drop each Chinese phrase (after the start or a delimiter) with its separator
_CHINESE_HALF = re.compile(
    r"(?:^|(?<=[(（:：;；])|(?<=[(（:：;；]\s))(?=\S)(?:[^()（）:：;；/]|（[^（）]*）)*?[\u3400-\u9fff]"
    r"(?:[^()（）:：;；/]|（[^（）]*）)*?" + _SEP
)


def _nested(text: str, language: str) -> str:
    if normalize_language(language) == "en":
        return _CHINESE_HALF.sub("", text).strip()
    return _ENGLISH_HALF.sub("", text).strip()


def _split_one(text: str, language: str) -> str:
    m = _PAIR.match(text)
    if not m:
        return text
    zh, en = m.group("zh"), m.group("en")
    if re.search(_SEP + "[A-Za-z]", zh):  # pairs nested inside ("甲 / a (乙 / b): 丙 / c")
        return _nested(text, language)
    # a prefix shared by both sides ("field: 中文 / English") stays on the English side too
    prefix = re.match(r"^[^\u3400-\u9fff]*?[:：]\s*", zh)
    if normalize_language(language) == "en":
        return (prefix.group(0) if prefix else "") + en.strip()
    return zh.strip()
