"""``dualrec agent``: the local QC service on the recording device (SPEC §7, docs/agent.md)."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["agent"]


def agent(
    host: Annotated[str | None, typer.Option(help="回环地址 / loopback address (default: settings)")] = None,
    port: Annotated[int | None, typer.Option(help="端口 / port (default 1234)")] = None,
) -> None:
    """在本机运行本地质检服务 / run the local QC agent on 127.0.0.1 (WebSocket + HTTP)."""
    from dualrec.agent.runtime import is_loopback, serve_agent
    from dualrec.api.logging_setup import configure_logging
    from dualrec.errors import ConfigurationError
    from dualrec.settings import load_settings

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_json)
    bind = host or settings.agent_host
    if not is_loopback(bind):
        typer.echo(
            f"错误 / error: 本地质检服务只监听本机回环地址 / the agent listens on loopback only, not {bind}",
            err=True,
        )
        raise typer.Exit(code=2)
    typer.echo(f"dualrec agent on ws://{bind}:{port or settings.agent_port}", err=True)
    try:
        serve_agent(settings, host=bind, port=port or settings.agent_port)
    except ConfigurationError as exc:
        typer.echo(f"错误 / error: {exc.message}", err=True)
        raise typer.Exit(code=2) from exc
