"""``dualrec checks list`` shows every check of the catalog with its thresholds."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from dualrec.checks.catalog import CATALOG
from dualrec.cli.main import app


def test_checks_list_json_matches_the_catalog() -> None:
    result = CliRunner().invoke(app, ["checks", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["id"]: r for r in json.loads(result.output)}
    assert set(rows) == {s.id for s in CATALOG}
    silence = rows["silence"]
    assert silence["title_zh"] == "静音/音量过低" and silence["severity"] == "major"
    assert silence["thresholds"]["min_duration"] == {"default": 4.0, "unit": "s"}


def test_checks_list_table_names_each_check() -> None:
    result = CliRunner().invoke(app, ["checks", "list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for spec in CATALOG:
        assert spec.id in result.output
