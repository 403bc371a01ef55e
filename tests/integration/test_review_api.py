"""QC operations through the API (docs/review.md): sampling rules and their daily run, branch scope,
the review workbench (confirm / overrule / add / decide), re-record → a new attempt of the task and
its webhook, four eyes on FAIL, appeals with attachments, and the statistics from those decisions."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from dualrec.bootstrap.container import Container
from dualrec.core.recordings import Recording
from dualrec.services.flows.demo_content import seed_demo_content
from dualrec.settings import Settings
from tests.archive_fixtures import create_task
from tests.conftest import ADMIN_PASSWORD, PASSWORD, login, make_settings

CALLBACK = "https://crm.example.com/hooks/dualrec"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """No background threads: the test drives the daily sampling itself."""
    return make_settings(
        tmp_path / "data",
        review_sampling_enabled=False,
        webhook_enabled=False,
        review_appeal_max_file_bytes=64 * 1024,
    )


def client_for(app_client: TestClient, username: str, password: str = PASSWORD) -> TestClient:
    return login(TestClient(app_client.app), username, password)


def report(findings: dict[str, list[str]]) -> dict[str, Any]:
    """A native QC report whose checks raised ``findings`` (check id → severities)."""
    return {
        "verdict": "FAIL",
        "duration": 60.0,
        "checks": [
            {
                "id": check,
                "title": check,
                "status": "failed",
                "findings": [
                    {
                        "severity": sev,
                        "message": f"{check} {i}",
                        "start": 5.0 * i,
                        "end": 5.0 * i + 2,
                        "evidence": {},
                    }
                    for i, sev in enumerate(sevs)
                ],
            }
            for check, sevs in findings.items()
        ],
    }


def add_recording(
    c: Container,
    *,
    branch: str = "BJ",
    verdict: str = "PASS",
    risk: int = 0,
    findings: dict[str, list[str]] | None = None,
    created_by: str = "iv_bj",
    task_id: str | None = None,
) -> str:
    with c.uows() as uow:
        b = uow.branches.by_code(branch)
    assert b is not None
    now = datetime.now(UTC)
    ref = c.blobs.put(b"\x00\x00\x00\x18ftypmp42 recording", content_type="video/mp4")
    key = c.blobs.put(json.dumps(report(findings or {})).encode(), content_type="application/json").key
    rec = Recording(
        id=str(uuid.uuid4()),
        branch_id=b.id,
        branch_path=b.path,
        created_by=created_by,
        running_no="",
        filename="recording.mp4",
        content_type="video/mp4",
        size=ref.size,
        sha256=ref.sha256,
        blob_key=ref.key,
        status="queued",
        created_at=now,
        updated_at=now,
        inputs={"task": {}, "flow": None, "markers": None, "id_photo_key": None},
    )
    with c.uows() as uow:
        uow.recordings.add(rec)
        uow.recordings.update(
            rec.id,
            status="done",
            verdict=verdict,
            risk_score=risk,
            artifacts={"report": key},
            finished_at=now,
        )
        if task_id is not None:
            uow.tasks.update_attempt(task_id, 1, recording_id=rec.id)
        uow.commit()
    return rec.id


@pytest.fixture
def people(make_user: Callable[..., str]) -> None:
    for name, role, branch in (
        ("rev_bj", "qc_reviewer", "BJ"),
        ("rev_sh", "qc_reviewer", "SH"),
        ("lead1", "compliance", "HQ"),
        ("lead2", "compliance", "HQ"),
        ("lead3", "compliance", "HQ"),
        ("sup_bj", "branch_supervisor", "BJ"),
        ("sup_sh", "branch_supervisor", "SH"),
    ):
        make_user(name, role, branch)


def user_id(c: Container, name: str) -> int:
    with c.uows() as uow:
        u = uow.users.by_username(name)
    assert u is not None
    return u.id


def sample(client: TestClient, **body: Any) -> dict[str, Any]:
    r = client.post("/api/v1/review/samples", json=body)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def item_of(client: TestClient, recording_id: str) -> dict[str, Any]:
    r = client.get(f"/api/v1/review/recordings/{recording_id}")
    assert r.status_code == 200 and r.json() is not None, r.text
    return r.json()  # type: ignore[no-any-return]


# ---- sampling ----------------------------------------------------------------------------------


def test_a_daily_rule_samples_per_branch_once_a_day_and_is_reproducible(
    app_client: TestClient, container: Container, people: None
) -> None:
    bj_pass = [add_recording(container, branch="BJ-CY") for _ in range(10)]
    bj_fail = add_recording(container, branch="BJ", verdict="FAIL", risk=70)
    bj_review = add_recording(container, branch="BJ", verdict="REVIEW", risk=20)
    sh_pass = [add_recording(container, branch="SH") for _ in range(5)]
    sh_fail = add_recording(container, branch="SH-PD", verdict="FAIL", risk=60)
    admin = login(app_client, "admin", ADMIN_PASSWORD)
    plan = {"rates": {"FAIL": 100, "REVIEW": 100, "PASS": 10}, "per_branch": True}
    r = admin.post("/api/v1/review/rules", json={"name": "每日抽检", "plan": plan})
    assert r.status_code == 201, r.text
    rule = r.json()

    ran = admin.post(f"/api/v1/review/rules/{rule['id']}/run", json={})
    assert ran.status_code == 201, ran.text
    s = ran.json()
    picked = set(s["selected"])
    # 100 % of FAIL and REVIEW; 10 % of PASS per branch, at least one: BJ-CY 1 of 10, SH 1 of 5
    assert {bj_fail, bj_review, sh_fail} <= picked and len(picked) == 5
    assert len(picked & set(bj_pass)) == 1 and len(picked & set(sh_pass)) == 1
    assert s["added"] == 5 and s["candidates"] == 18 and len(s["seed"]) == 32
    repro = admin.get(f"/api/v1/review/samples/{s['id']}/reproduction").json()
    assert repro["same_candidates"] and repro["same_selection"] and not repro["missing"]
    items = admin.get("/api/v1/review/items", params={"sample_id": s["id"]}).json()
    assert items["total"] == 5 and {i["recording_id"] for i in items["items"]} == picked
    failed = item_of(admin, bj_fail)
    assert [f["key"] for f in failed["findings"]] == []  # its report raised nothing: nothing to confirm

    # the scheduled run: once per day and rule, whatever the number of looks
    sampling = container.review.sampling  # type: ignore[union-attr]
    tomorrow = datetime.now(UTC) + timedelta(days=1, hours=3)
    first = sampling.run_due(now=tomorrow)
    # (which day's recordings it draws from depends on the time of day here; whatever it draws,
    # recordings already under review get no second item)
    assert len(first) == 1 and first[0].trigger == "schedule"
    assert first[0].added == len(set(first[0].selected) - picked)
    assert sampling.run_due(now=tomorrow) == []
    events = admin.get("/api/v1/audit-events", params={"action": "review.sampled"}).json()["items"]
    assert len(events) == 2 and {e["details"]["trigger"] for e in events} == {"run_now", "schedule"}


def test_manual_sampling_by_filters(app_client: TestClient, container: Container, people: None) -> None:
    low = add_recording(container, branch="BJ", verdict="REVIEW", risk=10)
    high = add_recording(container, branch="BJ", verdict="REVIEW", risk=50)
    add_recording(container, branch="SH", verdict="REVIEW", risk=50)
    admin = login(app_client, "admin", ADMIN_PASSWORD)
    with container.uows() as uow:
        bj = uow.branches.by_code("BJ")
    assert bj is not None
    body = {
        "filters": {"branch_id": bj.id, "verdicts": ["REVIEW"], "risk_min": 30},
        "plan": {"default_rate": 100},
        "assignees": [user_id(container, "rev_bj")],
    }
    preview = admin.post("/api/v1/review/samples/preview", json=body).json()
    assert preview == {"candidates": 1, "selected": 1, "already_in_review": 0}
    s = sample(admin, **body)
    assert s["selected"] == [high] and low not in s["selected"]
    assert item_of(admin, high)["assignee"] == "rev_bj"
    # a reviewer of another branch cannot be assigned BJ's recordings
    body["assignees"] = [user_id(container, "rev_sh")]
    assert admin.post("/api/v1/review/samples", json=body).status_code == 422


# ---- scope -------------------------------------------------------------------------------------


def test_reviewers_see_only_their_branch_subtree(
    app_client: TestClient, container: Container, people: None
) -> None:
    bj = add_recording(container, branch="BJ-CY", verdict="FAIL", findings={"black_screen": ["major"]})
    sh = add_recording(container, branch="SH", verdict="FAIL", findings={"black_screen": ["major"]})
    admin = login(app_client, "admin", ADMIN_PASSWORD)
    sample(admin, plan={"rates": {"FAIL": 100}})
    sh_item = item_of(admin, sh)

    rev = client_for(app_client, "rev_bj")
    listed = rev.get("/api/v1/review/items").json()
    assert [i["recording_id"] for i in listed["items"]] == [bj]
    for method, url, body in (
        ("GET", f"/api/v1/review/items/{sh_item['id']}", None),
        ("GET", f"/api/v1/review/recordings/{sh}", None),
        ("POST", f"/api/v1/review/items/{sh_item['id']}/claim", None),
        ("PUT", f"/api/v1/review/items/{sh_item['id']}/findings/black_screen:0", {"action": "confirm"}),
        ("POST", f"/api/v1/review/items/{sh_item['id']}/decision", {"decision": "pass"}),
    ):
        r = rev.request(method, url, json=body)
        assert r.status_code == 404 and "verdict" not in r.text and "findings" not in r.text, (method, url)
    assert item_of(admin, sh)["status"] == "pending"  # nothing changed


def test_nobody_reviews_their_own_recording(
    app_client: TestClient, container: Container, people: None
) -> None:
    own = add_recording(container, branch="BJ", verdict="FAIL", created_by="rev_bj")
    admin = login(app_client, "admin", ADMIN_PASSWORD)
    sample(admin, plan={"rates": {"FAIL": 100}})
    rev = client_for(app_client, "rev_bj")
    r = rev.post(f"/api/v1/review/items/{item_of(admin, own)['id']}/claim")
    assert r.status_code == 403 and r.json()["rule"] == "own_recording"
    refused = admin.get("/api/v1/audit-events", params={"action": "review.refused"}).json()["items"]
    assert refused and refused[0]["actor"] == "rev_bj" and refused[0]["target_id"] == own


# ---- the workbench, re-record and the task -----------------------------------------------------


def test_review_then_rerecord_starts_a_new_attempt_and_tells_the_business_system(
    app_client: TestClient, container: Container, people: None
) -> None:
    seed_demo_content(container.uows)
    admin = login(app_client, "admin", ADMIN_PASSWORD)
    with container.uows() as uow:
        bj = uow.branches.by_code("BJ")
    assert bj is not None
    task = create_task(admin, branch_id=bj.id)
    with container.uows() as uow:  # as if a business system had created it with its callback
        uow.tasks.update(task["id"], source_key="crm-key", callback_url=CALLBACK)
        uow.commit()
    rec = add_recording(
        container,
        verdict="FAIL",
        risk=80,
        findings={"black_screen": ["major"], "sensitive_words": ["critical", "major"]},
        task_id=task["id"],
    )
    sample(
        admin,
        filters={"branch_id": bj.id},
        plan={"rates": {"FAIL": 100}},
        assignees=[user_id(container, "rev_bj")],
    )
    rev = client_for(app_client, "rev_bj")
    item = item_of(rev, rec)
    base = f"/api/v1/review/items/{item['id']}"
    assert item["task_id"] == task["id"] and item["attempt_no"] == 1
    assert [f["key"] for f in item["findings"]] == [
        "black_screen:0",
        "sensitive_words:0",
        "sensitive_words:1",
    ]

    assert rev.post(f"{base}/claim").json()["status"] == "in_review"
    r = rev.post(f"{base}/decision", json={"decision": "rerecord", "reason": "画面黑屏"})
    assert r.status_code == 409 and len(r.json()["open"]) == 3  # findings not yet confirmed/overruled
    assert rev.put(f"{base}/findings/black_screen:0", json={"action": "overrule"}).status_code == 422
    assert (
        rev.put(
            f"{base}/findings/black_screen:0", json={"action": "overrule", "reason": "逆光，非黑屏"}
        ).status_code
        == 200
    )
    assert rev.put(f"{base}/findings/sensitive_words:0", json={"action": "confirm"}).status_code == 200
    assert rev.put(f"{base}/findings/sensitive_words:1", json={"action": "confirm"}).status_code == 200
    assert rev.put(f"{base}/findings/nope:9", json={"action": "confirm"}).status_code == 404
    added = rev.post(
        f"{base}/added-findings",
        json={"check_id": "script_read", "start": 12.5, "end": 30, "note": "风险揭示漏读"},
    )
    assert added.status_code == 201 and added.json()["action"] == "added"
    assert rev.post(f"{base}/decision", json={"decision": "rerecord"}).status_code == 422  # reason required
    r = rev.post(f"{base}/decision", json={"decision": "rerecord", "reason": "风险揭示漏读，需补录"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["item"]["outcome"] == "rerecord" and body["item"]["status"] == "done"
    assert body["task"] == {"task_id": task["id"], "applied": True, "new_attempt": 2}
    assert body["item"]["rerecord_attempt"] == 2 and body["item"]["review_seconds"] is not None

    t = admin.get(f"/api/v1/tasks/{task['id']}").json()
    assert t["attempt"] == 2 and t["status"] == "created"
    assert [a["status"] for a in t["attempts"]][:2] in (["superseded", "created"], ["created", "superseded"])
    with container.uows() as uow:
        deliveries, _ = uow.webhooks.list(scope_path="/", task_id=task["id"], limit=50)
    decided = [d for d in deliveries if d.event == "task.review_decided"]
    assert len(decided) == 1
    data = decided[0].payload["data"]
    assert data["decision"] == "rerecord" and data["new_attempt"] == 2 and data["attempt"] == 1
    assert data["entry_url"].startswith("http") and data["reason"] == "风险揭示漏读，需补录"
    assert any(
        d.event == "task.status_changed" and d.payload["data"]["status"] == "created" for d in deliveries
    )
    # decided: no more changes
    assert rev.put(f"{base}/findings/black_screen:0", json={"action": "confirm"}).status_code == 409

    # the statistics count those decisions: black_screen 0 of 1 confirmed, sensitive_words 2 of 2
    stats = admin.get("/api/v1/review/stats", params={"group_by": "check"}).json()
    rows = {r["key"]: r for r in stats["rows"]}
    assert rows["black_screen"]["precision"] == 0 and rows["sensitive_words"]["precision"] == 1
    assert rows["script_read"]["missed"] == 1 and rows["script_read"]["precision"] is None
    assert stats["total"]["rerecord_rate"] == 1 and stats["total"]["raised"] == 3
    csv_text = admin.get("/api/v1/review/stats.csv", params={"group_by": "check"}).text
    assert "check,sensitive_words,sensitive_words,1,2,2,0,1.0000" in csv_text


# ---- four eyes and appeals ---------------------------------------------------------------------


def _png(size: int = 16) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (size, size), (200, 30, 30)).save(buf, format="PNG")
    return buf.getvalue()


def test_fail_needs_a_second_reviewer_and_the_branch_appeals(
    app_client: TestClient, container: Container, people: None
) -> None:
    rec = add_recording(container, branch="BJ-CY", verdict="FAIL", findings={"face_presence": ["critical"]})
    admin = login(app_client, "admin", ADMIN_PASSWORD)
    sample(admin, plan={"rates": {"FAIL": 100}})
    lead1, lead2, lead3 = (client_for(app_client, n) for n in ("lead1", "lead2", "lead3"))
    item = item_of(lead1, rec)
    base = f"/api/v1/review/items/{item['id']}"
    lead1.put(f"{base}/findings/face_presence:0", json={"action": "confirm"})
    r = lead1.post(f"{base}/decision", json={"decision": "fail", "reason": "客户离开画面"})
    assert r.status_code == 200 and r.json()["item"]["status"] == "awaiting_final"
    assert r.json()["item"]["outcome"] is None
    queue = lead2.get("/api/v1/review/items", params={"view": "final"}).json()
    assert [i["id"] for i in queue["items"]] == [item["id"]]
    # a reviewer cannot final-review their own decision; a plain reviewer has no qc:final_review
    r = lead1.post(f"{base}/final", json={"decision": "fail"})
    assert r.status_code == 403 and r.json().get("rule") == "four_eyes", r.text
    r = client_for(app_client, "rev_bj").post(f"{base}/final", json={"decision": "fail"})
    assert r.status_code == 403 and r.json()["permission"] == "qc:final_review"
    r = lead2.post(f"{base}/final", json={"decision": "fail"})
    assert r.status_code == 200 and r.json()["item"]["outcome"] == "fail"

    sup = client_for(app_client, "sup_bj")
    failed = sup.get("/api/v1/review/items", params={"outcome": "fail"}).json()
    assert [i["recording_id"] for i in failed["items"]] == [rec]

    def appeal(
        client: TestClient, files: list[tuple[str, bytes, str]], reason: str = "客户短暂低头签字"
    ) -> Any:
        return client.post(
            "/api/v1/review/appeals",
            data={"item_id": str(item["id"]), "reason": reason},
            files=[("files", f) for f in files],
        )

    assert appeal(sup, [("evil.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")]).status_code == 422
    assert appeal(sup, [("big.png", _png() + b"\x00" * 70_000, "image/png")]).status_code == 422
    assert appeal(client_for(app_client, "sup_sh"), [("a.png", _png(), "image/png")]).status_code == 404
    png = _png()
    r = appeal(sup, [("../../签字照片.png", png, "application/octet-stream")])
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["status"] == "open" and made["attachments"][0]["name"] == "签字照片.png"
    assert appeal(sup, [], reason="再次申诉").status_code == 409  # one appeal per recording
    got = lead3.get(made["attachments"][0]["url"])
    assert got.status_code == 200 and got.content == png and got.headers["content-type"] == "image/png"
    assert client_for(app_client, "sup_sh").get(f"/api/v1/review/appeals/{made['id']}").status_code == 404

    # the one who decided the FAIL does not decide its appeal
    r = lead2.post(
        f"/api/v1/review/appeals/{made['id']}/decision", json={"decision": "pass", "reason": "同意"}
    )
    assert r.status_code == 403 and r.json()["rule"] == "four_eyes"
    r = lead3.post(
        f"/api/v1/review/appeals/{made['id']}/decision",
        json={"decision": "pass", "reason": "签字时低头属正常"},
    )
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    shown = item_of(sup, rec)
    assert shown["outcome"] == "pass" and shown["status"] == "done"
    assert shown["appeals"][0]["decided_by"] == "lead3" and shown["appeals"][0]["decision"] == "pass"
    actions = [
        e["action"]
        for e in admin.get("/api/v1/audit-events", params={"page_size": 200}).json()["items"]
        if e["target_id"] == rec
    ]
    for a in ("review.decided", "review.final_decided", "review.appealed", "review.appeal_decided"):
        assert a in actions


# ---- every database ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["sqlite", "postgresql", "mysql"])
def test_the_review_path_on_every_database(kind: str, tmp_path: Path) -> None:
    """Sampling (candidates join, unique run key), row locks of the workbench, appeals and the
    statistics on SQLite, PostgreSQL and MariaDB."""
    from dualrec.bootstrap.container import build_container
    from dualrec.core.identity import Principal
    from dualrec.core.rbac import Permission
    from dualrec.core.review import SampleFilters, SamplingPlan
    from dualrec.errors import PermissionDeniedError
    from dualrec.services.common.context import Actor, RequestMeta
    from dualrec.services.identity.seed import seed_demo
    from dualrec.services.identity.users_cli import create_user_as_system
    from dualrec.services.review.appeals import Attachment
    from tests.conftest import ADMIN_PASSWORD as ADMIN
    from tests.services import isolated_database_url

    with isolated_database_url(kind, str(tmp_path)) as url:
        c = build_container(
            make_settings(tmp_path / "data", database_url=url, review_sampling_enabled=False), migrate=True
        )
        try:
            seed_demo(c.uows, admin_username="admin", admin_password=ADMIN)
            with c.uows() as uow:
                hq = uow.branches.by_code("HQ")
            assert hq is not None

            def actor(name: str) -> Actor:
                create_user_as_system(
                    c.uows,
                    username=name,
                    role="admin",
                    branch_code="HQ",
                    display_name=name,
                    password=PASSWORD,
                )
                uid = user_id(c, name)
                p = Principal("user", uid, name, "admin", hq.id, hq.path, frozenset(Permission))
                return Actor(principal=p, meta=RequestMeta(user_agent="pytest"))

            first, second, third, fourth = actor("r1"), actor("r2"), actor("r3"), actor("r4")
            rec = add_recording(c, branch="BJ", verdict="FAIL", findings={"black_screen": ["major"]})
            assert c.review is not None
            plan = SamplingPlan(rates={"FAIL": 100})
            sample = c.review.sampling.sample(actor=first, filters=SampleFilters(), plan=plan)
            assert sample.selected == (rec,) and sample.added == 1
            assert c.review.sampling.reproduce(actor=first, sample_id=sample.id).same_selection
            day = datetime.now(UTC) + timedelta(days=1, hours=3)
            with c.uows() as uow:  # a rule over HQ, run by the schedule twice: once
                uow.review.add_rule(
                    name="daily",
                    enabled=True,
                    branch_id=hq.id,
                    filters={},
                    plan=plan.to_json(),
                    assignees=[],
                    created_by="t",
                    created_at=datetime.now(UTC),
                    updated_by="t",
                    updated_at=datetime.now(UTC),
                )
                uow.commit()
            assert len(c.review.sampling.run_due(now=day)) == 1 and c.review.sampling.run_due(now=day) == []
            with c.uows() as uow:
                item = uow.review.item_for_recording(rec)
            assert item is not None
            c.review.reviews.claim(actor=first, item_id=item.id)
            c.review.reviews.decide_finding(
                actor=first, item_id=item.id, finding_key="black_screen:0", action="confirm", reason=""
            )
            c.review.reviews.add_finding(
                actor=first, item_id=item.id, check_id="script", start=1, end=2, note="漏读"
            )
            c.review.reviews.decide(actor=first, item_id=item.id, decision="fail", reason="黑屏")
            c.review.reviews.final(actor=second, item_id=item.id, decision="fail", reason="")
            appeal = c.review.appeals.create(
                actor=third, item_id=item.id, reason="申诉", files=[Attachment("a.pdf", b"%PDF-1.4 x")]
            )
            with pytest.raises(PermissionDeniedError):  # the appellant does not decide their appeal
                c.review.appeals.decide(actor=third, appeal_id=appeal.id, decision="pass", reason="同意")
            done, _ = c.review.appeals.decide(
                actor=fourth, appeal_id=appeal.id, decision="pass", reason="同意"
            )
            assert done.status == "accepted"
            stats = c.review.stats.compute(
                actor=first, since=None, until=None, branch_id=None, group_by="check"
            )
            rows = {r.key: r for r in stats.rows}
            assert rows["black_screen"].precision == 1 and rows["script"].missed == 1
            assert stats.total.first_time_pass_rate == 1  # the accepted appeal made it pass
        finally:
            c.close()
