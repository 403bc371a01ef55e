"""``dualrec rtc``: Janus, configured from the data dir and supervised, in the foreground."""

from __future__ import annotations

import signal
import types

import typer

from dualrec.settings import load_settings


def rtc() -> None:
    from dualrec.api.logging_setup import configure_logging
    from dualrec.bootstrap.rtc import build_supervisor
    from dualrec.errors import DualrecError

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_json)
    supervisor = build_supervisor(settings)
    stats = None
    if settings.rtc_server_stats_seconds > 0:  # Janus' view of the calls, beside it on this host
        from dualrec.bootstrap.rtc_stats import build_janus_stats, standalone_uows

        stats = build_janus_stats(settings, standalone_uows(settings))

    def _stop(signum: int, frame: types.FrameType | None) -> None:
        supervisor.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        supervisor.start()
    except DualrecError as exc:
        typer.secho(f"error: {exc.message}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from exc
    opts = supervisor.opts
    if supervisor.wait_ready(30):
        typer.echo(
            f"Janus ready: API {opts.janus_url}, admin {opts.admin_url} (loopback), "
            f"config {opts.paths.config_dir}, log {opts.paths.log_file}",
            err=True,
        )
    else:
        typer.secho(f"Janus not answering yet: see {opts.paths.log_file}", fg=typer.colors.YELLOW, err=True)
    if stats is not None:
        stats.start()
    try:
        supervisor.wait()
    finally:
        if stats is not None:
            stats.stop()
