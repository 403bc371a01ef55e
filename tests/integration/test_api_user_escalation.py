"""Nobody changes a user (or a role) holding a permission they do not hold, nor one outside their branch.

A "user manager" role with ``users:read`` + ``users:write`` only must not be able to take over an
administrator (or anyone holding more than it does) through the admin endpoints: new password,
deactivation, deletion, unlock, role or branch change are all refused with 403 and audited as a
denial; users outside the actor's branch subtree are 404 as everywhere; acting on oneself through
the admin endpoint does not skip the old-password check of ``/auth/password``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dualrec.bootstrap.container import Container
from dualrec.core.identity import CustomRole, User
from dualrec.core.rbac import Permission
from tests.conftest import ADMIN_PASSWORD, CSRF, PASSWORD, login

NEW_PASSWORD = "Takeover-pass-1"


def _add_role(container: Container, role_id: str, *perms: Permission) -> None:
    with container.uows() as uow:
        uow.roles.add(CustomRole(role_id, role_id, role_id, frozenset(perms)))
        uow.commit()


def _user(container: Container, username: str) -> User:
    with container.uows() as uow:
        user = uow.users.by_username(username)
    assert user is not None
    return user


def _mutations(container: Container) -> dict[str, tuple[str, str, Any]]:
    """Every operation that changes another user: name -> (method, path suffix, body)."""
    with container.uows() as uow:
        bj = uow.branches.by_code("BJ-CY")
    assert bj
    return {
        "display_name": ("PATCH", "", {"display_name": "被改名"}),
        "password": ("PATCH", "", {"password": NEW_PASSWORD}),
        "deactivate": ("PATCH", "", {"is_active": False}),
        "role": ("PATCH", "", {"role": "user_manager"}),
        "branch": ("PATCH", "", {"branch_id": bj.id}),
        "unlock": ("POST", "/unlock", None),
        "delete": ("DELETE", "", None),
    }


@pytest.fixture
def manager(app_client: TestClient, container: Container, make_user: Callable[..., str]) -> TestClient:
    """A user manager at head office: may manage users, holds nothing else."""
    _add_role(container, "user_manager", Permission.USERS_READ, Permission.USERS_WRITE)
    make_user("um", "user_manager", "HQ")
    return login(app_client, "um")


@pytest.mark.parametrize("target", ["admin", "iv"])
def test_user_manager_cannot_touch_a_user_holding_more(
    target: str, manager: TestClient, container: Container, make_user: Callable[..., str]
) -> None:
    make_user("iv", "interviewer", "BJ")  # holds tasks:*, recordings:* ... which um lacks
    before = _user(container, target)
    for name, (method, suffix, body) in _mutations(container).items():
        r = manager.request(method, f"/api/v1/users/{before.id}{suffix}", json=body, headers=CSRF)
        assert r.status_code == 403, f"{name}: {r.status_code} {r.text}"
        problem = r.json()
        assert problem["code"] == "forbidden" and "不能修改权限高于自己的用户" in problem["detail"], name
        assert "users:write" not in problem["missing"] and problem["missing"], name
    after = _user(container, target)
    assert after == before  # nothing changed: name, role, branch, active, lock, password hash
    # the takeover does not work: the target still logs in with its own password, not ours
    password = ADMIN_PASSWORD if target == "admin" else PASSWORD
    login(TestClient(manager.app), target, password)
    r = TestClient(manager.app).post(
        "/api/v1/auth/login", json={"username": target, "password": NEW_PASSWORD}, headers=CSRF
    )
    assert r.status_code == 401
    # each refusal is in the audit log as a denial, naming the target
    manager.post("/api/v1/auth/logout")
    login(manager, "admin", ADMIN_PASSWORD)
    events = manager.get(
        "/api/v1/audit-events", params={"action": "auth.permission_denied", "page_size": 100}
    ).json()["items"]
    mine = [e for e in events if e["actor"] == "um" and e["target_id"] == str(before.id)]
    assert len(mine) == len(_mutations(container))
    assert all(e["outcome"] == "denied" and e["target_type"] == "user" for e in mine)
    assert all(e["details"]["reason"] == "target_holds_more" for e in mine)


def test_user_manager_can_still_manage_its_peers(
    manager: TestClient, container: Container, make_user: Callable[..., str]
) -> None:
    make_user("peer", "user_manager", "BJ")
    peer = _user(container, "peer")
    r = manager.patch(f"/api/v1/users/{peer.id}", json={"display_name": "同事", "password": NEW_PASSWORD})
    assert r.status_code == 200 and r.json()["display_name"] == "同事"
    login(TestClient(manager.app), "peer", NEW_PASSWORD)
    assert manager.post(f"/api/v1/users/{peer.id}/unlock").status_code == 204
    assert manager.delete(f"/api/v1/users/{peer.id}").status_code == 204


def test_users_outside_the_branch_subtree_are_not_found(
    app_client: TestClient, container: Container, make_user: Callable[..., str]
) -> None:
    """Even an all-permission administrator of 北京分行 cannot reach a 上海 user by any operation."""
    make_user("bj_admin", "admin", "BJ")
    make_user("sh_user", "interviewer", "SH-PD")
    login(app_client, "bj_admin")
    target = _user(container, "sh_user")
    for name, (method, suffix, body) in _mutations(container).items():
        r = app_client.request(method, f"/api/v1/users/{target.id}{suffix}", json=body, headers=CSRF)
        assert r.status_code == 404 and "sh_user" not in r.text, f"{name}: {r.status_code}"
    head_admin = _user(container, "admin")  # at 总行, above the actor's branch
    for name, (method, suffix, body) in _mutations(container).items():
        r = app_client.request(method, f"/api/v1/users/{head_admin.id}{suffix}", json=body, headers=CSRF)
        assert r.status_code == 404, f"{name}: {r.status_code}"
    assert _user(container, "sh_user") == target
    login(TestClient(app_client.app), "admin", ADMIN_PASSWORD)


def test_own_password_through_the_admin_endpoint_needs_the_old_one(
    manager: TestClient, container: Container
) -> None:
    """A stolen session must not be able to set a new password without knowing the current one."""
    me = _user(container, "um")
    r = manager.patch(
        f"/api/v1/users/{me.id}", json={"password": NEW_PASSWORD}, headers={"Accept-Language": "en"}
    )
    assert r.status_code == 403 and "/auth/password" in r.json()["detail"]
    assert _user(container, "um").password_hash == me.password_hash
    # the self-service route checks the old password
    r = manager.post(
        "/api/v1/auth/password", json={"old_password": "Not-the-pass-1", "new_password": NEW_PASSWORD}
    )
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["old_password"]
    r = manager.post("/api/v1/auth/password", json={"old_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert r.status_code == 204
    login(TestClient(manager.app), "um", NEW_PASSWORD)


def test_admin_cannot_escalate_through_itself_either(app_client: TestClient, container: Container) -> None:
    login(app_client, "admin", ADMIN_PASSWORD)
    me = _user(container, "admin")
    for body in ({"role": "interviewer"}, {"is_active": False}, {"password": NEW_PASSWORD}):
        r = app_client.patch(f"/api/v1/users/{me.id}", json=body)
        assert r.status_code in (403, 422), f"{body}: {r.status_code}"
    assert app_client.delete(f"/api/v1/users/{me.id}").status_code == 422
    assert _user(container, "admin") == me


def test_granting_a_role_beyond_ones_own_is_refused_and_audited(
    manager: TestClient, container: Container, make_user: Callable[..., str]
) -> None:
    make_user("peer", "user_manager", "BJ")
    peer = _user(container, "peer")
    r = manager.patch(f"/api/v1/users/{peer.id}", json={"role": "admin"})
    assert r.status_code == 403 and "settings:write" in r.json()["missing"]
    assert _user(container, "peer").role == "user_manager"
    manager.post("/api/v1/auth/logout")
    login(manager, "admin", ADMIN_PASSWORD)
    events = manager.get("/api/v1/audit-events", params={"action": "auth.permission_denied"}).json()["items"]
    assert any(e["actor"] == "um" and e["details"].get("reason") == "role_beyond_own" for e in events)


def test_roles_holding_more_than_the_actor_cannot_be_changed_or_deleted(
    app_client: TestClient, container: Container, make_user: Callable[..., str]
) -> None:
    """Editing a custom role changes every user holding it: the same rule applies."""
    _add_role(container, "role_manager", Permission.ROLES_READ, Permission.ROLES_WRITE)
    _add_role(container, "unmasker", Permission.SENSITIVE_UNMASK, Permission.ROLES_READ)
    _add_role(container, "viewer", Permission.ROLES_READ)
    make_user("rm", "role_manager", "HQ")
    login(app_client, "rm")
    r = app_client.patch("/api/v1/roles/unmasker", json={"permissions": ["roles:read"]})
    assert r.status_code == 403 and r.json()["missing"] == ["sensitive:unmask"]
    assert app_client.patch("/api/v1/roles/unmasker", json={"name_en": "x"}).status_code == 403
    assert app_client.delete("/api/v1/roles/unmasker").status_code == 403
    with container.uows() as uow:
        kept = uow.roles.get("unmasker")
    assert kept and kept.permissions == {Permission.SENSITIVE_UNMASK, Permission.ROLES_READ}
    assert app_client.patch("/api/v1/roles/viewer", json={"name_en": "Viewer"}).status_code == 200
    assert app_client.delete("/api/v1/roles/viewer").status_code == 204
