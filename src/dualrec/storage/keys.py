"""Master keys for envelope encryption at rest: a keyring of named 256-bit keys, one of them active.

Format (the value of ``DUALREC_MASTER_KEYS`` or the content of ``DUALREC_MASTER_KEY_FILE``)::

    {"active": "k2", "keys": {"k1": "<base64 of 32 bytes>", "k2": "<base64 of 32 bytes>"}}

New blobs wrap their data key under the active key; blobs written under older key ids stay
readable as long as those keys remain in the ring. Rotating = add a key, make it active, run
``rewrap`` (see ``dualrec.storage.encryption``), then drop the old key.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from dualrec.errors import ConfigurationError
from dualrec.i18n import msg

__all__ = ["MASTER_KEY_BYTES", "Keyring", "load_or_create_dev_keyring", "new_key_text"]

logger = logging.getLogger(__name__)

MASTER_KEY_BYTES = 32
_KEY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
DEV_KEY_FILE_NAME = "master-keys.json"


@dataclass(frozen=True)
class Keyring:
    active: str
    keys: Mapping[str, bytes] = field(repr=False)

    def __post_init__(self) -> None:
        if not self.keys:
            raise ConfigurationError(msg("storage.master_keyring_keys"))
        for key_id, key in self.keys.items():
            if not _KEY_ID.match(key_id):
                raise ConfigurationError(msg("storage.invalid_master_key_id"), details={"id": key_id})
            if len(key) != MASTER_KEY_BYTES:
                raise ConfigurationError(
                    msg("storage.master_key_must_32_bytes"),
                    details={"id": key_id, "bytes": len(key)},
                )
        if self.active not in self.keys:
            raise ConfigurationError(
                msg("storage.active_master_key_id_keyring"),
                details={"active": self.active},
            )
        object.__setattr__(self, "keys", MappingProxyType(dict(self.keys)))

    def key(self, key_id: str) -> bytes:
        try:
            return self.keys[key_id]
        except KeyError:
            raise ConfigurationError(
                msg("storage.master_key_id_keyring_removed"),
                details={"key_id": key_id, "known": sorted(self.keys)},
            ) from None

    @classmethod
    def from_json(cls, text: str) -> Keyring:
        try:
            doc = json.loads(text)
            keys = {str(k): base64.b64decode(v, validate=True) for k, v in dict(doc["keys"]).items()}
            active = str(doc["active"])
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise ConfigurationError(
                msg("storage.master_keys_must_json"),
                details={"error": type(exc).__name__},
            ) from None
        return cls(active=active, keys=keys)

    def to_json(self) -> str:
        keys = {k: base64.b64encode(v).decode() for k, v in self.keys.items()}
        return json.dumps({"active": self.active, "keys": keys}, indent=2)

    def with_new_active_key(self, key_id: str) -> Keyring:
        """A copy with a fresh random key ``key_id`` made active (old keys kept for reading)."""
        if key_id in self.keys:
            raise ConfigurationError(msg("storage.master_key_id_exists"), details={"id": key_id})
        return Keyring(active=key_id, keys={**self.keys, key_id: secrets.token_bytes(MASTER_KEY_BYTES)})

    @classmethod
    def from_file(cls, path: Path) -> Keyring:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigurationError(
                msg("storage.cannot_read_master_key_file"),
                details={"path": str(path), "error": exc.strerror or type(exc).__name__},
            ) from None
        return cls.from_json(text)


def new_key_text(key_id: str = "k1") -> str:
    """A new keyring JSON with one random key (for operators: ``DUALREC_MASTER_KEYS``)."""
    return Keyring(active=key_id, keys={key_id: secrets.token_bytes(MASTER_KEY_BYTES)}).to_json()


def load_or_create_dev_keyring(data_dir: Path) -> Keyring:
    """Development/test only: a keyring file in the data dir, created (mode 0600) on first use."""
    path = data_dir / DEV_KEY_FILE_NAME
    if path.exists():
        return Keyring.from_file(path)
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = data_dir / f".{DEV_KEY_FILE_NAME}.{secrets.token_hex(8)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(new_key_text("dev1"))
    try:
        os.link(tmp, path)  # atomic and exclusive: a concurrent process's key wins, never a mix
        logger.warning(
            "generated a development master key at %s — blobs are encrypted with it; "
            "set DUALREC_MASTER_KEYS or DUALREC_MASTER_KEY_FILE in production",
            path,
        )
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return Keyring.from_file(path)
