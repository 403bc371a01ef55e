"""Login, logout, current user, password change."""

from __future__ import annotations

from dataclasses import replace

from fastapi import APIRouter, Request, Response

from dualrec.api.deps import SESSION_COOKIE, ActorDep, ContainerDep, request_meta
from dualrec.api.schemas.identity import BranchRef, LanguageSetting, LoginRequest, MeOut, PasswordChange
from dualrec.core.identity import Principal
from dualrec.core.rbac import BUILTIN_ROLES
from dualrec.errors import AuthenticationError, PermissionDeniedError
from dualrec.i18n import msg
from dualrec.services.common.context import Actor, RequestMeta
from dualrec.services.identity.roles import list_roles
from dualrec.services.identity.users import get_profile, set_language

router = APIRouter(prefix="/auth", tags=["auth"])


def me_out(container: ContainerDep, principal: Principal) -> MeOut:
    user, branch = get_profile(container.uows, actor=Actor(principal, RequestMeta()))
    custom = {r.id: r for r, builtin in list_roles(container.uows) if not builtin}
    role = BUILTIN_ROLES.get(user.role) or custom.get(user.role)
    return MeOut(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        role_name=role.name_zh if role else user.role,
        branch=BranchRef(id=branch.id, name=branch.name, code=branch.code, path=branch.path),
        permissions=sorted(principal.permissions),
        language=user.language if user.language in ("zh-CN", "en") else None,
    )


@router.post("/login", response_model=MeOut, summary="登录 / log in")
def login(body: LoginRequest, request: Request, response: Response, container: ContainerDep) -> MeOut:
    if request.headers.get("x-requested-with") != "dualrec":
        raise PermissionDeniedError(msg("auth.missing_csrf_header"))
    metrics = request.app.state.metrics
    try:
        token, principal = container.auth.login(
            username=body.username, password=body.password, meta=request_meta(request)
        )
    except AuthenticationError:
        metrics.logins.labels("failure").inc()
        raise
    metrics.logins.labels("success").inc()
    settings = container.settings
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_ttl_minutes * 60,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="strict",
        path="/",
    )
    return me_out(container, principal)


@router.post("/logout", status_code=204, summary="退出 / log out")
def logout(request: Request, response: Response, actor: ActorDep, container: ContainerDep) -> None:
    container.auth.logout(token=request.cookies.get(SESSION_COOKIE, ""), actor=actor)
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=container.settings.cookie_secure
    )


@router.get("/me", response_model=MeOut, summary="当前用户 / who am I")
def me(actor: ActorDep, container: ContainerDep) -> MeOut:
    assert actor.principal is not None
    if actor.principal.kind != "user":
        raise PermissionDeniedError(msg("auth.user_sessions_only"))
    return me_out(container, actor.principal)


@router.post("/password", status_code=204, summary="修改密码 / change password")
def change_password(body: PasswordChange, actor: ActorDep, container: ContainerDep) -> None:
    container.auth.change_password(
        actor=actor, old_password=body.old_password, new_password=body.new_password
    )


@router.put("/me/language", response_model=MeOut, summary="设置我的语言 / set my language")
def put_language(body: LanguageSetting, request: Request, actor: ActorDep, container: ContainerDep) -> MeOut:
    """The caller's own language for error messages and reports; it wins over ``Accept-Language``.
    ``null`` goes back to following the browser."""
    assert actor.principal is not None
    if actor.principal.kind != "user":
        raise PermissionDeniedError(msg("auth.user_sessions_only"))
    set_language(container.uows, actor=actor, language=body.language)
    principal = replace(actor.principal, language=body.language)
    request.state.principal = principal  # this answer already speaks the new language
    return me_out(container, principal)
