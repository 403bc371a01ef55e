"""The institution's signing key for evidence checkpoints: Ed25519 (default) or SM2 (国密, gmssl).

Only stdlib at import time: ``cryptography`` / ``gmssl`` are imported when a key is used, so the
offline verifier stays quick to start.

Key files: Ed25519 as PKCS#8 PEM (``openssl genpkey -algorithm ed25519``) or 32 raw bytes; SM2 as
the block written by ``generate_key_file`` (hex private scalar) or 32 raw bytes. Public keys travel
as text: Ed25519 as a standard PEM ``PUBLIC KEY``; SM2 as a ``DUALREC SM2 PUBLIC KEY`` block holding
the hex of the uncompressed point x‖y. Signatures are base64 (SM2: the 64-byte r‖s over SM3 with the
default user id ``1234567812345678``).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from dualrec.errors import ConfigurationError
from dualrec.i18n import msg

__all__ = [
    "ALGORITHMS",
    "Signer",
    "generate_key_file",
    "load_signer",
    "public_key_id",
    "verify_signature",
]

logger = logging.getLogger(__name__)

ALGORITHMS = ("ed25519", "sm2")
_SM2_PRIV = ("-----BEGIN DUALREC SM2 PRIVATE KEY-----", "-----END DUALREC SM2 PRIVATE KEY-----")
_SM2_PUB = ("-----BEGIN DUALREC SM2 PUBLIC KEY-----", "-----END DUALREC SM2 PUBLIC KEY-----")


def _block(lines: tuple[str, str], hex_value: str) -> str:
    return f"{lines[0]}\n{hex_value}\n{lines[1]}\n"


def _unblock(lines: tuple[str, str], text: str) -> str:
    body = text.strip()
    if not (body.startswith(lines[0]) and body.endswith(lines[1])):
        raise ValueError(f"not a {lines[0]} block")
    return body[len(lines[0]) : -len(lines[1])].strip()


def _public_raw(algorithm: str, public_key_text: str) -> bytes:
    if algorithm == "ed25519":
        from cryptography.exceptions import UnsupportedAlgorithm
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
        from cryptography.hazmat.primitives.serialization import (
            Encoding,
            PublicFormat,
            load_pem_public_key,
        )

        try:
            key = load_pem_public_key(public_key_text.encode())
        except UnsupportedAlgorithm as exc:
            raise ValueError(f"unsupported public key: {exc}") from None
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("the public key is not an Ed25519 key")
        return key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    if algorithm == "sm2":
        raw = bytes.fromhex(_unblock(_SM2_PUB, public_key_text))
        if len(raw) != 64:
            raise ValueError("an SM2 public key is 64 bytes (x‖y)")
        return raw
    raise ValueError(f"unknown signature algorithm {algorithm!r}")


def public_key_id(algorithm: str, public_key_text: str) -> str:
    """A short, stable name of a public key: the first 16 hex digits of SHA-256 of its raw bytes."""
    return hashlib.sha256(_public_raw(algorithm, public_key_text)).hexdigest()[:16]


def verify_signature(algorithm: str, public_key_text: str, data: bytes, signature_b64: str) -> bool:
    try:
        signature = base64.b64decode(signature_b64, validate=True)
        raw = _public_raw(algorithm, public_key_text)
    except ValueError:
        return False
    if algorithm == "ed25519":
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        try:
            Ed25519PublicKey.from_public_bytes(raw).verify(signature, data)
        except InvalidSignature:
            return False
        return True
    from gmssl import sm2

    if len(signature) != 64:
        return False
    verifier = sm2.CryptSM2(private_key=None, public_key=raw.hex())
    return bool(verifier.verify_with_sm3(signature.hex(), data))


@dataclass(frozen=True)
class Signer:
    algorithm: str
    public_key: str  # text form (see module doc)
    key_id: str
    _private: object

    def sign(self, data: bytes) -> str:
        if self.algorithm == "ed25519":
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

            assert isinstance(self._private, Ed25519PrivateKey)
            return base64.b64encode(self._private.sign(data)).decode()
        from gmssl import func, sm2

        assert isinstance(self._private, str)
        crypt = sm2.CryptSM2(private_key=self._private, public_key=_unblock(_SM2_PUB, self.public_key))
        return base64.b64encode(
            bytes.fromhex(crypt.sign_with_sm3(data, func.random_hex(crypt.para_len)))
        ).decode()


def _signer_from_bytes(algorithm: str, data: bytes, source: str) -> Signer:
    if algorithm == "ed25519":
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import (
            Encoding,
            PublicFormat,
            load_pem_private_key,
        )

        if len(data) == 32:
            key = Ed25519PrivateKey.from_private_bytes(data)
        else:
            loaded = load_pem_private_key(data, password=None)
            if not isinstance(loaded, Ed25519PrivateKey):
                raise ConfigurationError(msg("evidence.ed25519_key", source=source))
            key = loaded
        pem = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
        return Signer("ed25519", pem, public_key_id("ed25519", pem), key)
    if algorithm == "sm2":
        from gmssl import sm2

        priv = data.hex() if len(data) == 32 else _unblock(_SM2_PRIV, data.decode("ascii"))
        scalar = int(priv, 16)
        if not 0 < scalar < int(sm2.default_ecc_table["n"], 16):
            raise ConfigurationError(msg("evidence.invalid_sm2_private_key", source=source))
        crypt = sm2.CryptSM2(private_key=priv, public_key="")
        pub = _block(_SM2_PUB, crypt._kg(scalar, sm2.default_ecc_table["g"]))
        return Signer("sm2", pub, public_key_id("sm2", pub), priv)
    raise ConfigurationError(msg("evidence.unknown_signing_algorithm", algorithm=algorithm))


def load_signer(path: Path, algorithm: str) -> Signer:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(msg("evidence.cannot_read_signing_key", path=path, exc=exc)) from exc
    try:
        return _signer_from_bytes(algorithm, data.strip() if len(data) != 32 else data, str(path))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigurationError(msg("evidence.valid_key", path=path, algorithm=algorithm, exc=exc)) from exc


def generate_key_file(path: Path, algorithm: str) -> Signer:
    """Write a new private key (mode 0600) and return its signer."""
    if algorithm == "ed25519":
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

        data = Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    elif algorithm == "sm2":
        from gmssl import sm2

        n = int(sm2.default_ecc_table["n"], 16)
        data = _block(_SM2_PRIV, f"{secrets.randbelow(n - 1) + 1:064x}").encode()
    else:
        raise ConfigurationError(msg("evidence.unknown_signing_algorithm", algorithm=algorithm))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return load_signer(path, algorithm)
