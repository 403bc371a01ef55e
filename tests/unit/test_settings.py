"""Settings: env prefix, TOML file, refusal of unsafe production defaults, documentation coverage."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from dualrec.settings import Settings

REPO = Path(__file__).resolve().parents[2]


def test_env_prefix_and_types(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUALREC_PORT", "9001")
    monkeypatch.setenv("DUALREC_JOB_BACKEND", "celery")
    s = Settings()
    assert s.port == 9001 and s.job_backend == "celery"
    monkeypatch.setenv("DUALREC_JOB_BACKEND", "carrier-pigeon")
    with pytest.raises(ValidationError):
        Settings()


def test_config_file_is_read_and_env_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "dualrec.toml"
    cfg.write_text('port = 8100\nlog_level = "DEBUG"\n', encoding="utf-8")
    monkeypatch.setenv("DUALREC_CONFIG_FILE", str(cfg))
    assert Settings().port == 8100
    monkeypatch.setenv("DUALREC_PORT", "8200")
    s = Settings()
    assert s.port == 8200 and s.log_level == "DEBUG"


def test_unknown_keys_in_config_file_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "dualrec.toml"
    cfg.write_text("prot = 8100\n", encoding="utf-8")
    monkeypatch.setenv("DUALREC_CONFIG_FILE", str(cfg))
    with pytest.raises(ValidationError, match="prot"):
        Settings()


def test_production_refuses_default_secret_and_insecure_cookie() -> None:
    with pytest.raises(ValidationError, match="DUALREC_SECRET_KEY"):
        Settings(env="production", cookie_secure=True)
    with pytest.raises(ValidationError, match="DUALREC_COOKIE_SECURE"):
        Settings(env="production", secret_key="x" * 40)
    ok = Settings(
        env="production", secret_key="x" * 40, cookie_secure=True, master_key_file=Path("/run/keys.json")
    )
    assert ok.env == "production"


def test_masked_hides_secrets_and_url_passwords() -> None:
    s = Settings(
        secret_key="y" * 40,
        database_url="postgresql://dr:hunter2@db:5432/dualrec",
        admin_password="Admin-pass-123",
    )
    shown = s.masked()
    text = repr(shown)
    assert "hunter2" not in text and "y" * 40 not in text and "Admin-pass-123" not in text
    assert shown["database_url"] == "postgresql://dr:****@db:5432/dualrec"


def test_default_database_is_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path)
    assert s.resolved_database_url == f"sqlite:///{tmp_path.resolve()}/dualrec.sqlite3"


def test_every_setting_is_documented() -> None:
    doc = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    missing = [n for n in Settings.model_fields if f"`DUALREC_{n.upper()}`" not in doc]
    assert not missing, f"document these in docs/configuration.md: {missing}"


def test_password_hash_costs_below_the_floor_are_for_the_test_suite_only() -> None:
    """A cheap Argon2 makes stolen hashes cheap to crack: outside DUALREC_ENV=test the floor holds."""
    production = {"secret_key": "x" * 40, "cookie_secure": True, "master_key_file": Path("/run/keys.json")}
    for env, rest in (("development", {}), ("production", production)):
        with pytest.raises(ValidationError, match="DUALREC_PASSWORD_HASH_TIME_COST"):
            Settings(env=env, password_hash_time_cost=1, **rest)  # type: ignore[arg-type]
        with pytest.raises(ValidationError, match="DUALREC_PASSWORD_HASH_MEMORY_KIB"):
            Settings(env=env, password_hash_memory_kib=1024, **rest)  # type: ignore[arg-type]
    assert Settings(env="test", password_hash_time_cost=1, password_hash_memory_kib=1024).env == "test"
