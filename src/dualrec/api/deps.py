"""Dependencies as ``Annotated`` aliases: the container, the caller, and permission checks."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Depends, Query, Request

from dualrec.api.problems import request_language
from dualrec.bootstrap.container import Container
from dualrec.core.audit import AuditAction
from dualrec.core.identity import Principal
from dualrec.core.rbac import Permission
from dualrec.errors import AuthenticationError, PermissionDeniedError
from dualrec.i18n import msg
from dualrec.services.common import audit
from dualrec.services.common.context import Actor, RequestMeta
from dualrec.services.identity.auth import SignedRequest

__all__ = [
    "SESSION_COOKIE",
    "ActorDep",
    "ContainerDep",
    "OptionalActorDep",
    "ReportLanguage",
    "RequirePermission",
    "perm",
    "report_language",
]

SESSION_COOKIE = "dualrec_session"
CSRF_HEADER = "x-requested-with"
CSRF_VALUE = "dualrec"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


def request_meta(request: Request) -> RequestMeta:
    ip = request.client.host if request.client else ""
    return RequestMeta(
        ip=ip,
        user_agent=request.headers.get("user-agent", "")[:255],
        request_id=getattr(request.state, "request_id", ""),
    )


async def _principal(request: Request, container: ContainerDep) -> Principal | None:
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    meta = request_meta(request)
    principal: Principal | None = None
    if "x-dualrec-key" in request.headers:
        h = request.headers
        signed = SignedRequest(
            key_id=h.get("x-dualrec-key", ""),
            timestamp=h.get("x-dualrec-timestamp", ""),
            nonce=h.get("x-dualrec-nonce", ""),
            signature=h.get("x-dualrec-signature", ""),
            method=request.method,
            path=request.url.path,
            query=request.url.query,
            body=await request.body(),
        )
        principal = container.auth.verify_signed_request(signed, meta)
    else:
        token = request.cookies.get(SESSION_COOKIE, "")
        if token:
            principal = container.auth.resolve_session(token)
            if (
                principal is not None
                and request.method not in SAFE_METHODS
                and request.headers.get(CSRF_HEADER) != CSRF_VALUE
            ):
                raise PermissionDeniedError(
                    msg("api.missing_csrf_header"),
                    details={"required_header": "X-Requested-With: dualrec"},
                )
    request.state.principal = principal
    return principal


async def optional_actor(
    request: Request, principal: Annotated[Principal | None, Depends(_principal)]
) -> Actor:
    return Actor(principal=principal, meta=request_meta(request))


async def current_actor(actor: Annotated[Actor, Depends(optional_actor)]) -> Actor:
    if actor.principal is None:
        raise AuthenticationError(msg("api.please_log"))
    return actor


OptionalActorDep = Annotated[Actor, Depends(optional_actor)]
ActorDep = Annotated[Actor, Depends(current_actor)]


class RequirePermission:
    """Dependency that lets the call through only with ``permission``; denials are audited."""

    def __init__(self, permission: Permission) -> None:
        self.permission = permission

    async def __call__(self, request: Request, actor: ActorDep, container: ContainerDep) -> Actor:
        assert actor.principal is not None
        if not actor.principal.can(self.permission):
            audit.record_now(
                container.uows,
                actor=actor,
                action=AuditAction.PERMISSION_DENIED,
                target_type="endpoint",
                target_id=f"{request.method} {request.url.path}"[:64],
                outcome="denied",
                details={"permission": self.permission.value},
            )
            raise PermissionDeniedError(
                msg("api.forbidden_requires", value=self.permission.value),
                details={"permission": self.permission.value},
            )
        return actor


def perm(permission: Permission) -> Any:
    """Use as ``actor: Annotated[Actor, perm(Permission.USERS_READ)]`` in a route signature."""
    return Depends(RequirePermission(permission))


ReportLanguage = Annotated[
    Literal["zh-CN", "en"] | None,
    Query(description="报告语言（zh-CN 或 en）；缺省时用请求者的语言 / the report's one language"),
]


def report_language(request: Request, lang: str | None) -> str:
    """A generated report's language: ``lang`` when given, else the requester's own setting or
    ``Accept-Language`` (zh-CN by default)."""
    return lang or request_language(request)
