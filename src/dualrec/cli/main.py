"""The ``dualrec`` command line (Typer). Settings are read here, at the edge, and passed down."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from dualrec.cli import agent as agent_cmd
from dualrec.cli import archive as archive_cmd
from dualrec.cli import check as check_cmd
from dualrec.cli import checks as checks_cmd
from dualrec.cli import doctor as doctor_cmd
from dualrec.cli import evidence as evidence_cmd
from dualrec.cli import rtc as rtc_cmd
from dualrec.cli import storage as storage_cmd
from dualrec.cli import worker as worker_cmd
from dualrec.settings import DEV_SECRET, Settings, load_settings

app = typer.Typer(
    name="dualrec",
    help="dualrec — 智能双录系统 / intelligent dual-recording platform",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="数据库 / database", no_args_is_help=True)
users_app = typer.Typer(help="用户 / users", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(checks_cmd.app, name="checks")
app.add_typer(storage_cmd.app, name="storage", help="存储与密钥 / blob storage and master keys")
app.add_typer(evidence_cmd.app, name="evidence")
app.add_typer(archive_cmd.app, name="archive")

app.command("check", help="对一段录像运行完整质检 / run the full QC of a recording locally")(check_cmd.check)
app.command("worker", help="运行后台任务进程 (Celery) / run a background job worker")(worker_cmd.worker)
app.command("doctor", help="检查运行环境 / check what this machine has and lacks")(doctor_cmd.doctor)
app.command("agent", help="运行本地质检服务 / run the local QC agent (SPEC §7)")(agent_cmd.agent)
app.command("rtc", help="运行并守护 Janus 媒体服务器 / run the Janus media server, supervised")(rtc_cmd.rtc)


@app.command(help="启动 Web 服务 / serve the web app and API")
def serve(
    host: Annotated[str | None, typer.Option(help="bind address")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port")] = None,
    migrate: Annotated[bool, typer.Option(help="run database migrations first")] = True,
) -> None:
    import uvicorn

    from dualrec.api.app import create_app
    from dualrec.api.logging_setup import configure_logging
    from dualrec.bootstrap.container import build_container

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_json)
    _warn_dev_secret(settings)
    _warn_public_url(settings, host or settings.host)
    container = build_container(settings, migrate=migrate)
    if settings.rtc_enabled and settings.rtc_managed:  # Janus beside the server (docs/remote-interview.md)
        from dualrec.bootstrap.rtc import build_supervisor
        from dualrec.bootstrap.rtc_stats import build_janus_stats

        container.janus = build_supervisor(settings)
        container.janus_stats = build_janus_stats(settings, container.uows)  # the Admin API is local
    if container.live_events is not None:  # a live worker per call in progress (DUALREC_RTC_LIVE_ENABLED)
        from dualrec.bootstrap.rtc_live import build_live_supervisor

        container.rtc_live = build_live_supervisor(settings, container.live_events)
    app_ = create_app(settings, container=container)
    if container.live_monitor is not None:  # the live analysis workers start and load their models now
        container.live_monitor.pool.warm()
    typer.echo(f"dualrec serving on http://{host or settings.host}:{port or settings.port}", err=True)
    try:
        uvicorn.run(
            app_, host=host or settings.host, port=port or settings.port, log_config=None, proxy_headers=False
        )
    finally:
        container.close()


DEV_SECRET_WARNING = (
    "警告：DUALREC_SECRET_KEY 为内置开发密钥，客户姓名、证件号、手机号等个人数据将用公开的密钥加密，"
    "任何人都能解密；真实数据前请设置随机密钥 / WARNING: DUALREC_SECRET_KEY is the built-in development "
    "secret: personal data (names, ID numbers, phones) is sealed with a key anyone can read in the "
    "source. Set a random DUALREC_SECRET_KEY (at least 32 characters) before real data arrives."
)


def _warn_dev_secret(settings: Settings) -> None:
    """Loud, on stderr and in the log, every time the server starts with the development secret."""
    if settings.secret_key.get_secret_value() != DEV_SECRET:
        return
    import logging

    banner = "!" * 100
    typer.secho(f"{banner}\n{DEV_SECRET_WARNING}\n{banner}", fg=typer.colors.RED, bold=True, err=True)
    logging.getLogger("dualrec.security").warning(DEV_SECRET_WARNING)


def _warn_public_url(settings: Settings, bind_host: str) -> None:
    """On stderr and in the log at start: customer links built on a loopback public URL while the
    server listens for other machines (docs/configuration.md, DUALREC_PUBLIC_URL)."""
    from dualrec.bootstrap.doctor import public_url_warning

    problem = public_url_warning(settings.public_url, bind_host)
    if problem is None:
        return
    import logging

    typer.secho(f"警告 / WARNING: {problem}", fg=typer.colors.YELLOW, bold=True, err=True)
    logging.getLogger("dualrec.web").warning(problem)


@app.command(help="导出 OpenAPI 规范 / print the OpenAPI spec (JSON)")
def openapi() -> None:
    from dualrec.api.app import create_app

    spec = create_app(load_settings()).openapi()
    sys.stdout.write(json.dumps(spec, ensure_ascii=False, indent=2, sort_keys=True) + "\n")


def _litigation_certificate(settings: Settings) -> None:
    """The certificate that signs litigation reports: a demo one is generated here when none is set."""
    from dualrec.bootstrap.litigation import pdf_signer

    if settings.litigation_pkcs12_file is None and settings.env == "production":
        typer.secho(
            "未配置诉讼报告签名证书 DUALREC_LITIGATION_PKCS12_FILE / no litigation report certificate",
            fg=typer.colors.YELLOW,
        )
        return
    cert = pdf_signer(settings).certificate
    typer.echo(f"litigation report certificate: {cert.subject} (SHA-256 {cert.sha256})")


@app.command(help="初始化演示机构与管理员 / seed the demo organisation and the admin account")
def seed() -> None:
    from dualrec.bootstrap.container import build_container
    from dualrec.services.flows.demo_content import seed_demo_content
    from dualrec.services.identity.seed import seed_demo

    settings = load_settings()
    container = build_container(settings, migrate=True, with_jobs=False)
    try:
        pw = settings.admin_password.get_secret_value() if settings.admin_password else None
        result = seed_demo(container.uows, admin_username=settings.admin_username, admin_password=pw)
        content = seed_demo_content(container.uows)
    finally:
        container.close()
    typer.echo(f"branches created: {result.branches_created}")
    typer.echo(f"demo flows / question banks / routing rules created: {content}")
    _litigation_certificate(settings)
    if result.created_admin and result.admin_password:
        typer.secho(
            "管理员账户已创建（密码只显示这一次）/ admin account created (password shown once):",
            fg=typer.colors.YELLOW,
        )
        typer.echo(f"  username: {result.admin_username}\n  password: {result.admin_password}")
    elif result.created_admin:
        typer.echo(f"admin account created: {result.admin_username} (password from DUALREC_ADMIN_PASSWORD)")
    else:
        typer.echo(f"admin account exists: {result.admin_username}")


@db_app.command("upgrade", help="迁移到最新版本 / migrate the database to the latest revision")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    from dualrec.bootstrap.container import migrate_database

    settings = load_settings()
    migrate_database(settings, revision)
    typer.echo(f"database at {revision}: {settings.masked()['database_url'] or 'sqlite (data dir)'}")


@users_app.command("create", help="新建用户 / create a user")
def users_create(
    username: str,
    role: Annotated[
        str, typer.Option(help="admin, interviewer, auditor, qc_reviewer, compliance, ...")
    ] = "admin",
    branch: Annotated[str, typer.Option(help="branch code")] = "HQ",
    display_name: Annotated[str | None, typer.Option()] = None,
    password: Annotated[
        str | None, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)
    ] = None,
) -> None:
    from dualrec.bootstrap.container import build_container
    from dualrec.errors import DualrecError
    from dualrec.services.identity.users_cli import create_user_as_system

    settings = load_settings()
    container = build_container(settings, migrate=True)
    try:
        user = create_user_as_system(
            container.uows,
            username=username,
            role=role,
            branch_code=branch,
            display_name=display_name or username,
            password=password or "",
        )
    except DualrecError as exc:
        typer.secho(f"error: {exc.message}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from exc
    finally:
        container.close()
    typer.echo(f"created user {user.username} (id {user.id}, role {user.role}, branch {user.branch_name})")


def main() -> None:  # pragma: no cover - console entry
    app()
