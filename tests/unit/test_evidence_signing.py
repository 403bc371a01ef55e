"""Checkpoint signing keys: Ed25519 and SM2 sign/verify, key files, production refusal, TSA refusal."""

from __future__ import annotations

import stat
import time
from pathlib import Path

import pytest

from dualrec.bootstrap.evidence import evidence_signer
from dualrec.errors import ConfigurationError
from dualrec.services.evidence.signing_key import (
    generate_key_file,
    load_signer,
    public_key_id,
    verify_signature,
)
from dualrec.settings import Settings

DATA = b'{"format":"dualrec-evidence-checkpoint/1","seq":42}'


@pytest.mark.parametrize("algorithm", ["ed25519", "sm2"])
def test_sign_and_verify_and_every_mismatch_fails(tmp_path: Path, algorithm: str) -> None:
    signer = generate_key_file(tmp_path / "k.pem", algorithm)
    other = generate_key_file(tmp_path / "other.pem", algorithm)
    assert stat.S_IMODE((tmp_path / "k.pem").stat().st_mode) == 0o600
    sig = signer.sign(DATA)
    assert verify_signature(algorithm, signer.public_key, DATA, sig)
    assert not verify_signature(algorithm, signer.public_key, DATA.replace(b"42", b"43"), sig)
    assert not verify_signature(algorithm, other.public_key, DATA, sig)
    assert not verify_signature(algorithm, signer.public_key, DATA, other.sign(DATA))
    assert not verify_signature(algorithm, signer.public_key, DATA, "not base64!")
    assert signer.key_id == public_key_id(algorithm, signer.public_key) != other.key_id
    again = load_signer(tmp_path / "k.pem", algorithm)
    assert again.public_key == signer.public_key and again.key_id == signer.key_id


def test_raw_32_byte_ed25519_key_and_openssl_style_pem_load(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    key = Ed25519PrivateKey.generate()
    (tmp_path / "raw.key").write_bytes(key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()))
    (tmp_path / "k.pem").write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    a = load_signer(tmp_path / "raw.key", "ed25519")
    b = load_signer(tmp_path / "k.pem", "ed25519")
    assert a.key_id == b.key_id
    assert verify_signature("ed25519", b.public_key, DATA, a.sign(DATA))


def test_unusable_key_files_are_clear_configuration_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read"):
        load_signer(tmp_path / "missing.pem", "ed25519")
    (tmp_path / "junk.pem").write_text("hello")
    with pytest.raises(ConfigurationError, match="not a valid ed25519 key"):
        load_signer(tmp_path / "junk.pem", "ed25519")
    generate_key_file(tmp_path / "sm2.pem", "sm2")
    with pytest.raises(ConfigurationError, match="not a valid ed25519 key"):
        load_signer(tmp_path / "sm2.pem", "ed25519")


def test_development_generates_one_key_and_reuses_it(tmp_path: Path) -> None:
    s = Settings(env="development", data_dir=tmp_path)
    first = evidence_signer(s)
    assert (tmp_path / "keys" / "evidence-ed25519.pem").is_file()
    assert evidence_signer(s).key_id == first.key_id


def test_production_refuses_to_run_without_the_institution_key(tmp_path: Path) -> None:
    s = Settings(env="test", data_dir=tmp_path).model_copy(update={"env": "production"})
    with pytest.raises(ConfigurationError, match="DUALREC_SIGNING_KEY_FILE"):
        evidence_signer(s)
    assert not (tmp_path / "keys").exists()
    generate_key_file(tmp_path / "inst.pem", "sm2")
    s2 = s.model_copy(update={"signing_key_file": tmp_path / "inst.pem", "signing_algorithm": "sm2"})
    assert evidence_signer(s2).algorithm == "sm2"


def test_time_stamp_authority_is_refused_as_not_implemented(tmp_path: Path) -> None:
    s = Settings(env="test", data_dir=tmp_path, tsa_url="http://tsa.example/rfc3161")
    with pytest.raises(ConfigurationError, match="not implemented"):
        evidence_signer(s)


@pytest.mark.parametrize("algorithm", ["ed25519", "sm2"])
def test_signing_speed_is_reported(
    tmp_path: Path, algorithm: str, capsys: pytest.CaptureFixture[str]
) -> None:
    signer = generate_key_file(tmp_path / "k.pem", algorithm)
    t0 = time.perf_counter()
    sigs = [signer.sign(DATA) for _ in range(5)]
    t1 = time.perf_counter()
    assert all(verify_signature(algorithm, signer.public_key, DATA, s) for s in sigs)
    t2 = time.perf_counter()
    with capsys.disabled():
        print(f"\n{algorithm}: sign {(t1 - t0) / 5 * 1000:.1f} ms, verify {(t2 - t1) / 5 * 1000:.1f} ms")
    assert (t1 - t0) / 5 < 2.0  # a checkpoint every N events must not stall the ledger
