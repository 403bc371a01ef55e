"""Hardening visible from outside: security headers on API answers, /metrics only for loopback or a
token, a CSP that names the app's own WebSocket origin instead of any ws:/wss: host, and deeply
nested JSON in the recordings form refused with 422 instead of a 500."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dualrec.api.app import create_app
from dualrec.bootstrap.container import Container, build_container
from dualrec.services.identity.seed import seed_demo
from tests.conftest import ADMIN_PASSWORD, login, make_settings

DEEP = "[" * 5000 + "]" * 5000


@pytest.fixture
def make(tmp_path: Path) -> Iterator[Callable[..., TestClient]]:
    containers: list[Container] = []

    def _make(client_host: str = "testclient", **overrides: object) -> TestClient:
        settings = make_settings(tmp_path / f"data{len(containers)}", **overrides)
        container = build_container(settings, migrate=True, with_jobs=False)
        seed_demo(container.uows, admin_username="admin", admin_password=ADMIN_PASSWORD)
        containers.append(container)
        return TestClient(create_app(settings, container=container), client=(client_host, 50000))

    yield _make
    for c in containers:
        c.close()


def test_api_answers_are_not_sniffed_nor_stored(app_client: TestClient) -> None:
    for r in (
        app_client.get("/api/v1/health"),
        app_client.get("/api/v1/auth/me"),  # a 401 problem
        app_client.post("/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}),
        app_client.get("/api/v1/openapi.json"),
    ):
        assert r.headers["x-content-type-options"] == "nosniff", r.url
        assert r.headers["cache-control"] == "no-store", r.url
    too_large = app_client.post("/api/v1/auth/login", content=b"x" * 2_000_000)
    assert too_large.status_code == 413 and too_large.headers["cache-control"] == "no-store"
    page = app_client.get("/")
    assert page.headers["x-content-type-options"] == "nosniff"


def test_metrics_need_loopback_or_the_token(make: Callable[..., TestClient]) -> None:
    remote = make("203.0.113.7")
    r = remote.get("/metrics")
    assert r.status_code == 403 and "DUALREC_METRICS_TOKEN" in r.json()["detail"]
    assert "dualrec_http_requests_total" not in r.text

    local = make("127.0.0.1")
    assert local.get("/metrics").status_code == 200
    assert "dualrec_http_requests_total" in local.get("/metrics").text
    # through a reverse proxy on the same machine the client address is loopback: not good enough
    assert local.get("/metrics", headers={"X-Forwarded-For": "203.0.113.7"}).status_code == 403

    token = "metrics-token-0123456789abcdef"
    scraped = make("203.0.113.7", metrics_token=token)
    assert scraped.get("/metrics").status_code == 403
    assert scraped.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    ok = scraped.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200 and "dualrec_http_requests_total" in ok.text


def _connect_src(client: TestClient) -> list[str]:
    csp = client.get("/").headers["content-security-policy"]
    found = re.search(r"connect-src ([^;]*)", csp)
    assert found, csp
    return found.group(1).split()


def test_the_csp_names_the_apps_own_websocket_origin(make: Callable[..., TestClient]) -> None:
    plain = _connect_src(make())
    assert plain == ["'self'", "ws://127.0.0.1:8000"]
    tls = _connect_src(
        make(public_url="https://dualrec.bank.example", media_server_origin="wss://media.bank.example:8443")
    )
    assert tls == ["'self'", "wss://dualrec.bank.example", "wss://media.bank.example:8443"]
    for sources in (plain, tls):
        assert not {"ws:", "wss:", "*", "http:", "https:"} & set(sources)


@pytest.mark.parametrize("field", ["task", "flow", "markers"])
def test_deeply_nested_form_fields_are_a_clear_422(app_client: TestClient, field: str) -> None:
    login(app_client, "admin", ADMIN_PASSWORD)
    r = app_client.post(
        "/api/v1/recordings",
        files={"file": ("a.mp4", b"x" * 100, "video/mp4")},
        data={field: DEEP},
        headers={"Accept-Language": "en"},
    )
    assert r.status_code == 422, r.text
    assert "nested deeper" in r.json()["detail"] and field in r.json()["detail"]
