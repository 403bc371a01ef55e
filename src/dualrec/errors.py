"""The exception tree. Every domain error the API can surface derives from ``DualrecError``.

The API maps each class to an HTTP status and a problem type in one table
(``dualrec.api.problems``); lower layers never raise HTTP exceptions.
"""

from __future__ import annotations

from typing import Any

from dualrec.i18n import DEFAULT_LANGUAGE, Message, split_legacy

__all__ = [
    "AuthenticationError",
    "ConfigurationError",
    "ConflictError",
    "DualrecError",
    "EngineUnavailableError",
    "InvalidInputError",
    "LockedOutError",
    "MediaError",
    "Message",
    "NotFoundError",
    "OfficeConverterUnavailableError",
    "PermissionDeniedError",
    "QuotaExceededError",
    "RangeNotSatisfiableError",
    "RateLimitedError",
]


class DualrecError(Exception):
    """Base of all expected errors. ``code`` is a stable machine-readable id of the kind of error.

    The message is a catalogue :class:`~dualrec.i18n.Message` (``msg("task.not_found", id=3)``):
    the API renders it in the reader's language and reports its key and parameters; ``message``
    (logs, CLI) carries both languages. A plain string is still accepted for older call sites.
    """

    code = "error"

    def __init__(self, message: str | Message, *, details: dict[str, Any] | None = None) -> None:
        if isinstance(message, Message):
            self.key: str | None = message.key
            self.params: dict[str, Any] = dict(message.params)
            text = str(message)
        else:
            self.key, self.params, text = None, {}, str(message)
        super().__init__(text)
        self.message = text
        self.details = details or {}

    def localized(self, language: str = DEFAULT_LANGUAGE) -> str:
        """The message in one language (a legacy ``"中文 / English"`` string is split)."""
        if self.key is not None:
            return Message(self.key, self.params).render(language)
        return split_legacy(self.message, language)


class ConfigurationError(DualrecError):
    code = "configuration"


class InvalidInputError(DualrecError):
    code = "invalid_input"


class NotFoundError(DualrecError):
    code = "not_found"


class ConflictError(DualrecError):
    code = "conflict"


class AuthenticationError(DualrecError):
    code = "unauthenticated"


class LockedOutError(AuthenticationError):
    code = "locked_out"


class PermissionDeniedError(DualrecError):
    code = "forbidden"


class RateLimitedError(DualrecError):
    code = "rate_limited"


class QuotaExceededError(DualrecError):
    """An upload would pass its quota (e.g. the bytes one self-service attempt may store)."""

    code = "quota_exceeded"


class RangeNotSatisfiableError(InvalidInputError):
    code = "range_not_satisfiable"


class OfficeConverterUnavailableError(InvalidInputError):
    """A Word/PowerPoint document was sent but LibreOffice is not installed to convert it to PDF."""

    code = "office_converter_unavailable"


class MediaError(DualrecError):
    """A media file cannot be opened or decoded (truncated, wrong format, no stream...)."""

    code = "media"


class EngineUnavailableError(DualrecError):
    """An AI engine or its model files are not installed/usable on this machine."""

    code = "engine_unavailable"
