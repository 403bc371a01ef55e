"""CSV cells never start a spreadsheet formula (shared by the archive, audit and auditor-log exports)."""

from __future__ import annotations

import pytest

from dualrec.services.common.csv_cells import safe_cell


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@A1", "\t=1", "\r=1", '=HYPERLINK("http://x","y")'])
def test_every_formula_start_is_escaped(text: str) -> None:
    assert safe_cell(text) == "'" + text
    assert safe_cell("plain " + text) == "plain " + text
