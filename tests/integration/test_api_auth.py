"""Login, sessions, lockout, CSRF guard, password change, and HMAC-signed business-system requests."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable

from fastapi.testclient import TestClient

from dualrec.bootstrap.container import Container
from dualrec.core.auth_rules import sign_request
from dualrec.services.common.audit import verify_chain
from dualrec.services.common.context import Actor, RequestMeta
from dualrec.services.identity.apikeys import create_api_key
from tests.conftest import ADMIN_PASSWORD, CSRF, PASSWORD, login


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
    sig = sign_request(secret, method, path, "", timestamp, nonce, body)
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
    r = client.get("/api/v1/users", headers=h)
    assert r.status_code == 401 and "replay" in r.json()["detail"]
    # wrong secret, stale timestamp, unknown key
    bad = _signed(client, key.key_id, "not-the-secret", "GET", "/api/v1/users")
    assert client.get("/api/v1/users", headers=bad).status_code == 401
    old = _signed(client, key.key_id, key.secret, "GET", "/api/v1/users", ts=int(time.time()) - 3600)
    assert "timestamp" in client.get("/api/v1/users", headers=old).json()["detail"]
    unknown = _signed(client, "dk_nope", key.secret, "GET", "/api/v1/users")
    assert client.get("/api/v1/users", headers=unknown).status_code == 401
    # a tampered body breaks the signature
    body = json.dumps({"name": "x", "code": "Y", "parent_id": bj.id}).encode()
    h = _signed(client, key.key_id, key.secret, "POST", "/api/v1/branches", body)
    r = client.post(
        "/api/v1/branches",
        content=body.replace(b'"x"', b'"z"'),
        headers={**h, "content-type": "application/json"},
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
