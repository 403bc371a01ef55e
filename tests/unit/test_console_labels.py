"""The console names every enumerated value the server can show (frontend/src/labels.ts): each
value of the server's enums is listed there, so the front end's test (labels.test.ts) can check it
has a display name in zh-CN and en and nobody sees a raw code such as ``flow.published``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dualrec.checks.catalog import CATALOG
from dualrec.core.audit import AuditAction
from dualrec.core.flow import NODE_TYPES
from dualrec.core.rbac import PERMISSIONS, Permission
from dualrec.core.review import ReviewAction
from dualrec.core.tasks import AttemptStatus, TaskStatus

LABELS = Path(__file__).resolve().parents[2] / "frontend" / "src" / "labels.ts"


def _listed(kind: str) -> set[str]:
    """The quoted values of ``ENUMS.<kind>`` in labels.ts."""
    text = LABELS.read_text(encoding="utf-8")
    match = re.search(rf"\n  {kind}: \[(.*?)\]", text, re.S)
    assert match, f"labels.ts has no ENUMS.{kind}"
    return set(re.findall(r'"([^"]+)"', match.group(1)))


def _constants(cls: type) -> set[str]:
    return {v for k, v in vars(cls).items() if k.isupper() and isinstance(v, str)}


@pytest.mark.parametrize(
    ("kind", "values"),
    [
        ("auditActions", _constants(AuditAction) | _constants(ReviewAction)),
        ("permissions", {p.value for p in Permission}),
        ("permissionGroups", {p.group for p in PERMISSIONS}),
        ("taskStatuses", {s.value for s in TaskStatus} | {s.value for s in AttemptStatus}),
        ("nodeTypes", set(NODE_TYPES)),
        ("checks", {c.id for c in CATALOG}),
        ("verdicts", {"PASS", "REVIEW", "FAIL"}),
        ("modes", {"self_service", "human"}),
        ("customerTypes", {"personal", "institution", "elderly"}),
        ("businessTypes", {"wealth", "insurance"}),
    ],
)
def test_every_server_value_has_a_console_name(kind: str, values: set[str]) -> None:
    missing = values - _listed(kind)
    assert not missing, f"frontend/src/labels.ts ENUMS.{kind} lacks {sorted(missing)}"
