"""The archive API: catalogue entries from tasks and QC reports, combined search scoped to the branch
subtree with masking, export, retention, legal hold and the deletion approval chain."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from dualrec.api.app import create_app
from dualrec.bootstrap.container import Container
from dualrec.services.common.audit import AuditFilter
from dualrec.services.flows.demo_content import seed_demo_content
from dualrec.settings import Settings
from tests.archive_fixtures import CUSTOMER, add_recording, create_task
from tests.conftest import ADMIN_PASSWORD, CSRF, PASSWORD, login


@pytest.fixture
def admin(app_client: TestClient, container: Container) -> TestClient:
    seed_demo_content(container.uows)
    return login(app_client, "admin", ADMIN_PASSWORD)


@pytest.fixture
def client_for(settings: Settings, container: Container) -> Iterator[Callable[[str], TestClient]]:
    opened: list[TestClient] = []

    def _client(username: str) -> TestClient:
        c = TestClient(create_app(settings, container=container))
        c.__enter__()
        opened.append(c)
        return login(c, username, PASSWORD)

    yield _client
    for c in opened:
        c.__exit__(None, None, None)


def test_catalogue_entry_from_task_and_report(admin: TestClient, container: Container) -> None:
    task = create_task(admin)
    rid = add_recording(container, task_id=task["id"])
    r = admin.get(f"/api/v1/archive/entries/{rid}")
    assert r.status_code == 200, r.text
    e = r.json()
    assert e["status"] == "active" and e["masked"] is False  # admin holds sensitive:unmask
    assert e["activity"]["business_no"] == "INS-2026-0001" and e["activity"]["contract_no"] == "HT-0001"
    assert e["activity"]["customer_name"] == "张三丰" and e["activity"]["id_number"] == CUSTOMER["id_number"]
    assert e["activity"]["task_id"] == task["id"] and e["activity"]["attempt"] == 1
    assert e["activity"]["qc_verdict"] == "PASS" and e["activity"]["branch_name"] == "总行"
    assert e["file"]["format"] == "mp4" and e["file"]["duration_seconds"] == 61.25
    assert e["av"]["resolution"] == "1280x720" and e["av"]["aspect_ratio"] == "16:9"
    assert e["av"]["video_codec"] == "h264" and e["av"]["bit_rate"] == 1_500_000
    # insurance: 10 years after the contract ends; unknown end → no expiry date (never deletable on a guess)
    assert e["retention"]["code"] == "D10" and e["retention"]["basis"] == "contract_end"
    assert e["retention"]["expires_on"] is None
    r = admin.patch(
        f"/api/v1/archive/entries/{rid}",
        json={"contract_end": "2030-02-28", "secrecy_level": "秘密", "carrier_numbers": ["DVD-2026-001"]},
    )
    assert r.status_code == 200, r.text
    e = r.json()
    assert e["retention"]["expires_on"] == "2040-02-28" and e["secrecy_level"] == "秘密"
    assert e["carrier_numbers"] == ["DVD-2026-001"]
    assert admin.patch(f"/api/v1/archive/entries/{rid}", json={"secrecy_level": "绝密x"}).status_code == 422
    r = admin.patch(f"/api/v1/archive/entries/{rid}", json={"retention_code": "Y"})
    assert r.json()["retention"] == {**r.json()["retention"], "code": "Y", "manual": True, "expires_on": None}
    r = admin.patch(f"/api/v1/archive/entries/{rid}", json={"retention_code": None})
    assert r.json()["retention"]["code"] == "D10" and r.json()["retention"]["expires_on"] == "2040-02-28"


def test_combined_search_scoped_and_masked(
    admin: TestClient,
    container: Container,
    make_user: Callable[..., str],
    client_for: Callable[[str], TestClient],
) -> None:
    t1 = create_task(admin)
    t2 = create_task(admin, customer_name="李四", id_number="110105198001010016")
    base = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    r1 = add_recording(container, task_id=t1["id"], branch_code="BJ-CY", created_at=base)
    r2 = add_recording(
        container, task_id=t2["id"], branch_code="SH", created_at=base + timedelta(days=1), verdict="FAIL"
    )
    r3 = add_recording(
        container,
        branch_code="BJ",
        created_at=base + timedelta(days=40),
        inputs_task={"running_no": "RN-9", "customer_name": "张三丰", "business_type": "wealth"},
    )

    def ids(client: TestClient, **params: object) -> list[str]:
        r = client.get("/api/v1/archive/entries", params=params)
        assert r.status_code == 200, r.text
        return [i["recording_id"] for i in r.json()["items"]]

    assert ids(admin) == [r3, r2, r1]  # newest first
    assert set(ids(admin, customer_name="张三丰")) == {r1, r3}  # exact match on the blind index
    assert ids(admin, customer_name="张三") == []  # no partial matches on sealed names
    assert ids(admin, id_number=CUSTOMER["id_number"].lower()) == [r1]
    assert ids(admin, customer_name="张三丰", business_type="wealth") == [r3]
    assert ids(admin, business_no="INS-2026-0001") == [r2, r1]
    assert ids(admin, business_no="INS-2026-0001", qc_verdict="FAIL") == [r2]
    assert ids(
        admin, contract_no="HT-0001", recorded_from="2026-03-01T00:00:00Z", recorded_to="2026-03-02T00:00:00Z"
    ) == [r1]
    assert ids(admin, branch_id=2) == [r3, r1]  # BJ and below
    # a BJ supervisor sees BJ's subtree only, masked; SH's entry is "not found"
    make_user("bjsup", "branch_supervisor", "BJ")
    sup = client_for("bjsup")
    r = sup.get("/api/v1/archive/entries")
    body = r.json()
    assert body["masked"] is True and body["total"] == 2 and body["total_exact"] is True
    first = next(i for i in body["items"] if i["recording_id"] == r1)
    assert first["activity"]["customer_name"] == "张*丰"
    assert (
        first["activity"]["id_number"] == "110105********002X" and first["activity"]["phone"] == "138****8000"
    )
    assert ids(admin, branch_id=4) == [r2]
    assert sup.get(f"/api/v1/archive/entries/{r2}").status_code == 404
    assert sup.get("/api/v1/archive/entries", params={"branch_id": 4}).status_code == 404
    # exports: CSV of a result page and JSON of one entry, masked like the screen
    r = sup.get("/api/v1/archive/entries/export", params={"format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text.lstrip("\ufeff"))))
    assert len(rows) == 2 and {row["activity.customer_name"] for row in rows} == {"张*丰"}
    assert "11010519491231002X" not in r.text
    r = sup.get(f"/api/v1/archive/entries/{r1}/export", params={"format": "json"})
    assert r.json()["recording_id"] == r1 and r.json()["masked"] is True
    events, _ = container_audit(container, "archive.exported")
    assert events == 2
    # an interviewer has no archive:search
    make_user("iv", "interviewer", "HQ")
    assert client_for("iv").get("/api/v1/archive/entries").status_code == 403


def container_audit(container: Container, action: str) -> tuple[int, list[str]]:
    with container.uows() as uow:
        events, total = uow.audit.search(AuditFilter(action=action), offset=0, limit=100)
    return total, [e.outcome for e in events]


@pytest.fixture
def chain_users(
    make_user: Callable[..., str], client_for: Callable[[str], TestClient]
) -> dict[str, TestClient]:
    for name, role in (
        ("sup1", "branch_supervisor"),
        ("sup2", "branch_supervisor"),
        ("comp", "compliance"),
        ("admin2", "admin"),
    ):
        make_user(name, role, "HQ")
    return {name: client_for(name) for name in ("sup1", "sup2", "comp", "admin2")}


def _decide(client: TestClient, request_id: str, decision: str = "approve", comment: str = "同意") -> int:
    r = client.post(
        f"/api/v1/archive/deletion-requests/{request_id}/decision",
        json={"decision": decision, "comment": comment},
    )
    return r.status_code


def test_deletion_needs_every_approval_by_the_right_roles(
    admin: TestClient, container: Container, chain_users: dict[str, TestClient]
) -> None:
    u = chain_users
    rid = add_recording(container, task_id=create_task(admin)["id"])
    with container.uows() as uow:
        rec = uow.recordings.get(rid)
    assert rec is not None and rec.artifacts is not None
    keys = [rec.blob_key, rec.artifacts["report"], *rec.artifacts["evidence"].values()]
    assert admin.get(f"/api/v1/recordings/{rid}/media").status_code == 200

    r = u["sup1"].post(
        f"/api/v1/archive/entries/{rid}/deletion-requests", json={"reason": "测试数据，误上传"}
    )
    assert r.status_code == 201, r.text
    req = r.json()
    assert (
        req["status"] == "pending"
        and req["current_step"] == 1
        and [s["role"] for s in req["steps"]]
        == [
            "branch_supervisor",
            "compliance",
            "admin",
        ]
    )
    rq = req["id"]
    assert (
        u["sup1"]
        .post(f"/api/v1/archive/entries/{rid}/deletion-requests", json={"reason": "again"})
        .status_code
        == 409
    )
    assert _decide(u["sup1"], rq) == 403  # the requester
    assert _decide(u["comp"], rq) == 403  # wrong role for step 1
    assert _decide(admin, rq) == 403  # an administrator is not the department head
    assert _decide(u["sup2"], rq) == 200  # step 1
    assert _decide(u["sup2"], rq) == 403  # nobody decides two steps
    assert _decide(u["admin2"], rq) == 403  # step 2 is compliance's
    for key in keys:  # nothing deleted before the last approval
        assert container.blobs.exists(key)
    assert _decide(u["comp"], rq) == 200  # step 2
    assert container.blobs.exists(rec.blob_key)
    listed = u["admin2"].get("/api/v1/archive/deletion-requests", params={"actionable": True}).json()
    assert [i["id"] for i in listed["items"]] == [rq] and listed["items"][0]["can_decide"] is True
    assert (
        u["sup2"].get("/api/v1/archive/deletion-requests", params={"actionable": True}).json()["total"] == 0
    )
    assert _decide(u["admin2"], rq) == 200  # step 3: the files go
    done = u["admin2"].get(f"/api/v1/archive/deletion-requests/{rq}").json()
    assert done["status"] == "completed" and [d["username"] for d in done["decisions"]] == [
        "sup2",
        "comp",
        "admin2",
    ]
    for key in keys:
        assert not container.blobs.exists(key)
    assert admin.get(f"/api/v1/recordings/{rid}/media").status_code == 404
    entry = admin.get(f"/api/v1/archive/entries/{rid}").json()
    assert (
        entry["status"] == "deleted" and entry["deletion"]["tombstone_seq"] == done["result"]["tombstone_seq"]
    )
    assert "media" not in entry["links"]
    with container.uows() as uow:
        tomb = [e for e in uow.evidence.for_subject("recording", rid) if e.kind == "tombstone"]
    assert len(tomb) == 1 and tomb[0].seq == entry["deletion"]["tombstone_seq"]
    files = {f["blob_key"]: f for f in tomb[0].payload["files"]}
    assert set(files) == set(keys) and files[rec.blob_key]["sha256"] == rec.sha256
    assert [a["username"] for a in tomb[0].payload["approvals"]] == ["sup2", "comp", "admin2"]
    assert "张三丰" not in str(tomb[0].payload) and "测试数据" not in str(tomb[0].payload)
    assert container_audit(container, "archive.deletion_approved")[0] == 3
    refused, outcomes = container_audit(container, "archive.deletion_refused")
    assert refused == 6 and set(outcomes) == {"denied"}
    assert container_audit(container, "archive.deleted")[0] == 1
    # a deleted entry cannot be requested again
    assert (
        u["sup1"].post(f"/api/v1/archive/entries/{rid}/deletion-requests", json={"reason": "x"}).status_code
        == 409
    )


def test_rejection_ends_the_request_and_keeps_the_files(
    admin: TestClient, container: Container, chain_users: dict[str, TestClient]
) -> None:
    u = chain_users
    rid = add_recording(container)
    rq = (
        u["sup1"]
        .post(f"/api/v1/archive/entries/{rid}/deletion-requests", json={"reason": "到期"})
        .json()["id"]
    )
    assert _decide(u["sup2"], rq, "reject", "") == 422  # a rejection needs a comment
    assert _decide(u["sup2"], rq, "reject", "仍在诉讼时效内") == 200
    assert u["sup2"].get(f"/api/v1/archive/deletion-requests/{rq}").json()["status"] == "rejected"
    assert _decide(u["comp"], rq) == 409
    assert admin.get(f"/api/v1/archive/entries/{rid}").json()["status"] == "active"
    assert admin.get(f"/api/v1/recordings/{rid}/media").status_code == 200
    # the requester may withdraw a new request; others may not
    rq2 = (
        u["sup1"]
        .post(f"/api/v1/archive/entries/{rid}/deletion-requests", json={"reason": "再次申请"})
        .json()["id"]
    )
    assert u["sup2"].post(f"/api/v1/archive/deletion-requests/{rq2}/cancel").status_code == 403
    assert u["sup1"].post(f"/api/v1/archive/deletion-requests/{rq2}/cancel").json()["status"] == "cancelled"


def test_legal_hold_blocks_requests_and_approvals(
    admin: TestClient, container: Container, chain_users: dict[str, TestClient]
) -> None:
    u = chain_users
    rid = add_recording(container)
    rq = (
        u["sup1"]
        .post(f"/api/v1/archive/entries/{rid}/deletion-requests", json={"reason": "到期"})
        .json()["id"]
    )
    assert _decide(u["sup2"], rq) == 200
    r = u["comp"].put(
        f"/api/v1/archive/entries/{rid}/legal-hold", json={"hold": True, "reason": "(2026)京01民初1号"}
    )
    assert r.status_code == 200 and r.json()["legal_hold"]["active"] is True
    assert r.json()["legal_hold"]["by"] == "comp"
    assert _decide(u["comp"], rq) == 409  # approval refused under hold
    r = u["sup2"].post(f"/api/v1/archive/entries/{rid}/deletion-requests", json={"reason": "x"})
    assert r.status_code == 409  # (also pending) — a fresh entry shows the hold alone:
    rid2 = add_recording(container)
    u["comp"].put(f"/api/v1/archive/entries/{rid2}/legal-hold", json={"hold": True, "reason": "诉讼"})
    r = u["sup1"].post(
        f"/api/v1/archive/entries/{rid2}/deletion-requests",
        json={"reason": "到期"},
        headers={"Accept-Language": "en"},
    )
    assert r.status_code == 409 and "legal hold" in r.json()["detail"]
    assert (
        u["comp"]
        .put(f"/api/v1/archive/entries/{rid}/legal-hold", json={"hold": False, "reason": "结案"})
        .status_code
        == 200
    )
    assert _decide(u["comp"], rq) == 200 and _decide(u["admin2"], rq) == 200
    assert admin.get(f"/api/v1/archive/entries/{rid}").json()["status"] == "deleted"
    assert container_audit(container, "archive.legal_hold_set")[0] == 2
    assert container_audit(container, "archive.legal_hold_released")[0] == 1


def test_retention_policies_expiry_and_notices(admin: TestClient, container: Container) -> None:
    old = datetime.now(UTC) - timedelta(days=365 * 5 + 10)
    rid = add_recording(container, created_at=old, inputs_task={"business_type": "securities"})
    fresh = add_recording(container, inputs_task={"business_type": "securities"})
    entry = admin.get(f"/api/v1/archive/entries/{rid}").json()
    assert entry["retention"]["code"] == "D20" and entry["retention"]["expired"] is False
    r = admin.put(
        "/api/v1/archive/retention-policies/securities",
        json={"code": "5Y", "basis": "recorded_at", "name": "测试"},
    )
    assert r.status_code == 200 and r.json()["code"] == "D5" and r.json()["entries_recomputed"] == 2
    entry = admin.get(f"/api/v1/archive/entries/{rid}").json()
    assert (
        entry["retention"]["expired"] is True and entry["status"] == "active"
    )  # never deleted automatically
    assert (
        admin.put(
            "/api/v1/archive/retention-policies/x", json={"code": "D0", "basis": "recorded_at"}
        ).status_code
        == 422
    )
    expiring = admin.get("/api/v1/archive/expiring", params={"days": 30}).json()
    assert [e["recording_id"] for e in expiring] == [rid]
    assert fresh not in [e["recording_id"] for e in expiring]
    run1 = container.archive.retention.notify_expiring(days=30)
    run2 = container.archive.retention.notify_expiring(days=30)
    assert run1.notices_added == 1 and run2.notices_added == 0  # once a day
    notices = admin.get("/api/v1/archive/notices").json()
    assert len(notices) == 1 and notices[0]["payload"]["count"] == 1 and notices[0]["payload"]["expired"] == 1
    assert container_audit(container, "archive.expiring_notified")[0] == 1
    assert admin.get(f"/api/v1/recordings/{rid}/media").status_code == 200
    assert admin.get("/api/v1/archive/entries", params={"expires_within_days": 30}).json()["total"] == 1
    assert admin.delete("/api/v1/archive/retention-policies/*").status_code == 409
    assert admin.delete("/api/v1/archive/retention-policies/securities").status_code == 204
    assert admin.get(f"/api/v1/archive/entries/{fresh}").json()["retention"]["code"] == "D30"  # the default
    assert (
        date.fromisoformat(
            admin.get(f"/api/v1/archive/entries/{fresh}").json()["retention"]["expires_on"]
        ).year
        >= 2056
    )


def test_approval_chain_configuration(
    admin: TestClient, container: Container, chain_users: dict[str, TestClient]
) -> None:
    assert admin.get("/api/v1/archive/approval-chain").json()["steps"][0]["role"] == "branch_supervisor"
    r = admin.put("/api/v1/archive/approval-chain", json={"steps": [{"role": "nobody"}]})
    assert r.status_code == 422
    r = admin.put(
        "/api/v1/archive/approval-chain",
        json={"steps": [{"role": "interviewer"}]},
        headers={"Accept-Language": "en"},
    )
    assert r.status_code == 422 and "archive:approve" in r.json()["detail"]
    r = admin.put(
        "/api/v1/archive/approval-chain",
        json={"steps": [{"role": "compliance", "name": "合规"}, {"role": "admin"}]},
    )
    assert r.status_code == 200
    rid = add_recording(container)
    u = chain_users
    rq = (
        u["sup1"]
        .post(f"/api/v1/archive/entries/{rid}/deletion-requests", json={"reason": "到期"})
        .json()["id"]
    )
    assert _decide(u["sup2"], rq) == 403 and _decide(u["comp"], rq) == 200 and _decide(admin, rq) == 200
    assert admin.get(f"/api/v1/archive/entries/{rid}").json()["status"] == "deleted"
    assert (
        u["comp"].put("/api/v1/archive/approval-chain", json={"steps": [{"role": "admin"}]}).status_code
        == 403
    )
    assert CSRF  # state-changing calls above carried the CSRF header (login sets it)
