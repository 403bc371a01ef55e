"""Validation of job kinds, payloads and results: plain JSON only, small, never pickled."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from dualrec.errors import InvalidInputError
from dualrec.i18n import msg

__all__ = [
    "MAX_ATTEMPTS",
    "MAX_PAYLOAD_BYTES",
    "check_attempts",
    "check_kind",
    "check_payload",
    "check_result",
]

MAX_ATTEMPTS = 20

MAX_PAYLOAD_BYTES = 16 * 1024
MAX_RESULT_BYTES = 256 * 1024
_KIND = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def check_kind(kind: object) -> str:
    if not isinstance(kind, str) or len(kind) > 64 or not _KIND.match(kind):
        raise InvalidInputError(
            msg("jobs.invalid_job_kind_lowercase_dotted"),
            details={"kind": repr(kind)[:80]},
        )
    return kind


def check_attempts(max_attempts: object) -> int:
    if (
        isinstance(max_attempts, bool)
        or not isinstance(max_attempts, int)
        or not 1 <= max_attempts <= MAX_ATTEMPTS
    ):
        raise InvalidInputError(
            f"max_attempts must be an integer from 1 to {MAX_ATTEMPTS}",
            details={"max_attempts": max_attempts},
        )
    return max_attempts


def _is_scalar(value: object) -> bool:
    if value is None or isinstance(value, (bool, str, int)):
        return True
    return isinstance(value, float) and math.isfinite(value)


def check_payload(payload: object) -> dict[str, Any]:
    """A payload is a flat object of ids: keys are identifiers, values are JSON scalars
    (string, integer, finite number, boolean, null) or lists of scalars."""
    if not isinstance(payload, Mapping):
        raise InvalidInputError(msg("jobs.job_payload_must_json_object"))
    clean: dict[str, Any] = {}
    for key, value in payload.items():
        if not isinstance(key, str) or not _KEY.match(key):
            raise InvalidInputError(msg("jobs.invalid_job_payload_key"), details={"key": repr(key)[:80]})
        if isinstance(value, (list, tuple)):
            if not all(_is_scalar(item) for item in value):
                raise InvalidInputError(
                    msg("jobs.payload_lists_hold_only_ids"),
                    details={"key": key},
                )
            clean[key] = list(value)
        elif _is_scalar(value):
            clean[key] = value
        else:
            raise InvalidInputError(
                msg("jobs.job_payload_values_must_ids"),
                details={"key": key, "type": type(value).__name__},
            )
    size = len(json.dumps(clean, ensure_ascii=False).encode())
    if size > MAX_PAYLOAD_BYTES:
        raise InvalidInputError(
            msg("jobs.job_payload_too_large"), details={"bytes": size, "limit": MAX_PAYLOAD_BYTES}
        )
    return clean


def check_result(result: object) -> dict[str, Any] | None:
    """A handler's result: None or a JSON object (nesting allowed), at most 256 KiB."""
    if result is None:
        return None
    if not isinstance(result, Mapping):
        raise InvalidInputError(f"job handler returned {type(result).__name__}, expected a dict or None")
    try:
        text = json.dumps(dict(result), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"job result is not plain JSON: {exc}") from exc
    if len(text.encode()) > MAX_RESULT_BYTES:
        raise InvalidInputError("job result too large", details={"limit": MAX_RESULT_BYTES})
    loaded: dict[str, Any] = json.loads(text)
    return loaded
