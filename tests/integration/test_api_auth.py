"""Login, sessions, lockout, CSRF guard, password change, and HMAC-signed business-system requests."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import argon2
import pytest
from fastapi.testclient import TestClient

from dualrec.api.app import create_app
from dualrec.bootstrap.container import Container, build_container
from dualrec.core.auth_rules import canonical_request
from dualrec.db.repositories.audit import AuditFilter
from dualrec.services.common.audit import verify_chain
from dualrec.services.common.context import Actor, RequestMeta
from dualrec.services.identity.apikeys import DEFAULT_API_PERMISSIONS, create_api_key
from dualrec.services.identity.seed import seed_demo
from tests.conftest import ADMIN_PASSWORD, CSRF, PASSWORD, login, make_settings


def _admin_actor(container: Container) -> Actor:
    from dualrec.services.identity.auth import user_principal

    with container.uows() as uow:
        admin = uow.users.by_username("admin")
        assert admin
        return Actor(user_principal(uow, admin), RequestMeta(ip="127.0.0.1"))


def test_login_sets_secure_session_cookie_and_me_works(app_client: TestClient) -> None:
    r = app_client.post(
        "/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}, headers=CSRF
    )
    assert r.status_code == 200
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    token = app_client.cookies["dualrec_session"]
    assert len(token) >= 40  # 32 random bytes, url-safe
    me = app_client.get("/api/v1/auth/me").json()
    assert me["username"] == "admin" and me["branch"]["name"] == "总行" and me["branch"]["code"] == "HQ"
    assert me["role_name"] == "管理员" and "users:write" in me["permissions"]


def test_session_ids_are_random_and_stored_hashed(app_client: TestClient, container: Container) -> None:
    tokens = set()
    for _ in range(3):
        login(app_client, "admin", ADMIN_PASSWORD)
        tokens.add(app_client.cookies["dualrec_session"])
    assert len(tokens) == 3
    with container.uows() as uow:
        from sqlalchemy import select

        from dualrec.db.models import SessionRow

        stored = set(uow.session.scalars(select(SessionRow.id_hash)))
    assert not tokens & stored  # raw ids never stored


def test_wrong_password_is_a_clear_401_and_audited(app_client: TestClient) -> None:
    r = app_client.post("/api/v1/auth/login", json={"username": "admin", "password": "nope"}, headers=CSRF)
    assert r.status_code == 401
    body = r.json()
    assert body["code"] == "unauthenticated" and "用户名或密码错误" in body["detail"]
    assert r.headers["content-type"] == "application/problem+json"
    login(app_client, "admin", ADMIN_PASSWORD)
    events = app_client.get("/api/v1/audit-events", params={"action": "auth.login_failed"}).json()["items"]
    assert events[0]["details"] == {"username": "admin", "reason": "bad_credentials"}
    assert events[0]["ip"] == "testclient"


def test_lockout_after_repeated_failures_then_admin_unlocks(
    app_client: TestClient, container: Container, make_user: Callable[..., str]
) -> None:
    make_user("li", "interviewer", "BJ-CY")
    for _ in range(4):
        r = app_client.post("/api/v1/auth/login", json={"username": "li", "password": "bad"}, headers=CSRF)
        assert r.status_code == 401 and r.json()["code"] == "unauthenticated"
    r = app_client.post("/api/v1/auth/login", json={"username": "li", "password": "bad"}, headers=CSRF)
    assert r.json()["code"] == "locked_out" and r.json()["retry_after_seconds"] > 800
    assert int(r.headers["retry-after"]) > 800
    # even the right password is refused while locked
    r = app_client.post("/api/v1/auth/login", json={"username": "li", "password": PASSWORD}, headers=CSRF)
    assert r.status_code == 401 and r.json()["code"] == "locked_out" and "分钟后再试" in r.json()["detail"]
    login(app_client, "admin", ADMIN_PASSWORD)
    with container.uows() as uow:
        li = uow.users.by_username("li")
    assert li and li.locked_until is not None
    assert app_client.post(f"/api/v1/users/{li.id}/unlock").status_code == 204
    app_client.post("/api/v1/auth/logout")
    login(app_client, "li")


def test_logout_invalidates_the_session(app_client: TestClient) -> None:
    login(app_client, "admin", ADMIN_PASSWORD)
    token = app_client.cookies["dualrec_session"]
    assert app_client.post("/api/v1/auth/logout").status_code == 204
    app_client.cookies.set("dualrec_session", token)
    assert app_client.get("/api/v1/auth/me").status_code == 401


def test_cookie_requests_without_csrf_header_are_refused(app_client: TestClient) -> None:
    login(app_client, "admin", ADMIN_PASSWORD)
    del app_client.headers["X-Requested-With"]
    r = app_client.post("/api/v1/branches", json={"name": "x", "code": "X", "parent_id": 1})
    assert r.status_code == 403 and r.json()["required_header"] == "X-Requested-With: dualrec"
    assert app_client.get("/api/v1/branches").status_code == 200  # safe methods are fine
    r = TestClient(app_client.app).post(
        "/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
    )
    assert r.status_code == 403


def test_password_change_revokes_sessions_and_enforces_policy(app_client: TestClient) -> None:
    login(app_client, "admin", ADMIN_PASSWORD)
    r = app_client.post(
        "/api/v1/auth/password", json={"old_password": ADMIN_PASSWORD, "new_password": "short"}
    )
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["password"]
    r = app_client.post(
        "/api/v1/auth/password", json={"old_password": "wrong", "new_password": "Another-pass-9"}
    )
    assert r.status_code == 422
    r = app_client.post(
        "/api/v1/auth/password", json={"old_password": ADMIN_PASSWORD, "new_password": "Another-pass-9"}
    )
    assert r.status_code == 204
    assert app_client.get("/api/v1/auth/me").status_code == 401
    login(app_client, "admin", "Another-pass-9")


def test_guessing_the_current_password_locks_the_account_and_ends_its_sessions(
    app_client: TestClient, container: Container, make_user: Callable[..., str]
) -> None:
    """A stolen session cannot try current passwords at leisure: wrong ones count as failed logins."""
    make_user("li", "interviewer", "BJ-CY")
    login(app_client, "li")
    for _ in range(4):
        r = app_client.post(
            "/api/v1/auth/password", json={"old_password": "guess", "new_password": "Another-pass-9"}
        )
        assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["old_password"]
    r = app_client.post(
        "/api/v1/auth/password", json={"old_password": "guess", "new_password": "Another-pass-9"}
    )
    assert r.json()["code"] == "locked_out" and r.json()["retry_after_seconds"] > 800
    assert app_client.get("/api/v1/auth/me").status_code == 401  # the session ended with the lockout
    r = app_client.post("/api/v1/auth/login", json={"username": "li", "password": PASSWORD}, headers=CSRF)
    assert r.json()["code"] == "locked_out"
    with container.uows() as uow:
        failed, _ = uow.audit.search(AuditFilter(action="auth.login_failed"), offset=0, limit=100)
    reasons = [e.details.get("reason") for e in failed if e.details.get("username") == "li"]
    assert reasons.count("wrong_current_password") == 5


# ---------------------------------------------------------------- request signatures, from the doc
#
# An implementation of docs/integration.md ("Tasks API", signing) written from the text alone, with
# hmac/hashlib: the tests below sign with it, never with the server's own code.

_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def _doc_encode(text: str) -> str:
    """UTF-8, every byte but A-Z a-z 0-9 - . _ ~ as %XX (upper case), a space as +."""
    return "".join(
        chr(b) if b in _UNRESERVED else "+" if b == 0x20 else f"%{b:02X}" for b in text.encode("utf-8")
    )


def _doc_sorted_query(query: str) -> str:
    pairs = []
    for part in query.split("&"):
        if part:
            name, _, value = part.partition("=")  # a name without "=" has an empty value
            pairs.append((unquote_plus(name), unquote_plus(value)))
    pairs.sort()  # by decoded name, then decoded value, in code point order
    return "&".join(f"{_doc_encode(n)}={_doc_encode(v)}" for n, v in pairs)


def _doc_signature(
    secret: str, method: str, path: str, query: str, timestamp: str, nonce: str, body: bytes
) -> str:
    body_hash = hashlib.sha256(body).hexdigest()
    canonical = "\n".join((method.upper(), path, _doc_sorted_query(query), timestamp, nonce, body_hash))
    return hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).hexdigest()


def _signed(
    client: TestClient,
    key_id: str,
    secret: str,
    method: str,
    path: str,
    body: bytes = b"",
    nonce: str | None = None,
    ts: int | None = None,
) -> dict[str, str]:
    timestamp = str(ts if ts is not None else int(time.time()))
    nonce = nonce or secrets.token_hex(8)
    sig = _doc_signature(secret, method, path, "", timestamp, nonce, body)
    return {
        "X-Dualrec-Key": key_id,
        "X-Dualrec-Timestamp": timestamp,
        "X-Dualrec-Nonce": nonce,
        "X-Dualrec-Signature": sig,
    }


def test_api_key_signed_requests(app_client: TestClient, container: Container) -> None:
    with container.uows() as uow:
        bj = uow.branches.by_code("BJ")
    assert bj
    key = create_api_key(
        container.uows,
        container.secretbox,
        actor=_admin_actor(container),
        name="核心系统",
        branch_id=bj.id,
        business_types=["wealth"],
    )
    client = TestClient(app_client.app)
    # a business system holds task permissions only: admin endpoints are forbidden, not unauthenticated
    h = _signed(client, key.key_id, key.secret, "GET", "/api/v1/users")
    r = client.get("/api/v1/users", headers=h)
    assert r.status_code == 403
    # replaying the same nonce is refused
    r = client.get("/api/v1/users", headers={**h, "Accept-Language": "en"})
    assert r.status_code == 401 and "replay" in r.json()["detail"]
    # wrong secret, stale timestamp, unknown key
    bad = _signed(client, key.key_id, "not-the-secret", "GET", "/api/v1/users")
    assert client.get("/api/v1/users", headers=bad).status_code == 401
    old = _signed(client, key.key_id, key.secret, "GET", "/api/v1/users", ts=int(time.time()) - 3600)
    assert (
        "timestamp" in client.get("/api/v1/users", headers={**old, "Accept-Language": "en"}).json()["detail"]
    )
    unknown = _signed(client, "dk_nope", key.secret, "GET", "/api/v1/users")
    assert client.get("/api/v1/users", headers=unknown).status_code == 401
    # a tampered body breaks the signature
    body = json.dumps({"name": "x", "code": "Y", "parent_id": bj.id}).encode()
    h = _signed(client, key.key_id, key.secret, "POST", "/api/v1/branches", body)
    r = client.post(
        "/api/v1/branches",
        content=body.replace(b'"x"', b'"z"'),
        headers={**h, "content-type": "application/json", "Accept-Language": "en"},
    )
    assert r.status_code == 401 and "signature" in r.json()["detail"]


def test_audit_log_is_hash_chained_and_tampering_is_detected(
    app_client: TestClient, container: Container
) -> None:
    login(app_client, "admin", ADMIN_PASSWORD)
    app_client.post("/api/v1/branches", json={"name": "测试", "code": "T1", "parent_id": 1})
    ok, bad_id, checked = verify_chain(container.uows)
    assert ok and bad_id is None and checked >= 3
    with container.uows() as uow:
        from sqlalchemy import update

        from dualrec.db.models import AuditEventRow

        uow.session.execute(update(AuditEventRow).where(AuditEventRow.id == 2).values(actor="mallory"))
        uow.commit()
    ok, bad_id, _ = verify_chain(container.uows)
    assert not ok and bad_id == 2


def test_audit_csv_export_has_bom_and_rows(app_client: TestClient) -> None:
    login(app_client, "admin", ADMIN_PASSWORD)
    r = app_client.get("/api/v1/audit-events/export.csv", params={"action": "auth."})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    text = r.content.decode("utf-8")
    assert text.startswith("\ufeffid,at,actor,action")
    assert ",admin,auth.login," in text


def test_settings_view_masks_secrets(app_client: TestClient) -> None:
    login(app_client, "admin", ADMIN_PASSWORD)
    shown = app_client.get("/api/v1/system/settings").json()
    assert shown["secret_key"] == "********" and shown["admin_password"] == "********"
    assert shown["env"] == "test" and "database_url" in shown


# Known answers: fixed key, secret, time and nonce; the canonical strings and signatures were written
# out by hand from docs/integration.md and the HMACs computed with Python's hmac module alone.
KAT_KEY_ID = "dk_0123456789abcdef"
KAT_SECRET = "kat-secret-0123456789abcdefghijklmnopqrstuv"
KAT_TIMESTAMP = "1767225600"  # 2026-01-01T00:00:00Z
KAT_BODY = '{"reason":"合同变更"}'.encode()
KAT_VECTORS: list[dict[str, Any]] = [
    {
        "method": "GET",
        "path": "/api/v1/tasks",
        "query": "page_size=5&customer_name=%E5%BC%A0%20%E4%B8%89&business_no=KAT+001&page=1"
        "&business_type=wealth",
        "nonce": "kat-nonce-0001",
        "body": b"",
        "canonical": "GET\n/api/v1/tasks\n"
        "business_no=KAT+001&business_type=wealth&customer_name=%E5%BC%A0+%E4%B8%89&page=1&page_size=5\n"
        "1767225600\nkat-nonce-0001\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "signature": "e8314501fce5332994994ea64577c5d60630c634554faab0bcea16d580b68b31",
        "status": 200,  # the key's (empty) task list
    },
    {
        "method": "POST",
        "path": "/api/v1/tasks/00000000-0000-4000-8000-000000000000/cancel",
        "query": "z=9&a=2&m=%2B%26&empty=&a=10",
        "nonce": "kat-nonce-0002",
        "body": KAT_BODY,
        "canonical": "POST\n/api/v1/tasks/00000000-0000-4000-8000-000000000000/cancel\n"
        "a=10&a=2&empty=&m=%2B%26&z=9\n1767225600\nkat-nonce-0002\n"
        "1b87e0ea272fd3443f97fcc2744ff6aaa06256b3a1a724d555e1c23629420868",
        "signature": "79f263fb3e63ff9e788e0a4159813eebd008e249e01a71c19f0b0b8eea1fbafb",
        "status": 404,  # signature accepted; no such task in the key's branch
    },
]


@pytest.mark.parametrize("vector", KAT_VECTORS, ids=lambda v: v["method"])
def test_signature_known_answers_match_the_documented_canonical_form(vector: dict[str, Any]) -> None:
    args = (vector["method"], vector["path"], vector["query"], KAT_TIMESTAMP, vector["nonce"], vector["body"])
    assert _doc_signature(KAT_SECRET, *args) == vector["signature"]
    expected = hmac.new(KAT_SECRET.encode(), vector["canonical"].encode(), hashlib.sha256).hexdigest()
    assert expected == vector["signature"]
    assert canonical_request(*args) == vector["canonical"]  # the server builds the same string


@pytest.mark.parametrize("vector", KAT_VECTORS, ids=lambda v: v["method"])
def test_server_accepts_exactly_the_known_answer_request(
    vector: dict[str, Any], app_client: TestClient, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    with container.uows() as uow:
        bj = uow.branches.by_code("BJ")
        assert bj
        uow.api_keys.add(
            key_id=KAT_KEY_ID,
            name="KAT",
            secret_encrypted=container.secretbox.seal(KAT_SECRET),
            branch_id=bj.id,
            business_types=[],
            permissions=DEFAULT_API_PERMISSIONS,
        )
        uow.commit()
    signed_at = datetime.fromtimestamp(int(KAT_TIMESTAMP), UTC)
    monkeypatch.setattr(container.auth, "clock", lambda: signed_at + timedelta(seconds=20))
    client = TestClient(app_client.app)
    url = f"{vector['path']}?{vector['query']}"
    headers = {
        "X-Dualrec-Key": KAT_KEY_ID,
        "X-Dualrec-Timestamp": KAT_TIMESTAMP,
        "X-Dualrec-Nonce": vector["nonce"],
        "X-Dualrec-Signature": vector["signature"],
        "content-type": "application/json",
    }
    # a changed query or body, or a signature over the query as sent (not sorted), is refused
    reordered = "&".join(reversed(vector["query"].split("&")))
    unsorted = vector["canonical"].split("\n")
    unsorted[2] = vector["query"]
    unsorted_sig = hmac.new(KAT_SECRET.encode(), "\n".join(unsorted).encode(), hashlib.sha256).hexdigest()
    variants = [
        (url + "&x=1", vector["body"], vector["signature"]),
        (url, vector["body"] + b" ", vector["signature"]),
        (url, vector["body"], unsorted_sig),
    ]
    for bad_url, body, signature in variants:
        bad = {**headers, "X-Dualrec-Signature": signature, "Accept-Language": "en"}
        r = client.request(vector["method"], bad_url, content=body, headers=bad)
        assert r.status_code == 401 and "signature mismatch" in r.json()["detail"], bad_url
    # the parameters in another order sign the same (the query is sorted)
    r = client.request(
        vector["method"], f"{vector['path']}?{reordered}", content=vector["body"], headers=headers
    )
    assert r.status_code == vector["status"], r.text
    r = client.request(
        vector["method"], url, content=vector["body"], headers={**headers, "Accept-Language": "en"}
    )
    assert r.status_code == 401 and "replay" in r.json()["detail"]  # the same nonce twice


# ---------------------------------------------------------------- login: timing and throttling


@pytest.fixture
def argon2_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The hash every Argon2 verification runs against (the slow step of a login)."""
    calls: list[str] = []
    verify = argon2.PasswordHasher.verify

    def spy(self: argon2.PasswordHasher, hash: str | bytes, password: str | bytes) -> bool:
        calls.append(hash if isinstance(hash, str) else hash.decode())
        return verify(self, hash, password)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", spy)
    return calls


