"""Shared fixtures: settings in a temp data dir, a migrated container, an API client, users per role.

Markers follow the folders: the collection hook below marks everything under tests/integration
``integration`` and everything under tests/e2e ``e2e`` and ``slow``, and refuses to run a test under
tests/unit that carries either marker (it belongs in tests/integration or tests/e2e).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dualrec.api.app import create_app
from dualrec.bootstrap.container import Container, build_container
from dualrec.services.identity.seed import seed_demo
from dualrec.services.identity.users_cli import create_user_as_system
from dualrec.settings import Settings

TESTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = TESTS_DIR.parent
TEST_DATA = TESTS_DIR / "data"  # real photos and speech, see tests/data/README.md
ADMIN_PASSWORD = "Admin-pass-123"
PASSWORD = "Passw0rd-test"
CSRF = {"X-Requested-With": "dualrec"}
# Argon2id at its smallest cost (allowed with DUALREC_ENV=test only): the suite creates and logs in
# thousands of users, ~0.1 s each at the production cost. Tests of the hashing itself set their own.
FAST_PASSWORD_HASH = {"password_hash_time_cost": 1, "password_hash_memory_kib": 1024}
FAST_PASSWORD_HASH_ENV = {f"DUALREC_{k.upper()}": str(v) for k, v in FAST_PASSWORD_HASH.items()}


FOLDER_MARKERS = {"integration": ("integration",), "e2e": ("e2e", "slow")}
NOT_IN_UNIT = ("integration", "e2e")
# `make test` runs two pytest-xdist workers with --dist loadgroup: every browser or integration test
# file is one group (its module fixtures — Janus systems, engines, servers, Celery workers — are built
# once, on one worker); unit tests go wherever there is room. The browser tests alone are ~30 min of
# work on this 2-core machine, so they do not run on one worker only: two files may run at once,
# and their timing bounds allow for a busy machine.
XDIST_GROUPS = {"e2e": "", "integration": ""}  # "" = the file's own group


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    misplaced: list[str] = []
    for item in items:
        try:
            folder = item.path.resolve().relative_to(TESTS_DIR).parts[0]
        except ValueError:
            continue
        for name in FOLDER_MARKERS.get(folder, ()):
            item.add_marker(name)
        if folder in XDIST_GROUPS:
            item.add_marker(pytest.mark.xdist_group(XDIST_GROUPS[folder] or item.path.name))
        if folder == "unit":
            misplaced += [f"{item.nodeid} ({m})" for m in NOT_IN_UNIT if item.get_closest_marker(m)]
    if misplaced:
        raise pytest.UsageError(
            "tests under tests/unit must not be marked integration or e2e; move them to that folder:\n  "
            + "\n  ".join(misplaced)
        )


@pytest.hookimpl(trylast=True, specname="pytest_collection_modifyitems")  # after xdist's own
def pytest_xdist_group_ids(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Gives each test's xdist group to the scheduler, in a worker of ``--dist loadgroup``.

    pytest-xdist 3.8 does it by writing ``item._nodeid``, which pytest 9 no longer reads (a node's
    id is ``item._id``): its groups were silently ignored and browser tests ran two at once. The
    group goes where xdist means it to, the ``@<group>`` suffix of the id; if a later xdist already
    put it there, nothing is done."""
    if not getattr(config.option, "loadgroup", False):
        return
    from _pytest.nodeid import coerce_node_id

    for item in items:
        groups = sorted(
            {
                str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                for m in item.iter_markers("xdist_group")
            }
        )
        if groups and "@" not in item.nodeid:
            item._id = coerce_node_id(f"{item.nodeid}@{'_'.join(groups)}")


def make_clip(out: Path, seconds: int = 6) -> Path:
    """A small real recording (moving test pattern, 440 Hz tone, H.264/AAC) made with ffmpeg."""
    import subprocess

    lavfi = f"testsrc2=size=320x240:rate=15:duration={seconds}"
    tone = f"sine=frequency=440:duration={seconds}"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            lavfi,
            "-f",
            "lavfi",
            "-i",
            tone,
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-c:a",
            "aac",
            "-shortest",
            str(out),
        ],
        check=True,
    )
    return out


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "env": "test",
        "data_dir": data_dir,
        "log_json": False,
        "admin_password": ADMIN_PASSWORD,
        **FAST_PASSWORD_HASH,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite database migrated to head once per test process (~0.3–0.8 s of Alembic per copy
    saved); ``container`` starts from a copy of it."""
    from dualrec.db.migrate import upgrade

    settings = make_settings(tmp_path_factory.mktemp("migrated") / "data")
    settings.data_dir.mkdir(parents=True)
    upgrade(settings.resolved_database_url)
    return sqlite_file(settings)


def sqlite_file(settings: Settings) -> Path:
    return Path(settings.resolved_database_url.removeprefix("sqlite:///"))


def start_from_migrated(settings: Settings, template: Path) -> None:
    """Copies ``template`` to ``settings``' default SQLite file when that file does not exist yet
    (a PostgreSQL/MySQL URL or an existing file are left alone); build_container's own
    ``upgrade`` then finds it at head — or migrates it further, had a test changed the chain."""
    import sqlite3

    if settings.database_url:
        return
    target = sqlite_file(settings)
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(template) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


@pytest.fixture
def container(settings: Settings, migrated_sqlite: Path) -> Iterator[Container]:
    start_from_migrated(settings, migrated_sqlite)
    c = build_container(settings, migrate=True)
    seed_demo(c.uows, admin_username="admin", admin_password=ADMIN_PASSWORD)
    yield c
    c.close()


@pytest.fixture
def app_client(settings: Settings, container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(settings, container=container)) as client:
        yield client


def login(client: TestClient, username: str, password: str = PASSWORD) -> TestClient:
    r = client.post("/api/v1/auth/login", json={"username": username, "password": password}, headers=CSRF)
    assert r.status_code == 200, r.text
    client.headers.update(CSRF)
    return client


@pytest.fixture
def make_user(container: Container) -> Callable[..., str]:
    def _make(username: str, role: str, branch_code: str = "HQ") -> str:
        create_user_as_system(
            container.uows,
            username=username,
            role=role,
            branch_code=branch_code,
            display_name=username,
            password=PASSWORD,
        )
        return username

    return _make


@pytest.fixture(autouse=True)
def _restore_root_logging() -> Iterator[None]:
    """Some libraries (Celery's in-process worker, uvicorn) reconfigure the root logger; undo it per test."""
    import logging

    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield
    root.setLevel(level)
    root.handlers[:] = handlers
