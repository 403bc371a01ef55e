"""Login/logout, web sessions, lockout, and API-key request signatures."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from dualrec.core.audit import AuditAction
from dualrec.core.auth_rules import (
    FailureWindow,
    LockoutPolicy,
    NameLockouts,
    ThrottlePolicy,
    locked_until_after_failure,
    sign_request,
    signature_matches,
    timestamp_acceptable,
)
from dualrec.core.identity import Principal, User
from dualrec.core.rbac import Permission, role_permissions
from dualrec.db.uow import UnitOfWork, UnitOfWorkFactory
from dualrec.errors import AuthenticationError, InvalidInputError, LockedOutError, RateLimitedError
from dualrec.i18n import msg
from dualrec.services.common import audit
from dualrec.services.common.context import Actor, RequestMeta
from dualrec.services.common.secretbox import SecretBox
from dualrec.services.identity.passwords import check_policy, hash_password, needs_rehash, verify_password

__all__ = ["AuthConfig", "AuthService", "SignedRequest"]


@dataclass(frozen=True)
class AuthConfig:
    session_ttl: timedelta
    session_idle: timedelta
    lockout: LockoutPolicy
    signature_max_skew_seconds: int
    ip_throttle: ThrottlePolicy = field(default_factory=ThrottlePolicy)


@dataclass(frozen=True)
class SignedRequest:
    key_id: str
    timestamp: str
    nonce: str
    signature: str
    method: str
    path: str
    query: str
    body: bytes


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def user_principal(uow: UnitOfWork, user: User) -> Principal:
    custom = {r.id: r.permissions for r in uow.roles.all()} if user.role not in ("admin",) else None
    return Principal(
        kind="user",
        id=user.id,
        name=user.username,
        role=user.role,
        branch_id=user.branch_id,
        branch_path=user.branch_path,
        permissions=role_permissions(user.role, custom),
        language=user.language,
    )


def _utcnow() -> datetime:
    return datetime.now(UTC)


class AuthService:
    def __init__(
        self,
        uows: UnitOfWorkFactory,
        config: AuthConfig,
        secretbox: SecretBox,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._uows = uows
        self._cfg = config
        self._box = secretbox
        self.clock = clock
        # failed logins per source address, and lockouts of names that match no account (the
        # accounts' own lockout is in the database); in this process's memory, bounded in size
        self._ip_failures = FailureWindow(config.ip_throttle)
        self._name_lockouts = NameLockouts(config.lockout)

    # ------------------------------------------------------------------ web sessions

    def login(self, *, username: str, password: str, meta: RequestMeta) -> tuple[str, Principal]:
        """Returns (session token, principal). The token goes into an HttpOnly cookie only.

        Every attempt that gets past the address throttle runs exactly one Argon2 verification (an
        unknown, locked or disabled account included), so the time taken does not tell which names
        exist; a name without an account locks out like an account does.
        """
        now = self.clock()
        anon = Actor(principal=None, meta=meta)
        source = meta.ip or "-"
        throttled = self._ip_failures.blocked_until(source, now)
        if throttled:
            audit.record_now(
                self._uows,
                actor=anon,
                action=AuditAction.LOGIN_FAILED,
                target_type="user",
                outcome="denied",
                details={"username": username[:64], "reason": "throttled"},
            )
            raise _throttled(throttled, now)
        with self._uows() as uow:
            user = uow.users.by_username(username)
            locked: datetime | None
            if user is None:
                locked = self._name_lockouts.locked_until(username, now)
            else:
                locked = user.locked_until if user.locked_until and user.locked_until > now else None
            if locked:
                verify_password(None, password)  # same cost as a real check
                self._ip_failures.fail(source, now)
                audit.record(
                    uow,
                    actor=anon,
                    action=AuditAction.LOGIN_FAILED,
                    target_type="user",
                    target_id=user.id if user else "",
                    branch_id=user.branch_id if user else None,
                    outcome="denied",
                    details={"username": username[:64], "reason": "locked"},
                )
                uow.commit()
                raise _locked(locked, now)
            verified = verify_password(user.password_hash if user else None, password)
            if not user or not user.is_active or not verified:
                self._ip_failures.fail(source, now)
                details = {"username": username[:64], "reason": "bad_credentials" if user else "unknown_user"}
                audit.record(
                    uow,
                    actor=anon,
                    action=AuditAction.LOGIN_FAILED,
                    target_type="user",
                    target_id=user.id if user else "",
                    branch_id=user.branch_id if user else None,
                    outcome="denied",
                    details=details,
                )
                if user:
                    failures = user.failed_logins + 1
                    until = locked_until_after_failure(failures, now, self._cfg.lockout)
                    uow.users.update(user.id, failed_logins=failures, locked_until=until)
                else:
                    until = self._name_lockouts.fail(username, now)
                if until:
                    audit.record(
                        uow,
                        actor=anon,
                        action=AuditAction.LOCKED_OUT,
                        target_type="user",
                        target_id=user.id if user else "",
                        branch_id=user.branch_id if user else None,
                        outcome="denied",
                        details={"until": until.isoformat()},
                    )
                    uow.commit()
                    raise _locked(until, now)
                uow.commit()
                raise AuthenticationError(msg("identity.wrong_username_password"))
            token = secrets.token_urlsafe(32)
            uow.sessions.add(
                id_hash=_hash_token(token),
                user_id=user.id,
                now=now,
                expires_at=now + self._cfg.session_ttl,
                ip=meta.ip,
                user_agent=meta.user_agent,
            )
            fields: dict[str, object] = {"failed_logins": 0, "locked_until": None}
            if needs_rehash(user.password_hash):
                fields["password_hash"] = hash_password(password)
            uow.users.update(user.id, **fields)
            principal = user_principal(uow, user)
            audit.record(
                uow,
                actor=Actor(principal, meta),
                action=AuditAction.LOGIN,
                target_type="user",
                target_id=user.id,
            )
            uow.sessions.delete_expired(now)
            uow.commit()
            return token, principal

    def logout(self, *, token: str, actor: Actor) -> None:
        with self._uows() as uow:
            uow.sessions.delete(_hash_token(token))
            audit.record(
                uow, actor=actor, action=AuditAction.LOGOUT, target_type="user", target_id=actor.id or ""
            )
            uow.commit()

    def resolve_session(self, token: str) -> Principal | None:
        """The principal behind a session cookie, or None when absent/expired/idle/disabled."""
        if not token or len(token) > 128:
            return None
        now = self.clock()
        with self._uows.read() as uow:  # every request comes here: read without SQLite's write lock
            sess = uow.sessions.get(_hash_token(token))
            if sess is None:
                return None
            expired = sess.expires_at <= now or sess.last_seen_at + self._cfg.session_idle <= now
            user = None if expired else uow.users.get(sess.user_id)
            principal = user_principal(uow, user) if user is not None and user.is_active else None
        touch = principal is not None and (now - sess.last_seen_at).total_seconds() > 60
        if expired or touch:  # the rare write, in a unit of work of its own
            with self._uows() as uow:
                if expired:
                    uow.sessions.delete(sess.id_hash)
                else:
                    uow.sessions.touch(sess.id_hash, now)
                uow.commit()
        return principal

    def change_password(self, *, actor: Actor, old_password: str, new_password: str) -> None:
        """Self-service change; the current password is required. A wrong one counts as a failed
        login of the account (so a stolen session cannot guess the password at leisure): after the
        lockout policy's number of failures the account locks and all its sessions end."""
        assert actor.principal is not None
        now = self.clock()
        with self._uows() as uow:
            user = uow.users.get(actor.principal.id)
            if user is None:
                raise AuthenticationError(msg("identity.such_user"))
            if user.locked_until and user.locked_until > now:
                raise _locked(user.locked_until, now)
            if not verify_password(user.password_hash, old_password):
                failures = user.failed_logins + 1
                until = locked_until_after_failure(failures, now, self._cfg.lockout)
                uow.users.update(user.id, failed_logins=failures, locked_until=until)
                audit.record(
                    uow,
                    actor=actor,
                    action=AuditAction.LOGIN_FAILED,
                    target_type="user",
                    target_id=user.id,
                    outcome="denied",
                    details={"username": user.username, "reason": "wrong_current_password"},
                )
                if until:
                    uow.sessions.delete_for_user(user.id)
                    audit.record(
                        uow,
                        actor=actor,
                        action=AuditAction.LOCKED_OUT,
                        target_type="user",
                        target_id=user.id,
                        outcome="denied",
                        details={"until": until.isoformat()},
                    )
                uow.commit()
                if until:
                    raise _locked(until, now)
                raise InvalidInputError(
                    msg("identity.current_password_wrong"),
                    details={"errors": [{"loc": ["old_password"], "msg": "wrong password"}]},
                )
            check_policy(new_password)
            uow.users.update(
                user.id, password_hash=hash_password(new_password), failed_logins=0, locked_until=None
            )
            uow.sessions.delete_for_user(user.id)
            audit.record(
                uow, actor=actor, action=AuditAction.PASSWORD_CHANGED, target_type="user", target_id=user.id
            )
            uow.commit()

    # ------------------------------------------------------------------ business systems

    def verify_signed_request(self, req: SignedRequest, meta: RequestMeta) -> Principal:
        now = self.clock()
        reason = ""
        with self._uows() as uow:
            found = uow.api_keys.by_key_id(req.key_id)
            if found is None or not found[0].is_active:
                reason = "unknown or revoked key"
            elif not timestamp_acceptable(
                req.timestamp, now.timestamp(), self._cfg.signature_max_skew_seconds
            ):
                reason = "timestamp outside the allowed window"
            elif not (8 <= len(req.nonce) <= 64):
                reason = "nonce must be 8..64 characters"
            else:
                key, sealed = found
                expected = sign_request(
                    self._box.open(sealed),
                    req.method,
                    req.path,
                    req.query,
                    req.timestamp,
                    req.nonce,
                    req.body,
                )
                if not signature_matches(expected, req.signature):
                    reason = "signature mismatch"
                elif not uow.api_keys.remember_nonce(key.key_id, req.nonce, now):
                    reason = "nonce already used (replay)"
                else:
                    uow.api_keys.mark_used(key.key_id, now)
                    uow.api_keys.forget_nonces_before(
                        now - timedelta(seconds=2 * self._cfg.signature_max_skew_seconds)
                    )
                    uow.commit()
                    return Principal(
                        kind="api_key",
                        id=key.id,
                        name=f"apikey:{key.key_id}",
                        role="business_system",
                        branch_id=key.branch_id,
                        branch_path=key.branch_path,
                        permissions=key.permissions & _API_KEY_ALLOWED,
                    )
            audit.record(
                uow,
                actor=Actor(None, meta),
                action=AuditAction.API_SIGNATURE_INVALID,
                target_type="api_key",
                target_id=req.key_id[:64],
                outcome="denied",
                details={"reason": reason},
            )
            uow.commit()
        raise AuthenticationError(msg("identity.request_signature_rejected", reason=reason))


# What a business system's key may ever hold, whatever is stored.
_API_KEY_ALLOWED = frozenset(
    {
        Permission.TASKS_READ,
        Permission.TASKS_WRITE,
        Permission.RECORDINGS_READ,
        Permission.RECORDINGS_UPLOAD,
        Permission.QC_READ,
        Permission.ARCHIVE_SEARCH,
        Permission.EVIDENCE_EXPORT,  # an archive system fetching evidence packages
    }
)


def _throttled(until: datetime, now: datetime) -> RateLimitedError:
    seconds = max(1, int((until - now).total_seconds()))
    minutes = (seconds + 59) // 60
    return RateLimitedError(
        msg("identity.too_many_failed_logins_from", minutes=minutes),
        details={"retry_after_seconds": seconds},
    )


def _locked(until: datetime, now: datetime) -> LockedOutError:
    seconds = max(1, int((until - now).total_seconds()))
    minutes = (seconds + 59) // 60
    return LockedOutError(
        msg("identity.account_locked_try_again_min", minutes=minutes),
        details={"retry_after_seconds": seconds},
    )
