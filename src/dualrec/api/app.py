"""FastAPI app factory: ``create_app(settings)``; the lifespan owns the Container."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.responses import Response
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from pydantic import SecretStr

from dualrec import __version__
from dualrec.api.deps import RequirePermission
from dualrec.api.logging_setup import install_token_redaction
from dualrec.api.middleware import Metrics, RequestContextMiddleware
from dualrec.api.problems import install_problem_handlers, problem
from dualrec.api.routers import (
    agent_uploads,
    apikeys,
    archive,
    archive_admin,
    audit,
    auditor_logs,
    auth,
    branches,
    flows,
    health,
    integrity,
    litigation,
    question_banks,
    question_workbooks,
    recordings,
    review,
    roles,
    rtc,
    rtc_live,
    rtc_quality,
    script_templates,
    session_documents,
    session_monitor,
    sessions,
    system,
    tasks,
    users,
    webhooks,
)
from dualrec.api.spa import mount_spa
from dualrec.bootstrap.container import Container, build_container
from dualrec.i18n import Message
from dualrec.settings import Settings

__all__ = ["API_PREFIX", "create_app"]

API_PREFIX = "/api/v1"
# uploads the body-size limit for JSON does not apply to (each route enforces its own limit)
TASK_BODY_LIMIT = 300 * 1024 * 1024
UPLOAD_PREFIXES = (
    f"{API_PREFIX}/session/",
    f"{API_PREFIX}/uploads",
    f"{API_PREFIX}/recordings",
    f"{API_PREFIX}/question-banks/import",
)


ROUTER_MODULES = (
    health,
    auth,
    users,
    roles,
    branches,
    audit,
    auditor_logs,
    apikeys,
    recordings,
    litigation,
    integrity,
    system,
    flows,
    tasks,
    webhooks,
    question_workbooks,  # before question_banks: its /question-banks/export etc. precede /{code}
    question_banks,
    script_templates,
    archive,
    archive_admin,
    agent_uploads,
    rtc,
    rtc_quality,
    rtc_live,
    review,
)


def _required_permission(dependant: Dependant) -> str | None:
    for dep in dependant.dependencies:
        if isinstance(dep.call, RequirePermission):
            return dep.call.permission.value
        found = _required_permission(dep)
        if found:
            return found
    return None


def annotate_permissions(router: APIRouter) -> None:
    """Publish each operation's required permission in OpenAPI as ``x-required-permission``."""
    for route in router.routes:
        if isinstance(route, APIRoute):
            permission = _required_permission(route.dependant)
            if permission:
                route.openapi_extra = {**(route.openapi_extra or {}), "x-required-permission": permission}


