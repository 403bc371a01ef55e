"""The customer's page loads its face model from the SPA's /models/ folder (issue 16): public, cached
for good, and only the files the build put there — never the page, never a file outside it."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from dualrec.api.spa import MODEL_CACHE, mount_spa


def _client(tmp_path: Path) -> TestClient:
    (tmp_path / "index.html").write_text("<!doctype html><title>dualrec</title>")
    (tmp_path / "secret.txt").write_text("not a model")
    models = tmp_path / "models" / "human-3.3.6"
    models.mkdir(parents=True)
    (models / "blazeface.bin").write_bytes(b"\x00weights")
    app = FastAPI()
    mount_spa(app, tmp_path)
    return TestClient(app)


def test_a_model_file_is_served_without_login_and_cached_for_good(tmp_path: Path) -> None:
    r = _client(tmp_path).get("/models/human-3.3.6/blazeface.bin")
    assert r.status_code == 200
    assert r.content == b"\x00weights"
    assert r.headers["cache-control"] == MODEL_CACHE
    assert "wasm-unsafe-eval" in r.headers["content-security-policy"]


def test_a_missing_model_is_a_404_not_the_page(tmp_path: Path) -> None:
    client = _client(tmp_path)
    for path in ("/models/human-3.3.6/faceres.bin", "/models/", "/models/nothing"):
        r = client.get(path)
        assert r.status_code == 404, path
        assert b"dualrec" not in r.content


def test_nothing_outside_the_models_folder_comes_through_it(tmp_path: Path) -> None:
    client = _client(tmp_path)
    for path in ("/models/%2e%2e/secret.txt", "/models/human-3.3.6/%2e%2e/%2e%2e/index.html"):
        r = client.get(path)
        assert r.status_code == 404, path
        assert "immutable" not in r.headers.get("cache-control", "")
    # the page itself keeps its own (no-cache) headers
    page = client.get("/h5/some-token")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-cache"
