"""The on-disk format of an encrypted blob and its cryptographic primitives (format version 1).

Layout of a stored object (all integers big-endian)::

    header   "DRBLOB" | version u8 | algorithm u8 | chunk_size u32 | nonce_base 8B
             | key_id_len u8 | key_id | wrapped_len u16 | wrapped data key
    chunk 0 … chunk n-1   AEAD(plaintext[i*cs:(i+1)*cs]) — ciphertext + 16-byte tag each
    trailer  AEAD(plaintext size u64 | plaintext SHA-256 32B) — the last record

* Data key: random per object (32 bytes for AES-256-GCM, 16 for SM4-GCM), wrapped with a key
  derived (HKDF, SHA-256 / SM3) from the master key ``key_id``; the wrap's AAD binds every other
  header field and the object key, so any change to the header makes the unwrap fail.
* Record ``i`` (chunks, then the trailer with ``i = n``) uses nonce ``nonce_base | i (u32)`` and AAD
  ``header prefix | object key | i (u64) | last flag``: records cannot be reordered, dropped,
  truncated, moved to another object or another key without the tag check failing.
* The plaintext size and SHA-256 live only in the encrypted trailer (a hash of an ID photo is itself
  sensitive), so ``stat`` reads the header and the trailer: two small range reads.
* The key id is not in the records' AAD: re-wrapping under a new master key changes only the header.
"""

from __future__ import annotations

import secrets
import struct
from dataclasses import dataclass
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from dualrec.errors import InvalidInputError, MediaError
from dualrec.i18n import msg

__all__ = [
    "ALGORITHMS",
    "CHUNK_BYTES",
    "MAX_HEADER_BYTES",
    "TAG_BYTES",
    "TRAILER_BYTES",
    "BlobIntegrityError",
    "Header",
    "Layout",
    "aead_for",
    "record_aad",
    "record_nonce",
]

MAGIC = b"DRBLOB"
VERSION = 1
ALGORITHMS: dict[str, int] = {"aes-256-gcm": 1, "sm4-gcm": 2}
_ALGORITHM_NAMES = {v: k for k, v in ALGORITHMS.items()}
_DATA_KEY_BYTES = {"aes-256-gcm": 32, "sm4-gcm": 16}
CHUNK_BYTES = 64 * 1024
TAG_BYTES = 16
TRAILER_PLAIN_BYTES = 8 + 32
TRAILER_BYTES = TRAILER_PLAIN_BYTES + TAG_BYTES
_PREFIX = struct.Struct(">6sBBI8s")
_NONCE_BASE_BYTES = 8
_WRAP_NONCE_BYTES = 12
MAX_HEADER_BYTES = _PREFIX.size + 1 + 64 + 2 + 128
MAX_RECORDS = 2**32


class BlobIntegrityError(MediaError):
    """A stored blob failed authentication: tampered, truncated, swapped, or the wrong master key."""

    code = "blob_integrity"


def integrity_error(reason: str, **details: object) -> BlobIntegrityError:
    return BlobIntegrityError(
        msg("storage.stored_blob_failed_integrity_check"),
        details={"reason": reason, **details},
    )


class Aead(Protocol):
    def encrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes: ...

    def decrypt(self, nonce: bytes, data: bytes | memoryview, associated_data: bytes | None) -> bytes: ...


