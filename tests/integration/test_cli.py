"""The operator's command line: db upgrade, seed (password printed once), users create, doctor, openapi."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_support import run_cli


@pytest.mark.slow
def test_seed_prints_generated_password_once_and_it_works(tmp_path: Path) -> None:
    assert run_cli(["db", "upgrade"], tmp_path).returncode == 0
    first = run_cli(["seed"], tmp_path)
    assert first.returncode == 0, first.stderr
    assert "password shown once" in first.stdout
    password = first.stdout.split("password:")[1].split()[0]
    second = run_cli(["seed"], tmp_path)
    assert (
        second.returncode == 0 and "admin account exists" in second.stdout and password not in second.stdout
    )

    from dualrec.bootstrap.container import build_container
    from dualrec.services.common.context import RequestMeta
    from dualrec.settings import Settings

    c = build_container(Settings(env="test", data_dir=tmp_path), with_jobs=False)
    try:
        _token, principal = c.auth.login(username="admin", password=password, meta=RequestMeta())
        assert principal.role == "admin"
    finally:
        c.close()


@pytest.mark.slow
def test_users_create_and_its_errors(tmp_path: Path) -> None:
    assert run_cli(["seed"], tmp_path, DUALREC_ADMIN_PASSWORD="Admin-pass-123").returncode == 0
    ok = run_cli(
        ["users", "create", "qc01", "--role", "qc_reviewer", "--branch", "BJ", "--password", "Qc-pass-12345"],
        tmp_path,
    )
    assert ok.returncode == 0 and "created user qc01" in ok.stdout and "北京分行" in ok.stdout
    dup = run_cli(
        ["users", "create", "qc01", "--role", "qc_reviewer", "--password", "Qc-pass-12345"], tmp_path
    )
    assert dup.returncode == 1 and "already taken" in dup.stderr
    weak = run_cli(["users", "create", "qc02", "--password", "123"], tmp_path)
    assert weak.returncode == 1 and "password" in weak.stderr
    nobranch = run_cli(
        ["users", "create", "qc03", "--branch", "NOPE", "--password", "Qc-pass-12345"], tmp_path
    )
    assert nobranch.returncode == 1 and "NOPE" in nobranch.stderr


def test_doctor_reports_each_item_and_what_is_missing(tmp_path: Path) -> None:
    before = run_cli(["doctor"], tmp_path)
    assert before.returncode == 1
    assert "database/schema" in before.stdout and "dualrec db upgrade" in before.stdout
    assert "ai/whisper" in before.stdout and "ai/dlib" in before.stdout and "ai/rapidocr" in before.stdout
    assert run_cli(["db", "upgrade"], tmp_path).returncode == 0
    after = run_cli(["doctor"], tmp_path)
    assert "[OK  ] database/schema" in after.stdout
    assert "jobs/inprocess" in after.stdout and "selftest done" in after.stdout


def test_openapi_is_valid_json_with_versioned_paths(tmp_path: Path) -> None:
    out = run_cli(["openapi"], tmp_path)
    spec = json.loads(out.stdout)
    assert spec["info"]["title"] == "dualrec API"
    assert all(p.startswith("/api/v1/") for p in spec["paths"])
