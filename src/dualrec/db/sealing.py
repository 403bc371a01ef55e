"""The port through which repositories keep customers' personal data sealed at rest.

Implemented by ``services.common.blind_index.PersonalDataSealer`` (the app's secret box + the keyed blind
index) and handed to ``UnitOfWorkFactory`` by the container. Repositories seal on write and open on
read, so callers keep working with plaintext values in memory while the database holds none.
Sealed values start with ``v1:``; anything else read back is legacy plaintext and returned as is.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["FieldSealer", "is_sealed"]


class FieldSealer(Protocol):
    def seal(self, plaintext: str) -> str: ...

    def open(self, sealed: str) -> str: ...

    def name_hash(self, name: str) -> str:
        """Keyed blind-index hash of a customer name (exact-match search)."""
        ...


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith("v1:")
