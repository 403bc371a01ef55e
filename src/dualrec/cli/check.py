"""``dualrec check`` — placeholder until the QC engine lands (issue 3)."""

from __future__ import annotations

import typer


def check() -> None:
    """Not built yet."""
    raise typer.Exit(code=2)