def test_every_failed_login_costs_one_argon2_verification(
    app_client: TestClient, container: Container, make_user: Callable[..., str], argon2_calls: list[str]
) -> None:
    """An unknown name, a wrong password, a disabled or a locked account: the same work each time, so
    the answer time does not tell which names exist."""
    make_user("gone", "interviewer", "BJ")
    make_user("locked", "interviewer", "BJ")
    with container.uows() as uow:
        gone, locked, admin = (uow.users.by_username(n) for n in ("gone", "locked", "admin"))
        assert gone and locked and admin
        uow.users.update(gone.id, is_active=False)
        uow.users.update(locked.id, locked_until=datetime.now(UTC) + timedelta(minutes=5))
        uow.commit()
    real = argon2.extract_parameters(admin.password_hash)
    for username, password, code in (
        ("no-such-user", "Whatever-123", "unauthenticated"),
        ("admin", "Wrong-pass-123", "unauthenticated"),
        ("gone", PASSWORD, "unauthenticated"),
        ("locked", PASSWORD, "locked_out"),
    ):
        argon2_calls.clear()
        r = app_client.post(
            "/api/v1/auth/login", json={"username": username, "password": password}, headers=CSRF
        )
        assert r.status_code == 401 and r.json()["code"] == code, username
        assert len(argon2_calls) == 1, f"{username}: {len(argon2_calls)} verifications"
        assert argon2.extract_parameters(argon2_calls[0]) == real, username  # same memory, time, lanes
    assert argon2_calls[0] != locked.password_hash  # the locked account's own hash is not even tried


