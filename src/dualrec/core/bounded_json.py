"""JSON from untrusted input with its nesting depth and size bounded *before* it is parsed.

``json.loads`` recurses once per nested array/object: a few thousand ``[`` exhaust the interpreter's
recursion limit (RecursionError, not a JSONDecodeError), which turned a malformed form field into a
500, dropped a WebSocket without a close frame and broke the agent's promise of a ``fail`` answer.
``loads`` counts the brackets outside strings first and refuses too deep or too large input with
``JsonTooComplexError`` (a ``ValueError``, like every other JSON error).
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["MAX_JSON_DEPTH", "JsonTooComplexError", "check_depth", "loads"]

MAX_JSON_DEPTH = 64  # flows, markers and protocol messages nest fewer than 10 levels

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


class JsonTooComplexError(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def check_depth(text: str, max_depth: int = MAX_JSON_DEPTH) -> None:
    """JsonTooComplexError when arrays/objects in ``text`` nest deeper than ``max_depth``."""
    depth = 0
    for match in _BRACKET.finditer(_STRING.sub('""', text) if '"' in text else text):
        if match.group() in "[{":
            depth += 1
            if depth > max_depth:
                raise JsonTooComplexError(
                    f"JSON 嵌套超过 {max_depth} 层 / JSON nested deeper than {max_depth} levels"
                )
        else:
            depth -= 1  # unbalanced input is the parser's to report


def loads(raw: str | bytes, *, max_depth: int = MAX_JSON_DEPTH, max_bytes: int | None = None) -> Any:
    """``json.loads`` after the checks; every failure is a ValueError (JSONDecodeError,
    UnicodeDecodeError or JsonTooComplexError)."""
    if max_bytes is not None and len(raw) > max_bytes:  # characters of a str: at most its UTF-8 size
        raise JsonTooComplexError(f"JSON 超过 {max_bytes} 字节 / JSON larger than {max_bytes} bytes")
    text = raw.decode(json.detect_encoding(raw)) if isinstance(raw, bytes | bytearray) else raw
    check_depth(text, max_depth)
    return json.loads(text)
