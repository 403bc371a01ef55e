"""``dualrec doctor``."""

from __future__ import annotations

import typer

from dualrec.bootstrap.doctor import run_doctor
from dualrec.settings import load_settings


def doctor() -> None:
    findings = run_doctor(load_settings())
    width = max(len(f"{f.area}/{f.name}") for f in findings)
    missing_required = 0
    for f in findings:
        mark = "OK  " if f.ok else ("MISS" if f.required else "warn")
        color = typer.colors.GREEN if f.ok else (typer.colors.RED if f.required else typer.colors.YELLOW)
        typer.secho(f"[{mark}] {f'{f.area}/{f.name}':<{width}}  {f.detail}", fg=color)
        missing_required += int(f.required and not f.ok)
    if missing_required:
        typer.secho(f"{missing_required} required item(s) missing", fg=typer.colors.RED)
        raise typer.Exit(code=1)
    typer.secho("all required items present", fg=typer.colors.GREEN)
