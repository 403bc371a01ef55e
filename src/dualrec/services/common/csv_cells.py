"""CSV cells that a spreadsheet shows as text and never evaluates (CSV/formula injection, CWE-1236).

Every CSV export (the archive catalogue, the audit log, the auditors' logs) writes its text cells
through ``safe_cell``: a value starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
gets a leading apostrophe, so that ``=HYPERLINK(...)`` in a user name stays a string in Excel.
"""

from __future__ import annotations

__all__ = ["FORMULA_PREFIXES", "safe_cell"]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text
