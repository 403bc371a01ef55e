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


FOLDER_MARKERS = {"integration": ("integration",), "e2e": ("e2e", "slow")}
NOT_IN_UNIT = ("integration", "e2e")


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
        if folder == "unit":
            misplaced += [f"{item.nodeid} ({m})" for m in NOT_IN_UNIT if item.get_closest_marker(m)]
    if misplaced:
        raise pytest.UsageError(
            "tests under tests/unit must not be marked integration or e2e; move them to that folder:\n  "
            + "\n  ".join(misplaced)
        )


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
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture
def container(settings: Settings) -> Iterator[Container]:
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
