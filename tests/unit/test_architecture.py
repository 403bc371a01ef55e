"""Architecture rules enforced by tests (ARCHITECTURE.md: rules 1, 6, 8; migrations)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from dualrec.db.migrate import MIGRATIONS_DIR, alembic_config

REPO = Path(__file__).resolve().parents[2]
HEAVY = [
    "torch",
    "onnxruntime",
    "ctranslate2",
    "faster_whisper",
    "dlib",
    "cv2",
    "celery",
    "rapidocr_onnxruntime",
    "av",
]


@pytest.mark.parametrize(
    "module",
    [
        "dualrec.api.app",
        "dualrec.cli.main",
        "dualrec.services.identity.auth",
        "dualrec.services.identity.users",
        "dualrec.bootstrap.container",
        "dualrec.jobs",
        "dualrec.pipeline",
        "dualrec.checks",
    ],
)
def test_importing_entry_points_loads_no_heavy_library(module: str) -> None:
    code = (
        "import importlib, sys, json\n"
        f"importlib.import_module({module!r})\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_alembic_history_is_one_linear_chain() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    heads = script.get_heads()
    assert len(heads) == 1, f"several heads: {heads}"
    revisions = list(script.walk_revisions())
    for rev in revisions:
        down = rev.down_revision
        assert down is None or isinstance(down, str), f"{rev.revision} is a merge"
    assert sum(1 for r in revisions if r.down_revision is None) == 1
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        assert path.name[:10].replace("_", "").isdigit(), f"migration file not date-prefixed: {path.name}"


def test_core_imports_only_the_standard_library() -> None:
    stdlib = set(sys.stdlib_module_names)
    bad = []
    for path in (REPO / "src" / "dualrec" / "core").rglob("*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            words = line.split()
            if len(words) >= 2 and words[0] in ("import", "from") and not line.startswith((" ", "\t")):
                top = words[1].split(".")[0]
                if top not in stdlib and top not in ("dualrec", "__future__"):
                    bad.append(f"{path.name}: {line.strip()}")
    assert not bad, bad


def test_import_linter_contracts_hold() -> None:
    exe = Path(sys.executable).with_name("lint-imports")
    out = subprocess.run([str(exe), "--no-cache"], capture_output=True, text=True, cwd=REPO, check=False)
    assert out.returncode == 0, out.stdout + out.stderr


def import_cycles(imports: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    for root in sorted(imports):
        if root in index:
            continue
        work = [(root, iter(sorted(imports[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(imports.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))
    return cycles


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert import_cycles(graph) == [["a", "b", "c"]]
    assert import_cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_of_dualrec_is_in_an_import_cycle() -> None:
    """Imports inside functions and under TYPE_CHECKING count: a circle hidden there is still one."""
    import grimp

    graph = grimp.build_graph("dualrec")
    imports = {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    assert import_cycles(imports) == []


def test_committed_openapi_spec_matches_the_app() -> None:
    """The front end's typed client is generated from frontend/openapi.json: it must not drift."""
    committed = REPO / "frontend" / "openapi.json"
    if not committed.exists():
        pytest.fail("frontend/openapi.json is missing: run `make openapi`")
    from dualrec.api.app import create_app
    from dualrec.settings import Settings

    live = create_app(Settings(env="test")).openapi()
    assert json.loads(committed.read_text(encoding="utf-8")) == json.loads(json.dumps(live)), (
        "frontend/openapi.json is stale: run `make openapi` and rebuild the front end"
    )