def create_app(settings: Settings, *, container: Container | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = container is None
        app.state.container = container or build_container(settings)
        app.state.container.start()
        if owned and app.state.container.live_monitor is not None:  # serve: the analysis workers start now
            app.state.container.live_monitor.pool.warm()
        try:
            yield
        finally:
            if app.state.container.janus is not None:  # Janus started with the app stops with it (uvicorn
                app.state.container.janus.stop()  # re-raises SIGTERM after shutdown: no later hook runs)
            if app.state.container.live_monitor is not None:  # the live analysis workers, likewise
                app.state.container.live_monitor.pool.stop()
            if owned:
                app.state.container.close()

    install_token_redaction()  # customer link tokens never reach a log line
    app = FastAPI(
        title="dualrec API",
        version=__version__,
        description="智能双录系统 API / intelligent dual-recording platform API",
        lifespan=lifespan,
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        openapi_url=f"{API_PREFIX}/openapi.json",
    )
    if container is not None:
        app.state.container = container
    metrics = Metrics()
    app.state.metrics = metrics
    metrics.registry.register(LivePoolCollector(app))
    app.add_middleware(
        RequestContextMiddleware,
        metrics=metrics,
        max_body_bytes=settings.max_request_bytes,
        upload_prefixes=UPLOAD_PREFIXES,
        max_upload_bytes=settings.max_upload_bytes,
        # a task may carry its documents (Base64 in the JSON, 20 MB each, docs/documents.md)
        exact_limits={
            f"{API_PREFIX}/tasks": TASK_BODY_LIMIT,
            # an appeal's attachments (docs/review.md)
            f"{API_PREFIX}/review/appeals": settings.review_appeal_max_files
            * settings.review_appeal_max_file_bytes
            + 1024 * 1024,
        },
    )
    install_problem_handlers(app)

    api = APIRouter(prefix=API_PREFIX)
    for module in ROUTER_MODULES:
        annotate_permissions(module.router)
        api.include_router(module.router)
    api.include_router(tasks.public)  # the customer's entry link: the signed token is the credential
    for module in (sessions, session_monitor, session_documents):
        api.include_router(module.router)  # the customer's self-service session: same credential
    api.include_router(rtc.public)  # remote interviews: the link token, or Janus' own token (proxy)
    api.include_router(rtc_quality.public)  # the customer's call-quality reports: the link token
    app.include_router(api)

    @app.get("/metrics", include_in_schema=False)
    def prometheus(request: Request) -> Response:
        if not metrics_allowed(request, settings.metrics_token):
            return problem(
                request,
                403,
                Message("problem.title.forbidden"),
                Message("api.metrics_forbidden"),
                "forbidden",
            )
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    mount_spa(app, connect_src=connect_sources(settings))
    return app


class LivePoolCollector:
    """The live analysis pool's counters (docs/live.md "Worker pool"), read on every scrape."""

    def __init__(self, app: FastAPI) -> None:
        self._app = app

    def collect(self) -> Iterator[Metric]:
        container = getattr(self._app.state, "container", None)
        monitor = getattr(container, "live_monitor", None)
        if monitor is None:
            return
        stats = monitor.pool.stats()
        frames = CounterMetricFamily(
            "dualrec_live_frames", "Live frames per analysis worker and outcome", labels=["worker", "outcome"]
        )
        events = CounterMetricFamily(
            "dualrec_live_worker_events",
            "Analysis worker crashes, restarts, timeouts",
            labels=["worker", "event"],
        )
        queued = GaugeMetricFamily(
            "dualrec_live_worker_queued", "Requests waiting per worker", labels=["worker"]
        )
        for w in stats.get("per_worker", []):
            label = str(w["index"])
            for outcome in ("done", "stale", "superseded", "failed"):
                frames.add_metric([label, outcome], w[outcome])
            for event in ("crashes", "restarts", "timeouts"):
                events.add_metric([label, event], w[event])
            queued.add_metric([label], w["queued"])
        yield from (frames, events, queued)


def metrics_allowed(request: Request, token: SecretStr | None) -> bool:
    """A scraper presenting the configured token, or (no token presented) a direct loopback client.
    A request that came through a proxy (forwarding headers) is not a loopback client."""
    auth = request.headers.get("authorization", "")
    if token is not None and token.get_secret_value():
        scheme, _, presented = auth.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            presented.strip().encode(), token.get_secret_value().encode()
        ):
            return True
    forwarded = any(h in request.headers for h in ("forwarded", "x-forwarded-for", "x-real-ip"))
    host = request.client.host if request.client else ""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    return loopback and not forwarded


def connect_sources(settings: Settings) -> tuple[str, ...]:
    """CSP connect-src beyond 'self': the app's own WebSocket origin (from DUALREC_PUBLIC_URL: older
    browsers do not count ws(s) as 'self') and the media server's origin when one is configured."""
    parts = urlsplit(settings.public_url)
    sources: list[str] = []
    if parts.scheme in ("http", "https") and parts.netloc:
        sources.append(f"{'wss' if parts.scheme == 'https' else 'ws'}://{parts.netloc}")
    if settings.media_server_origin:
        sources.append(settings.media_server_origin)
    return tuple(dict.fromkeys(sources))
