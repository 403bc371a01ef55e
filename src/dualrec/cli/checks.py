"""``dualrec checks list``: the QC checks this installation runs (built-ins and plugins)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

app = typer.Typer(help="质检项 / QC checks", no_args_is_help=True)


@app.command("list", help="列出质检项及阈值 / list the QC checks with their thresholds")
def list_checks(
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    from dualrec.checks.registry import get_registry

    specs = get_registry().specs()
    if as_json:
        rows = [
            {
                "id": s.id,
                "title_zh": s.title_zh,
                "title_en": s.title_en,
                "severity": s.severity.value,
                "node_types": list(s.node_types),
                "needs": list(s.needs),
                "thresholds": {t.name: {"default": t.default, "unit": t.unit} for t in s.thresholds},
            }
            for s in specs
        ]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"质检项 / QC checks ({len(specs)})")
    for column in ("id", "标题 / title", "严重程度 / severity", "环节 / nodes", "阈值 / thresholds"):
        table.add_column(column)
    for s in specs:
        thresholds = ", ".join(f"{t.name}={t.default:g}{t.unit and ' ' + t.unit}" for t in s.thresholds)
        table.add_row(
            s.id, s.title, s.severity.value, ", ".join(s.node_types) or "全程 / all", thresholds or "—"
        )
    Console().print(table)
