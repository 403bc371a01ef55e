"""One table mapping domain errors to RFC 9457 problem+json responses."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from dualrec import errors as e
from dualrec.i18n import Message, negotiate, split_legacy
from dualrec.storage.envelope import BlobIntegrityError

__all__ = ["ERROR_TABLE", "install_problem_handlers", "problem", "request_language"]

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

# exception class -> (HTTP status, title key). The most specific class wins (checked in MRO order).
ERROR_TABLE: dict[type[e.DualrecError], tuple[int, str]] = {
    BlobIntegrityError: (500, "problem.title.integrity"),
    e.RangeNotSatisfiableError: (416, "problem.title.range_not_satisfiable"),
    e.InvalidInputError: (422, "problem.title.invalid_input"),
    e.NotFoundError: (404, "problem.title.not_found"),
    e.ConflictError: (409, "problem.title.conflict"),
    e.AuthenticationError: (401, "problem.title.unauthenticated"),
    e.LockedOutError: (401, "problem.title.locked_out"),
    e.PermissionDeniedError: (403, "problem.title.forbidden"),
    e.RateLimitedError: (429, "problem.title.rate_limited"),
    e.QuotaExceededError: (413, "problem.title.payload_too_large"),
    e.MediaError: (422, "problem.title.unreadable_media"),
    e.EngineUnavailableError: (503, "problem.title.engine_unavailable"),
    e.ConfigurationError: (500, "problem.title.configuration"),
    e.DualrecError: (400, "problem.title.bad_request"),
}

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "rate_limited",
}


_RESERVED = frozenset(
    {"type", "title", "status", "detail", "code", "request_id", "instance", "message_key", "params"}
)


def request_language(request: Request) -> str:
    """The language a person reads this answer in: the logged-in user's own setting, else the best
    supported ``Accept-Language`` entry, else zh-CN."""
    principal = getattr(request.state, "principal", None)
    preferred = getattr(principal, "language", None) or None
    return negotiate(request.headers.get("accept-language"), preferred)


def _jsonable(value: Any) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


def problem(
    request: Request,
    status: int,
    title: str | Message,
    detail: str | Message,
    code: str,
    **extra: Any,
) -> JSONResponse:
    """A problem+json answer. ``title`` and ``detail`` given as catalogue messages are rendered in
    the request's language; a ``detail`` message also reports its key (``message_key``) and
    ``params`` so that clients can match on the key or render it themselves."""
    language = request_language(request)
    if isinstance(title, Message):
        title = title.render(language)
    if isinstance(detail, Message):
        extra = {"message_key": detail.key, "params": _jsonable(dict(detail.params)), **extra}
        detail = detail.render(language)
    body: dict[str, Any] = {
        "type": f"https://dualrec.dev/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "request_id": getattr(request.state, "request_id", ""),
    }
    body.update(extra)
    headers = {"Content-Language": language, "Vary": "Accept-Language"}
    if "retry_after_seconds" in extra:
        headers["Retry-After"] = str(extra["retry_after_seconds"])
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _lookup(exc: e.DualrecError) -> tuple[int, str]:
    for cls in type(exc).__mro__:
        if cls in ERROR_TABLE:
            return ERROR_TABLE[cls]
    return 500, "problem.title.internal"


def _clean_loc(loc: Any) -> list[str | int]:
    return [p for p in loc if p != "body"] if isinstance(loc, list | tuple) else [str(loc)]


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(e.DualrecError)
    async def _domain(request: Request, exc: e.DualrecError) -> JSONResponse:
        status, title = _lookup(exc)
        # a detail may not overwrite the problem's own members (a "code" detail becomes "detail_code")
        extra = {(f"detail_{k}" if k in _RESERVED else k): v for k, v in exc.details.items()}
        language = request_language(request)
        fields = extra.get("fields")
        if isinstance(fields, dict):  # per-field problems people read: one language too
            extra["fields"] = {
                k: split_legacy(v, language) if isinstance(v, str) else v for k, v in fields.items()
            }
        if exc.key is not None:
            detail: str | Message = Message(exc.key, exc.params)
        else:  # an older plain-string message: never show a "中文 / English" pair
            detail = exc.localized(language)
        return problem(request, status, Message(title), detail, exc.code, **extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errs = [
            {
                "loc": _clean_loc(err.get("loc", ())),
                "msg": str(err.get("msg", "")),
                "type": err.get("type", ""),
            }
            for err in exc.errors()
        ]
        return problem(
            request,
            422,
            Message("problem.title.invalid_input"),
            Message("problem.request_invalid"),
            "invalid_input",
            errors=errs,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "error")
        title_key = f"problem.title.{code}"
        if exc.status_code == 404 and exc.detail == "Not Found":
            detail: str | Message = Message("problem.not_found")
        elif exc.status_code == 405 and exc.detail == "Method Not Allowed":
            detail = Message("problem.method_not_allowed")
        else:
            detail = e.DualrecError(str(exc.detail)).localized(request_language(request))
        return problem(request, exc.status_code, Message(title_key), detail, code)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error", extra={"request_id": getattr(request.state, "request_id", "")})
        return problem(
            request, 500, Message("problem.title.internal"), Message("problem.internal"), "internal"
        )
