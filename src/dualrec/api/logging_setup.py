"""Structured JSON logs (one object per line) with the request id; customer link tokens redacted."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import sys
from datetime import UTC, datetime

__all__ = ["TokenRedactingFilter", "configure_logging", "install_token_redaction", "redact_tokens"]

_STD = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime", "color_message"}

# The customer's signed link token (valid 72 h) is the only credential of the self-service pages: it
# sits in the path of /h5/<token>, /api/v1/entry/<token>, /api/v1/rtc/entry/<token> and
# /api/v1/session/<token>/… (the live WebSocket included), so every log line is scrubbed of it.
# A short hash keeps lines correlatable.
_TOKEN_IN_PATH = re.compile(r"(/(?:api/v1/session|api/v1/entry|api/v1/rtc/entry|h5)/)([^/?#\s\"'<>]+)")
# remote interviews: a participant's Janus token in a long-poll query string (?token=…)
_TOKEN_IN_QUERY = re.compile(r"([?&]token=)([^&#\s\"'<>]+)")
# loggers whose records carry request paths (uvicorn's access and WebSocket lines, our access log,
# httpx's request lines: the Janus proxy forwards those query strings)
_PATH_LOGGERS = ("uvicorn.access", "uvicorn.error", "dualrec.access", "httpx")


def _fingerprint(match: re.Match[str]) -> str:
    token = match.group(2)
    if token.startswith("[token:"):
        return match.group(0)
    return f"{match.group(1)}[token:{hashlib.sha256(token.encode()).hexdigest()[:8]}]"


def redact_tokens(text: str) -> str:
    """``/api/v1/session/eyJ0Ijo….abc/live`` → ``/api/v1/session/[token:1a2b3c4d]/live``."""
    if "/" not in text:
        return text
    text = _TOKEN_IN_PATH.sub(_fingerprint, text)
    return _TOKEN_IN_QUERY.sub(_fingerprint, text) if "token=" in text else text


class TokenRedactingFilter(logging.Filter):
    """Rewrites a record's message (and string extras) without the link tokens; never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the logging module's business
            return True
        redacted = redact_tokens(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        for key, value in list(vars(record).items()):
            if key not in _STD and isinstance(value, str) and "/" in value:
                setattr(record, key, redact_tokens(value))
        return True


_FILTER = TokenRedactingFilter()


def install_token_redaction() -> None:
    """Filter the loggers that log request paths (idempotent): whatever handler receives their
    records — ours, a test's, a process manager's — gets them scrubbed."""
    for name in _PATH_LOGGERS:
        target = logging.getLogger(name)
        if _FILTER not in target.filters:
            target.addFilter(_FILTER)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STD and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


class _RedactingFormatter(logging.Formatter):
    """The last line of defence: also scrubs tracebacks and anything a filter did not see."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self._inner = inner

    def format(self, record: logging.LogRecord) -> str:
        return redact_tokens(self._inner.format(record))


def configure_logging(level: str, json_logs: bool) -> None:
    root = logging.getLogger()
    root.setLevel(level.upper())
    handler = logging.StreamHandler(sys.stderr)
    inner = (
        JsonFormatter() if json_logs else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    handler.setFormatter(_RedactingFormatter(inner))
    handler.addFilter(_FILTER)
    root.handlers[:] = [handler]
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)  # we log requests ourselves
    install_token_redaction()
