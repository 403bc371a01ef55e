"""Browser tests: the real server in a subprocess, driven by Debian's Chromium through Playwright.

The built front end (src/dualrec/web/dist) must exist: `make web` (or `cd frontend && npm ci &&
npm run build`) produces it. Playwright never downloads a browser here; /usr/bin/chromium is used.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from tests.conftest import FAST_PASSWORD_HASH_ENV

REPO_ROOT = Path(__file__).resolve().parents[2]
DUALREC = REPO_ROOT / ".venv" / "bin" / "dualrec"
DIST_INDEX = REPO_ROOT / "src" / "dualrec" / "web" / "dist" / "index.html"
ARTIFACTS = REPO_ROOT / "test-artifacts" / "e2e"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ADMIN_PASSWORD = "E2e-Admin-pass-1"
CSRF = {"X-Requested-With": "dualrec"}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_healthy(base_url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"dualrec serve exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(f"{base_url}/api/v1/health", timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"dualrec serve not healthy after {timeout:.0f} s:\n{log.read_text()[-4000:]}")


@contextmanager
def running_server(data_dir: Path, **env_extra: str) -> Iterator[tuple[str, Path]]:
    """A real `dualrec serve` on loopback over a migrated, seeded database in ``data_dir``:
    yields its base URL and its log file; stopped on exit."""
    env = {
        **os.environ,
        "DUALREC_DATA_DIR": str(data_dir),
        "DUALREC_ENV": "test",
        "DUALREC_ADMIN_PASSWORD": ADMIN_PASSWORD,
        **FAST_PASSWORD_HASH_ENV,
        **env_extra,
    }
    for command in (["db", "upgrade"], ["seed"]):
        subprocess.run([str(DUALREC), *command], env=env, check=True, capture_output=True, timeout=120)
    port = _free_port()
    log = data_dir / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(DUALREC), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base_url, proc, log)
        yield base_url, log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a real `dualrec serve` with a migrated, seeded database in a temp data dir."""
    if not DIST_INDEX.is_file():
        pytest.fail(f"front end not built ({DIST_INDEX} missing): run `make web` first", pytrace=False)
    # the tests' webhook receivers listen on loopback
    with running_server(tmp_path_factory.mktemp("e2e-data"), DUALREC_OUTBOUND_ALLOW="127.0.0.1") as (
        base_url,
        _log,
    ):
        yield base_url


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium package", pytrace=False)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium: Browser, server_url: str) -> Iterator[Page]:
    """A fresh browser context (no cookies) on the server, in Chinese, desktop-sized."""
    context = chromium.new_context(
        base_url=server_url, locale="zh-CN", viewport={"width": 1280, "height": 800}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    def on_console(message: ConsoleMessage) -> None:
        # Failed requests (401 before login, 409 on purpose) are logged by the browser itself;
        # anything else on the error console (a CSP violation, a Vue warning) is a bug.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    page.on("console", on_console)
    try:
        yield page
    finally:
        context.close()
    assert not errors, f"errors in the page: {errors}"


@pytest.fixture
def shot() -> Callable[[Page, str], None]:
    """Saves a screenshot to test-artifacts/e2e/<name>.png (full page unless a dialog is open)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(page: Page, name: str) -> None:
        dialog_open = page.get_by_role("dialog").count() > 0
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=not dialog_open)

    return take


@pytest.fixture(autouse=True)
def admin_speaks_chinese_again(request: pytest.FixtureRequest) -> Iterator[None]:
    """The seeded admin's language setting is shared by every browser test on this worker's server
    (the API's messages and the console follow it): a test that switched it to English, passing or
    failing, leaves it Chinese for the next one."""
    if "server_url" not in request.fixturenames:
        yield  # a test with its own server
        return
    client: httpx.Client = request.getfixturevalue("admin_api")
    yield
    r = client.put("/api/v1/auth/me/language", json={"language": "zh-CN"})
    assert r.status_code == 200, r.text


@pytest.fixture(scope="session")
def admin_api(server_url: str) -> Iterator[httpx.Client]:
    """An HTTP client logged in as the seeded admin, for setting up data without the UI."""
    with httpx.Client(base_url=server_url, headers=CSRF, timeout=10.0) as client:
        response = client.post("/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
        response.raise_for_status()
        yield client