def _login(client: TestClient, username: str, password: str) -> Any:
    return client.post("/api/v1/auth/login", json={"username": username, "password": password}, headers=CSRF)


def test_unknown_names_lock_out_like_real_ones(app_client: TestClient, make_user: Callable[..., str]) -> None:
    """Repeated failures for a name that does not exist end exactly like those for a real account."""
    make_user("li", "interviewer", "BJ-CY")
    answers: dict[str, list[tuple[int, str]]] = {"li": [], "nobody": []}
    for name in answers:
        for _ in range(6):
            r = _login(app_client, name, "Wrong-pass-1")
            answers[name].append((r.status_code, r.json()["code"]))
        assert 800 < r.json()["retry_after_seconds"] <= 900 and int(r.headers["retry-after"]) > 800
        assert "分钟后再试" in r.json()["detail"]
    assert answers["li"] == answers["nobody"]
    assert answers["nobody"][-2:] == [(401, "locked_out")] * 2
    # other names are not affected by one name's lockout
    login(TestClient(app_client.app), "admin", ADMIN_PASSWORD)


@pytest.fixture
def small_ip_limit(tmp_path: Path) -> Iterator[tuple[Container, TestClient]]:
    settings = make_settings(tmp_path / "data", login_ip_max_failures=4, login_ip_window_minutes=10)
    container = build_container(settings, migrate=True, with_jobs=False)
    seed_demo(container.uows, admin_username="admin", admin_password=ADMIN_PASSWORD)
    with TestClient(create_app(settings, container=container), client=("198.51.100.7", 50000)) as client:
        yield container, client
    container.close()


