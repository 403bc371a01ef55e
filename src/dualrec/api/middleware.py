"""ASGI middleware: request ids, access logs, body size limit, Prometheus metrics."""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dualrec.i18n import negotiate, render

__all__ = ["Metrics", "RequestContextMiddleware"]

logger = logging.getLogger("dualrec.access")


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "dualrec_http_requests_total",
            "HTTP requests",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "dualrec_http_request_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=self.registry,
        )
        self.logins = Counter("dualrec_logins_total", "Login attempts", ["outcome"], registry=self.registry)


class BodyTooLarge(Exception):
    pass


def _harden(headers: list[tuple[bytes, bytes]], *, api: bool) -> None:
    """``nosniff`` on every answer; API answers (personal data) are not stored by browsers or proxies
    unless the route set its own ``Cache-Control``."""
    names = {name.lower() for name, _ in headers}
    if b"x-content-type-options" not in names:
        headers.append((b"x-content-type-options", b"nosniff"))
    if api and b"cache-control" not in names:
        headers.append((b"cache-control", b"no-store"))


class RequestContextMiddleware:
    """Assigns a request id, enforces the body size limit, logs and measures every request."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: Metrics,
        max_body_bytes: int,
        upload_prefixes: tuple[str, ...],
        max_upload_bytes: int,
        exact_limits: dict[str, int] | None = None,
    ) -> None:
        self.exact_limits = exact_limits or {}  # path → its own body limit (e.g. tasks with documents)
        self.app = app
        self.metrics = metrics
        self.max_body = max_body_bytes
        self.upload_prefixes = upload_prefixes
        self.max_upload = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        incoming = headers.get("x-request-id", "")
        request_id = (
            incoming if 8 <= len(incoming) <= 64 and incoming.replace("-", "").isalnum() else uuid.uuid4().hex
        )
        scope.setdefault("state", {})["request_id"] = request_id
        path: str = scope.get("path", "")
        limit = self.max_upload if path.startswith(self.upload_prefixes) else self.max_body
        limit = self.exact_limits.get(path, limit)
        start = time.perf_counter()
        status_holder = {"status": 500}

        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._too_large(send, request_id, limit, scope)
            self._observe(scope, 413, start, request_id)
            return

        received = 0
        exceeded = False
        replaced = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise BodyTooLarge
            return message

        async def send_wrapper(message: Message) -> None:
            nonlocal replaced
            if exceeded:  # whatever the app made of the aborted read, the client gets a 413
                if not replaced:
                    replaced = True
                    status_holder["status"] = 413
                    await self._too_large(send, request_id, limit, scope)
                return
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                headers = message.setdefault("headers", [])
                headers.append((b"x-request-id", request_id.encode()))
                _harden(headers, api=path.startswith("/api/"))
            await send(message)

        try:
            await self.app(scope, limited_receive, send_wrapper)
        except BodyTooLarge:
            if not replaced:
                await self._too_large(send, request_id, limit, scope)
            status_holder["status"] = 413
        self._observe(scope, status_holder["status"], start, request_id)

    async def _too_large(self, send: Send, request_id: str, limit: int, scope: Scope) -> None:
        accept = next(
            (v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"accept-language"), ""
        )
        language = negotiate(accept)
        body = json.dumps(
            {
                "type": "https://dualrec.dev/problems/payload_too_large",
                "title": render("problem.title.payload_too_large", {}, language),
                "status": 413,
                "detail": render("api.request_body_too_large", {"limit": limit}, language),
                "code": "payload_too_large",
                "message_key": "api.request_body_too_large",
                "params": {"limit": limit},
                "request_id": request_id,
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-language", language.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"x-request-id", request_id.encode()),
                    (b"connection", b"close"),
                    (b"x-content-type-options", b"nosniff"),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def _observe(self, scope: Scope, status: int, start: float, request_id: str) -> None:
        elapsed = time.perf_counter() - start
        route: Any = scope.get("route")
        template = getattr(route, "path", None) or (
            "/static" if scope.get("path", "").startswith("/assets") else "other"
        )
        method = scope.get("method", "")
        self.metrics.requests.labels(method, template, str(status)).inc()
        self.metrics.latency.labels(method, template).observe(elapsed)
        logger.info(
            "%s %s %s",
            method,
            scope.get("path", ""),
            status,
            extra={
                "request_id": request_id,
                "status": status,
                "duration_ms": round(elapsed * 1000, 1),
                "route": template,
            },
        )
