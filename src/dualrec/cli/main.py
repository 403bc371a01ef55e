"""The ``dualrec`` command line (Typer). Settings are read here, at the edge, and passed down."""

from __future__ import annotations

import typer

from dualrec.cli import check as check_cmd

app = typer.Typer(
    name="dualrec",
    help="dualrec — 智能双录系统 / intelligent dual-recording platform",
    no_args_is_help=True,
    add_completion=False,
)

app.command("check", help="对一段录像运行完整质检 / run the full QC of a recording locally")(check_cmd.check)


def main() -> None:  # pragma: no cover - console entry
    app()
