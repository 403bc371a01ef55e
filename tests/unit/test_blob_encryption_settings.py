"""Master keys and cipher from settings: development key on first use, refusal in production."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from dualrec.bootstrap.storage import build_blob_store, build_encrypted_blob_store
from dualrec.errors import ConfigurationError
from dualrec.settings import Settings
from dualrec.storage.keys import new_key_text

PRODUCTION = {"env": "production", "secret_key": "x" * 40, "cookie_secure": True}


def test_development_generates_a_private_key_file_once_and_reuses_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(env="test", data_dir=tmp_path)
    with caplog.at_level(logging.WARNING, logger="dualrec.storage.keys"):
        store = build_blob_store(settings)
    key_file = tmp_path / "keys" / "master-keys.json"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "generated a development master key" in caplog.text
    ref = store.put("客户 张三 身份证 110101199003071234".encode(), content_type="text/plain")
    stored = next(p for p in (tmp_path / "blobs").rglob(ref.key))
    assert stored.read_bytes().startswith(b"DRBLOB") and b"110101199003071234" not in stored.read_bytes()

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="dualrec.storage.keys"):
        restarted = build_blob_store(Settings(env="test", data_dir=tmp_path))
    assert "generated" not in caplog.text
    with restarted.open(ref.key) as stream:
        assert "110101199003071234" in stream.read().decode()


def test_keys_and_cipher_come_from_settings(tmp_path: Path) -> None:
    keys = new_key_text("hsm-2026")
    store = build_encrypted_blob_store(
        Settings(env="test", data_dir=tmp_path, master_keys=keys, blob_cipher="sm4-gcm")
    )
    ref = store.put(b"x" * 1000, content_type="text/plain")
    assert store.key_id_of(ref.key) == "hsm-2026" and store.algorithm == "sm4-gcm"
    assert not (tmp_path / "keys").exists()
    key_file = tmp_path / "mounted.json"
    key_file.write_text(keys)
    from_file = build_encrypted_blob_store(Settings(env="test", data_dir=tmp_path, master_key_file=key_file))
    assert from_file.read_range(ref.key, 10, 20) == b"x" * 10
    assert "hsm-2026" not in json.dumps(Settings(master_keys=keys).masked())


def test_production_refuses_to_start_without_a_master_key(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="DUALREC_MASTER_KEYS"):
        Settings(data_dir=tmp_path, **PRODUCTION)  # type: ignore[arg-type]
    missing = Settings(data_dir=tmp_path, master_key_file=tmp_path / "nope.json", **PRODUCTION)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="master key file"):
        build_blob_store(missing)
    assert not (tmp_path / "keys").exists()


def test_s3_backend_needs_a_bucket() -> None:
    with pytest.raises(ValidationError, match="DUALREC_S3_BUCKET"):
        Settings(blob_backend="s3")
