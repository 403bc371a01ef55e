"""Keyed blind-index hashes (HMAC-SHA256) for exact-match search of sealed personal data.

One key, derived from the app secret exactly as the tasks service always derived its ID-number
lookup key, so task and archive hashes of the same ID number are equal. Each field has its own
domain: ID numbers are hashed as they always were (normalised number); names are hashed as
``name:`` + the normalised name, so a name can never collide with an ID number.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata

from dualrec.core.idcard import normalize_id_number
from dualrec.services.common.secretbox import SecretBox

__all__ = ["BlindIndex", "PersonalDataSealer", "normalize_name"]


def normalize_name(name: str) -> str:
    """NFKC (full-width → half-width), whitespace collapsed, case-folded: 'Zhang  San' == 'zhang san'."""
    return " ".join(unicodedata.normalize("NFKC", name).split()).casefold()


class BlindIndex:
    def __init__(self, secret_key: str) -> None:
        self._key = hmac.new(secret_key.encode(), b"dualrec id number lookup", hashlib.sha256).digest()

    def id_number(self, number: str) -> str:
        return hmac.new(self._key, normalize_id_number(number).encode(), hashlib.sha256).hexdigest()

    def name(self, name: str) -> str:
        """The hash of a customer name; '' for an empty name (an empty filter matches nothing)."""
        norm = normalize_name(name)
        if not norm:
            return ""
        return hmac.new(self._key, b"name:" + norm.encode(), hashlib.sha256).hexdigest()


class PersonalDataSealer:
    """``db.sealing.FieldSealer``: the app's secret box for sealing, the blind index for name hashes."""

    def __init__(self, box: SecretBox, index: BlindIndex) -> None:
        self._box, self._index = box, index

    def seal(self, plaintext: str) -> str:
        return self._box.seal(plaintext)

    def open(self, sealed: str) -> str:
        return self._box.open(sealed)

    def name_hash(self, name: str) -> str:
        return self._index.name(name)
