"""One table mapping domain errors to RFC 9457 problem+json responses."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from dualrec import errors as e
from dualrec.storage.envelope import BlobIntegrityError

__all__ = ["ERROR_TABLE", "install_problem_handlers", "problem"]

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

# exception class -> (HTTP status, title). The most specific class wins (checked in MRO order).
ERROR_TABLE: dict[type[e.DualrecError], tuple[int, str]] = {
    BlobIntegrityError: (500, "Stored data failed its integrity check"),
    e.RangeNotSatisfiableError: (416, "Range not satisfiable"),
    e.InvalidInputError: (422, "Invalid input"),
    e.NotFoundError: (404, "Not found"),
    e.ConflictError: (409, "Conflict"),
    e.AuthenticationError: (401, "Authentication required"),
    e.LockedOutError: (401, "Account locked"),
    e.PermissionDeniedError: (403, "Forbidden"),
    e.RateLimitedError: (429, "Too many requests"),
    e.QuotaExceededError: (413, "Payload too large"),
    e.MediaError: (422, "Unreadable media"),
    e.EngineUnavailableError: (503, "Engine unavailable"),
    e.ConfigurationError: (500, "Configuration error"),
    e.DualrecError: (400, "Bad request"),
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


_RESERVED = frozenset({"type", "title", "status", "detail", "code", "request_id", "instance"})


def problem(request: Request, status: int, title: str, detail: str, code: str, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://dualrec.dev/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "request_id": getattr(request.state, "request_id", ""),
    }
    body.update(extra)
    headers = {"Retry-After": str(extra["retry_after_seconds"])} if "retry_after_seconds" in extra else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _lookup(exc: e.DualrecError) -> tuple[int, str]:
    for cls in type(exc).__mro__:
        if cls in ERROR_TABLE:
            return ERROR_TABLE[cls]
    return 500, "Internal error"


def _clean_loc(loc: Any) -> list[str | int]:
    return [p for p in loc if p != "body"] if isinstance(loc, list | tuple) else [str(loc)]


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(e.DualrecError)
    async def _domain(request: Request, exc: e.DualrecError) -> JSONResponse:
        status, title = _lookup(exc)
        # a detail may not overwrite the problem's own members (a "code" detail becomes "detail_code")
        extra = {(f"detail_{k}" if k in _RESERVED else k): v for k, v in exc.details.items()}
        return problem(request, status, title, exc.message, exc.code, **extra)

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
            "Invalid input",
            "请求内容不合法 / the request is invalid",
            "invalid_input",
            errors=errs,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "error")
        return problem(request, exc.status_code, code.replace("_", " ").capitalize(), str(exc.detail), code)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error", extra={"request_id": getattr(request.state, "request_id", "")})
        return problem(request, 500, "Internal error", "服务器内部错误 / internal server error", "internal")
