"""`dualrec storage` commands: make a keyring, rotate it, re-wrap blobs under the new key."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dualrec.bootstrap.storage import build_encrypted_blob_store
from dualrec.cli.storage import app
from dualrec.settings import Settings
from dualrec.storage.keys import Keyring


def test_rotate_then_rewrap_moves_every_blob_to_the_new_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    made = runner.invoke(app, ["new-key", "--id", "k1"])
    assert made.exit_code == 0, made.output
    key_file = tmp_path / "master-keys.json"
    key_file.write_text(made.stdout)
    assert Keyring.from_file(key_file).active == "k1"

    settings = Settings(env="test", data_dir=tmp_path / "data", master_key_file=key_file)
    old = build_encrypted_blob_store(settings)
    keys = [old.put(f"recording {i}".encode() * 1000, content_type="video/mp4").key for i in range(3)]

    rotated = runner.invoke(app, ["rotate-key", str(key_file), "--id", "k2"])
    assert rotated.exit_code == 0, rotated.output
    assert "k1 → k2" in rotated.stdout
    ring = json.loads(key_file.read_text())
    assert ring["active"] == "k2" and set(ring["keys"]) == {"k1", "k2"}
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    listing = tmp_path / "blob-keys.txt"
    listing.write_text("\n".join([*keys, "not-a-key", ""]))
    monkeypatch.setenv("DUALREC_ENV", "test")
    monkeypatch.setenv("DUALREC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DUALREC_MASTER_KEY_FILE", str(key_file))
    result = runner.invoke(app, ["rewrap", "--keys", str(listing)])
    assert result.exit_code == 1  # the bad line is reported, the others are done
    assert "re-wrapped 3, already on the active key 0, failed 1" in result.stdout
    again = runner.invoke(app, ["rewrap", "--keys", "-"], input="\n".join(keys))
    assert again.exit_code == 0 and "re-wrapped 0, already on the active key 3" in again.stdout

    only_k2 = {"active": "k2", "keys": {"k2": ring["keys"]["k2"]}}
    key_file.write_text(json.dumps(only_k2))
    store = build_encrypted_blob_store(settings)
    for i, key in enumerate(keys):
        assert store.key_id_of(key) == "k2"
        assert store.read_range(key, 0, 11) == f"recording {i}".encode()[:11]


def test_rotating_to_an_existing_id_is_refused(tmp_path: Path) -> None:
    key_file = tmp_path / "keys.json"
    key_file.write_text(CliRunner().invoke(app, ["new-key"]).stdout)
    before = key_file.read_text()
    result = CliRunner().invoke(app, ["rotate-key", str(key_file), "--id", "k1"])
    assert result.exit_code == 2 and "exists" in result.output
    assert key_file.read_text() == before