class Sm4Gcm:
    """SM4 in GCM mode (GB/T 32907) through OpenSSL, with AESGCM's one-shot interface."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 16:
            raise InvalidInputError("SM4 key must be 16 bytes")
        self._key = key

    def encrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes:
        enc = Cipher(algorithms.SM4(self._key), modes.GCM(nonce)).encryptor()
        if associated_data:
            enc.authenticate_additional_data(associated_data)
        body = enc.update(data) + enc.finalize()
        return body + enc.tag

    def decrypt(self, nonce: bytes, data: bytes | memoryview, associated_data: bytes | None) -> bytes:
        if len(data) < TAG_BYTES:
            raise InvalidTag
        dec = Cipher(algorithms.SM4(self._key), modes.GCM(nonce, bytes(data[-TAG_BYTES:]))).decryptor()
        if associated_data:
            dec.authenticate_additional_data(associated_data)
        return dec.update(data[:-TAG_BYTES]) + dec.finalize()


def aead_for(algorithm: str, key: bytes) -> Aead:
    if algorithm == "aes-256-gcm":
        return AESGCM(key)
    if algorithm == "sm4-gcm":
        return Sm4Gcm(key)
    raise InvalidInputError(msg("storage.unknown_cipher"), details={"algorithm": algorithm})


def _wrap_key(master: bytes, algorithm: str) -> bytes:
    digest: hashes.HashAlgorithm = hashes.SM3() if algorithm == "sm4-gcm" else hashes.SHA256()
    info = b"dualrec blob data-key wrap v1 " + algorithm.encode()
    return HKDF(algorithm=digest, length=_DATA_KEY_BYTES[algorithm], salt=None, info=info).derive(master)


@dataclass(frozen=True)
class Header:
    algorithm: str
    key_id: str
    wrapped_key: bytes
    nonce_base: bytes
    chunk_size: int = CHUNK_BYTES

    @property
    def prefix(self) -> bytes:
        """The header fields that records authenticate (not the key id: it changes on rewrap)."""
        return _PREFIX.pack(MAGIC, VERSION, ALGORITHMS[self.algorithm], self.chunk_size, self.nonce_base)

    def encode(self) -> bytes:
        kid = self.key_id.encode("ascii")
        return (
            self.prefix
            + bytes([len(kid)])
            + kid
            + struct.pack(">H", len(self.wrapped_key))
            + self.wrapped_key
        )

    @classmethod
    def decode(cls, buf: bytes) -> Header:
        if len(buf) < _PREFIX.size + 1:
            raise integrity_error("header truncated")
        magic, version, alg, chunk_size, nonce_base = _PREFIX.unpack_from(buf)
        if magic != MAGIC:
            raise integrity_error("not an encrypted blob (bad magic)")
        if version != VERSION:
            raise integrity_error("unsupported format version", version=version)
        if alg not in _ALGORITHM_NAMES or not 16 <= chunk_size <= 16 * 1024 * 1024:
            raise integrity_error("bad algorithm or chunk size")
        pos = _PREFIX.size
        kid_len = buf[pos]
        kid_raw = buf[pos + 1 : pos + 1 + kid_len]
        pos += 1 + kid_len
        if len(buf) < pos + 2:
            raise integrity_error("header truncated")
        (wrapped_len,) = struct.unpack_from(">H", buf, pos)
        wrapped = buf[pos + 2 : pos + 2 + wrapped_len]
        if len(wrapped) != wrapped_len or len(kid_raw) != kid_len:
            raise integrity_error("header truncated")
        try:
            key_id = kid_raw.decode("ascii")
        except UnicodeDecodeError:
            raise integrity_error("bad key id") from None
        return cls(_ALGORITHM_NAMES[alg], key_id, wrapped, nonce_base, chunk_size)

    @property
    def length(self) -> int:
        return _PREFIX.size + 1 + len(self.key_id) + 2 + len(self.wrapped_key)

    def _wrap_aad(self, object_key: str) -> bytes:
        return self.prefix + self.key_id.encode("ascii") + b"|" + object_key.encode("ascii")

    @classmethod
    def new(
        cls, algorithm: str, key_id: str, master: bytes, object_key: str, chunk_size: int = CHUNK_BYTES
    ) -> tuple[Header, bytes]:
        """A fresh header and its (plain) data key."""
        data_key = secrets.token_bytes(_DATA_KEY_BYTES[algorithm])
        draft = cls(algorithm, key_id, b"", secrets.token_bytes(_NONCE_BASE_BYTES), chunk_size)
        return draft.wrapped_with(data_key, key_id, master, object_key), data_key

    def wrapped_with(self, data_key: bytes, key_id: str, master: bytes, object_key: str) -> Header:
        """This header with ``data_key`` wrapped under master key ``key_id`` (the same records)."""
        draft = Header(self.algorithm, key_id, b"", self.nonce_base, self.chunk_size)
        nonce = secrets.token_bytes(_WRAP_NONCE_BYTES)
        aead = aead_for(self.algorithm, _wrap_key(master, self.algorithm))
        wrapped = nonce + aead.encrypt(nonce, data_key, draft._wrap_aad(object_key))
        return Header(self.algorithm, key_id, wrapped, self.nonce_base, self.chunk_size)

    def unwrap(self, master: bytes, object_key: str) -> bytes:
        nonce, body = self.wrapped_key[:_WRAP_NONCE_BYTES], self.wrapped_key[_WRAP_NONCE_BYTES:]
        aead = aead_for(self.algorithm, _wrap_key(master, self.algorithm))
        try:
            return aead.decrypt(nonce, body, self._wrap_aad(object_key))
        except (InvalidTag, ValueError):
            raise integrity_error("data key does not unwrap (wrong master key or altered header)") from None


def record_nonce(header: Header, index: int) -> bytes:
    if not 0 <= index < MAX_RECORDS:
        raise InvalidInputError("blob too large for this format")
    return header.nonce_base + index.to_bytes(4, "big")


def record_aad(header: Header, object_key: str, index: int, *, last: bool) -> bytes:
    return (
        header.prefix + object_key.encode("ascii") + index.to_bytes(8, "big") + (b"\x01" if last else b"\x00")
    )


@dataclass(frozen=True)
class Layout:
    """Where each record of an object with ``plain_size`` plaintext bytes lies in the stored bytes."""

    header_len: int
    chunk_size: int
    plain_size: int

    @property
    def chunks(self) -> int:
        return -(-self.plain_size // self.chunk_size)

    def chunk_offset(self, index: int) -> int:
        return self.header_len + index * (self.chunk_size + TAG_BYTES)

    def chunk_plain_len(self, index: int) -> int:
        return min(self.chunk_size, self.plain_size - index * self.chunk_size)

    @property
    def trailer_offset(self) -> int:
        return self.header_len + self.plain_size + self.chunks * TAG_BYTES

    @property
    def total(self) -> int:
        return self.trailer_offset + TRAILER_BYTES

    @classmethod
    def from_stored_size(cls, header_len: int, chunk_size: int, stored: int) -> Layout:
        payload = stored - header_len - TRAILER_BYTES
        if payload < 0:
            raise integrity_error("stored object shorter than header and trailer", size=stored)
        full, rest = divmod(payload, chunk_size + TAG_BYTES)
        if rest == 0:
            return cls(header_len, chunk_size, full * chunk_size)
        if rest <= TAG_BYTES:
            raise integrity_error("stored size does not match the record layout", size=stored)
        return cls(header_len, chunk_size, full * chunk_size + rest - TAG_BYTES)
