"""Password hashing with Argon2id (argon2-cffi) and a basic strength policy."""

from __future__ import annotations

import functools
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from dualrec.errors import InvalidInputError
from dualrec.i18n import msg

__all__ = ["check_policy", "configure", "hash_password", "needs_rehash", "verify_password"]

_hasher = PasswordHasher()  # argon2id, library defaults (RFC 9106 low-memory profile)


def configure(*, time_cost: int, memory_kib: int) -> None:
    """Sets the Argon2id cost of new hashes (settings ``password_hash_*``, checked there). Hashes made
    with other parameters still verify and are re-hashed at their next successful login."""
    global _hasher
    if (_hasher.time_cost, _hasher.memory_cost) == (time_cost, memory_kib):
        return
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
    _dummy_hash.cache_clear()


@functools.cache
def _dummy_hash() -> str:
    """A hash with the same parameters as real ones, of a password nobody knows (made once, on first
    use): verifying against it costs what a wrong password for a real account costs."""
    return _hasher.hash(secrets.token_urlsafe(32))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Always runs exactly one Argon2 verification; with no hash (an unknown or a locked
    account) against the dummy, and the answer is False."""
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def check_policy(password: str) -> None:
    """At least 10 characters with at least two of: letters, digits, other characters."""
    classes = sum(
        (
            any(c.isalpha() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )
    if len(password) < 10 or classes < 2:
        raise InvalidInputError(
            msg("identity.password_needs_10_characters_two"),
            details={"errors": [{"loc": ["password"], "msg": "weak password"}]},
        )
    if len(password) > 256:
        raise InvalidInputError(msg("identity.password_too_long"))