def test_failures_from_one_address_are_throttled(
    small_ip_limit: tuple[Container, TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Spraying many names from one address: after the limit every login from it waits (429), even a
    right password; other addresses are not affected, and the address recovers after the window."""
    container, attacker = small_ip_limit
    now = datetime.now(UTC)
    monkeypatch.setattr(container.auth, "clock", lambda: now)
    for i in range(4):
        assert _login(attacker, f"guess{i}", "Wrong-pass-1").status_code == 401
    r = _login(attacker, "admin", ADMIN_PASSWORD)
    assert r.status_code == 429 and r.json()["code"] == "rate_limited"
    assert 0 < int(r.headers["retry-after"]) <= 600 and "登录失败次数过多" in r.json()["detail"]
    other = TestClient(attacker.app, client=("203.0.113.9", 50000))
    login(other, "admin", ADMIN_PASSWORD)
    monkeypatch.setattr(container.auth, "clock", lambda: now + timedelta(minutes=10, seconds=1))
    login(attacker, "admin", ADMIN_PASSWORD)
    with container.uows() as uow:
        from dualrec.db.repositories.audit import AuditFilter

        events, _ = uow.audit.search(AuditFilter(action="auth.login_failed"), offset=0, limit=50)
    assert any(e.details.get("reason") == "throttled" and e.ip == "198.51.100.7" for e in events)


def test_raising_the_password_hash_cost_rehashes_each_password_at_its_next_login(tmp_path: Path) -> None:
    """An operator who raises DUALREC_PASSWORD_HASH_* keeps every account working: a password hashed
    at the old cost still logs in, and that login stores a hash at the new cost."""
    old = make_settings(tmp_path / "data")  # the suite's cheap cost
    c = build_container(old, migrate=True)
    seed_demo(c.uows, admin_username="admin", admin_password=ADMIN_PASSWORD)
    c.close()
    stronger = make_settings(tmp_path / "data", password_hash_time_cost=2, password_hash_memory_kib=19456)
    c = build_container(stronger, migrate=True)
    try:
        with c.uows() as uow:
            before = uow.users.by_username("admin")
            assert before is not None
        assert argon2.extract_parameters(before.password_hash).time_cost == 1
        with TestClient(create_app(stronger, container=c)) as client:
            login(client, "admin", ADMIN_PASSWORD)
        with c.uows() as uow:
            after = uow.users.by_username("admin")
            assert after is not None
        params = argon2.extract_parameters(after.password_hash)
        assert (params.time_cost, params.memory_cost) == (2, 19456)
    finally:
        c.close()
        build_container(old).close()  # the process-wide hasher back at the suite's cost
