"""Encrypt small secrets (API key HMAC secrets) at rest with a key derived from the app secret."""

from __future__ import annotations

import base64
import hashlib
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["SecretBox"]


class SecretBox:
    def __init__(self, app_secret: str) -> None:
        self._key = hashlib.sha256(b"dualrec/secretbox/v1\0" + app_secret.encode()).digest()

    def seal(self, plaintext: str) -> str:
        nonce = os.urandom(12)
        ct = AESGCM(self._key).encrypt(nonce, plaintext.encode(), b"dualrec-secret")
        return "v1:" + base64.urlsafe_b64encode(nonce + ct).decode()

    def open(self, sealed: str) -> str:
        if not sealed.startswith("v1:"):
            raise ValueError("unknown secret format")
        raw = base64.urlsafe_b64decode(sealed[3:])
        return AESGCM(self._key).decrypt(raw[:12], raw[12:], b"dualrec-secret").decode()
