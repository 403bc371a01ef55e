"""High-risk rules through the API (docs/review.md): a rule flags a finished recording, the flag is on
the recording and in the review lists (with a filter), the responsible role gets an in-app notice in
its branch scope only, the business system its ``task.high_risk`` webhook and the configured address
an e-mail (a real SMTP server on loopback); "all high-risk" sampling takes the flagged ones; the
daily sampling of two processes at once samples once."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from dualrec.bootstrap.container import Container, build_container, start_standalone_sampler
from dualrec.bootstrap.review import SamplingScheduler
from dualrec.core.identity import Principal
from dualrec.core.rbac import Permission
from dualrec.core.review import SampleFilters, SamplingPlan
from dualrec.services.common.context import Actor, RequestMeta
from dualrec.services.flows.demo_content import seed_demo_content
from dualrec.services.identity.seed import seed_demo
from dualrec.settings import Settings
from tests.archive_fixtures import create_task
from tests.conftest import ADMIN_PASSWORD, PASSWORD, login, make_settings
from tests.integration.test_review_api import add_recording, user_id

CALLBACK = "https://crm.example.com/hooks/dualrec"
RULES = "/api/v1/review/high-risk-rules"


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[_Inbox, int]]:
    inbox = _Inbox()
    with socket.socket() as probe:  # a free port (the controller's start-up check needs a real one)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def settings(tmp_path: Path, smtp: tuple[_Inbox, int]) -> Settings:
    return make_settings(
        tmp_path / "data",
        review_sampling_enabled=False,
        webhook_enabled=False,
        smtp_host="127.0.0.1",
        smtp_port=smtp[1],
        smtp_sender="dualrec@bank.example",
        notify_email_to={"qc_manager": ["qc-team@bank.example"]},
    )


@pytest.fixture
def people(make_user: Callable[..., str]) -> None:
    for name, role, branch in (
        ("mgr_hq", "qc_manager", "HQ"),
        ("mgr_bj", "qc_manager", "BJ"),
        ("mgr_sh", "qc_manager", "SH"),
        ("rev_bj", "qc_reviewer", "BJ"),
        ("sup_bj", "branch_supervisor", "BJ"),
    ):
        make_user(name, role, branch)


def client_for(app_client: TestClient, username: str, password: str = PASSWORD) -> TestClient:
    return login(TestClient(app_client.app), username, password)


ELDERLY_RULE = {
    "name": "老年客户应答与话术同时异常",
    "conditions": {
        "checks_all": ["answers", "script_coverage"],
        "customer_types": ["elderly"],
        "risk_levels": ["R4", "R5"],
    },
    "notify_roles": ["qc_manager"],
}


def test_a_rule_flags_a_recording_and_notifies_the_role_in_its_branch_scope(
    app_client: TestClient, container: Container, people: None, smtp: tuple[_Inbox, int]
) -> None:
    admin = login(app_client, "admin", ADMIN_PASSWORD)
    mgr_hq = client_for(app_client, "mgr_hq")
    with container.uows() as uow:
        bj = uow.branches.by_code("BJ")
    assert bj is not None
    r = mgr_hq.post(RULES, json=ELDERLY_RULE)
    assert r.status_code == 201, r.text
    rule = r.json()
    assert rule["conditions"]["checks_all"] == ["answers", "script_coverage"]
    score_rule = mgr_hq.post(
        RULES,
        json={"name": "风险分≥70", "conditions": {"risk_min": 70}, "notify_roles": ["qc_reviewer"]},
    ).json()

    # an elderly customer's R5 product; both checks raised findings
    seed_demo_content(container.uows)
    task = create_task(admin, branch_id=bj.id)
    with container.uows() as uow:  # as if a business system had created it with its callback
        uow.tasks.update(
            task["id"], source_key="crm-key", callback_url=CALLBACK, customer_type="elderly", risk_level="R5"
        )
        uow.commit()
    flagged = add_recording(
        container,
        verdict="REVIEW",
        risk=45,
        findings={"answers": ["major"], "script_coverage": ["major"]},
        task_id=task["id"],
    )
    # only one of the two checks: no match; and an SH recording with a high score (the other rule)
    plain = add_recording(container, verdict="REVIEW", risk=20, findings={"answers": ["major"]})
    sh = add_recording(container, branch="SH", verdict="FAIL", risk=80, findings={"silence": ["critical"]})
    hr = container.review
    assert hr is not None
    for rid in (flagged, plain, sh):  # what the QC job's follow-up does when the report is stored
        hr.high_risk.evaluate(rid)

    flag = mgr_hq.get(f"/api/v1/review/recordings/{flagged}/high-risk").json()
    assert flag["high_risk"] is True and [m["id"] for m in flag["rules"]] == [rule["id"]]
    assert any("elderly" in why for why in flag["rules"][0]["reasons"])
    assert mgr_hq.get(f"/api/v1/review/recordings/{plain}/high-risk").json()["high_risk"] is False
    sh_flag = mgr_hq.get(f"/api/v1/review/recordings/{sh}/high-risk").json()
    assert [m["id"] for m in sh_flag["rules"]] == [score_rule["id"]]

    # notices: the BJ and HQ managers see the BJ recording; the SH manager does not
    mgr_bj, mgr_sh = client_for(app_client, "mgr_bj"), client_for(app_client, "mgr_sh")
    bj_notes = mgr_bj.get("/api/v1/review/notices").json()
    assert bj_notes["unread"] == 1 and [n["recording_id"] for n in bj_notes["items"]] == [flagged]
    assert bj_notes["items"][0]["body"]["rules"][0]["name"] == ELDERLY_RULE["name"]
    assert "roles" not in bj_notes["items"][0]["body"]["rules"][0]
    assert mgr_sh.get("/api/v1/review/notices").json() == {
        "items": [],
        "total": 0,
        "unread": 0,
        "page": 1,
        "page_size": 20,
    }
    assert mgr_hq.get("/api/v1/review/notices").json()["unread"] == 1
    # the SH recording's rule tells reviewers: the BJ reviewer does not see an SH notice
    assert client_for(app_client, "rev_bj").get("/api/v1/review/notices").json()["total"] == 0
    # the SH manager cannot see the BJ recording's flag, nor mark the BJ notice read
    assert mgr_sh.get(f"/api/v1/review/recordings/{flagged}/high-risk").status_code == 404
    notice_id = bj_notes["items"][0]["id"]
    assert mgr_sh.post("/api/v1/review/notices/read", json={"ids": [notice_id]}).status_code == 404
    # read marks are per user
    assert mgr_bj.post("/api/v1/review/notices/read", json={"ids": [notice_id]}).json() == {"marked": 1}
    assert mgr_bj.get("/api/v1/review/notices", params={"unread": True}).json()["total"] == 0
    assert mgr_hq.get("/api/v1/review/notices").json()["unread"] == 1

    # evaluating again (nothing changed) does not notify twice
    hr.high_risk.evaluate(flagged)
    assert mgr_hq.get("/api/v1/review/notices").json()["total"] == 1

    # the business system is told, once
    with container.uows() as uow:
        deliveries, _ = uow.webhooks.list(scope_path="/", task_id=task["id"], limit=50)
    told = [d for d in deliveries if d.event == "task.high_risk"]
    assert len(told) == 1
    assert told[0].payload["data"]["recording_id"] == flagged
    assert told[0].payload["data"]["rules"][0]["name"] == ELDERLY_RULE["name"]

    # the e-mail to the managers' address, through the SMTP server
    inbox, _ = smtp
    mails = [m for m in inbox.messages if "qc-team@bank.example" in m[1]]
    assert len(mails) == 1 and mails[0][0] == "dualrec@bank.example"
    mail = email.message_from_bytes(mails[0][2], policy=email.policy.default)
    assert "high-risk" in str(mail["Subject"]) and ELDERLY_RULE["name"] in str(mail["Subject"])
    text = mail.get_content()  # type: ignore[attr-defined]
    assert flagged in text and "elderly" in text

    # the audit log has the rule and the flag
    actions = {
        e["action"] for e in admin.get("/api/v1/audit-events", params={"page_size": 100}).json()["items"]
    }
    assert {"review.high_risk_rule_created", "review.high_risk_flagged"} <= actions

    # sampling "all high-risk" takes the flagged recordings (and only those), the queue filters them
    r = mgr_hq.post("/api/v1/review/samples", json={"plan": {"high_risk_flagged": True}})
    assert r.status_code == 201, r.text
    assert set(r.json()["selected"]) == {flagged, sh}
    items = mgr_hq.get("/api/v1/review/items", params={"high_risk": True}).json()["items"]
    assert {i["recording_id"] for i in items} == {flagged, sh} and all(i["high_risk"] for i in items)
    assert mgr_bj.get("/api/v1/review/items", params={"high_risk": True}).json()["total"] == 1

    # a rule switched off: re-evaluating clears the flag (audited), no new notice
    r = mgr_hq.put(f"{RULES}/{rule['id']}", json={**ELDERLY_RULE, "enabled": False})
    assert r.status_code == 200 and r.json()["enabled"] is False
    again = mgr_hq.post(f"/api/v1/review/recordings/{flagged}/high-risk/evaluate")
    assert again.status_code == 200 and again.json()["high_risk"] is False
    assert mgr_hq.get("/api/v1/review/items", params={"high_risk": False}).json()["total"] == 1
    actions = {
        e["action"] for e in admin.get("/api/v1/audit-events", params={"page_size": 100}).json()["items"]
    }
    assert "review.high_risk_cleared" in actions


def test_rules_are_checked_guarded_and_scoped(
    app_client: TestClient, container: Container, people: None
) -> None:
    mgr_hq, mgr_sh = client_for(app_client, "mgr_hq"), client_for(app_client, "mgr_sh")
    bad = [
        {**ELDERLY_RULE, "conditions": {}},  # matches nothing: refused
        {**ELDERLY_RULE, "conditions": {"checks_any": ["no_such_check"]}},
        {**ELDERLY_RULE, "notify_roles": ["no_such_role"]},
        {**ELDERLY_RULE, "conditions": {"risk_min": 101}},
        {**ELDERLY_RULE, "conditions": {"modes": ["video_call"]}},
    ]
    for body in bad:
        r = mgr_hq.post(RULES, json=body)
        assert r.status_code == 422, (body, r.text)
    # reviewers read the rules but do not edit them
    rev = client_for(app_client, "rev_bj")
    assert rev.post(RULES, json=ELDERLY_RULE).status_code == 403
    rule = mgr_hq.post(RULES, json=ELDERLY_RULE).json()
    # another branch's manager: the HQ rule is not found, neither to read nor to change
    assert mgr_sh.get(f"{RULES}/{rule['id']}").status_code == 404
    assert mgr_sh.put(f"{RULES}/{rule['id']}", json=ELDERLY_RULE).status_code == 404
    assert mgr_sh.get(RULES).json() == []
    assert [r["id"] for r in rev.get(RULES).json()] == []  # BJ sees rules of its subtree only
    # an SH manager cannot put a rule on HQ
    with container.uows() as uow:
        hq = uow.branches.by_code("HQ")
    assert hq is not None
    assert mgr_sh.post(RULES, json={**ELDERLY_RULE, "branch_id": hq.id}).status_code == 404


def test_daily_sampling_in_two_processes_samples_once(tmp_path: Path) -> None:
    """A server and a worker (two containers on one database, each with its own sampler) look at the
    same moment: each rule is sampled once for the day."""
    settings = make_settings(tmp_path / "data", review_sampling_enabled=False, webhook_enabled=False)
    first = build_container(settings, migrate=True)
    second = build_container(settings)
    try:
        seed_demo(first.uows, admin_username="admin", admin_password=ADMIN_PASSWORD)
        for verdict in ("FAIL", "FAIL", "REVIEW", "PASS"):
            add_recording(first, verdict=verdict, risk=10)
        assert first.review is not None and second.review is not None
        with first.uows() as uow:
            bj, hq = uow.branches.by_code("BJ"), uow.branches.by_code("HQ")
        assert bj is not None and hq is not None
        uid = user_id(first, "admin")
        p = Principal("user", uid, "admin", "admin", hq.id, hq.path, frozenset(Permission))
        actor = Actor(principal=p, meta=RequestMeta(user_agent="pytest"))
        for n in range(3):
            first.review.sampling.save_rule(
                actor=actor,
                rule_id=None,
                name=f"每日 {n}",
                enabled=True,
                branch_id=bj.id,
                filters=SampleFilters(),
                plan=SamplingPlan(rates={"FAIL": 100, "REVIEW": 100, "PASS": 100}),
                assignees=(),
            )
        # noon of the next local day: the due day is today, when the recordings finished
        sampling = first.review.sampling
        today = datetime.now(UTC).astimezone(sampling.zone).date()
        now = datetime.combine(today + timedelta(days=1), time(12), tzinfo=sampling.zone)
        runners = [
            SamplingScheduler(c.review.sampling, check_seconds=3600) for c in (first, second) if c.review
        ]
        start = threading.Barrier(len(runners))
        done: list[int] = []

        def go(s: SamplingScheduler) -> None:
            start.wait()
            done.extend(x.id for x in s._sampling.run_due(now))

        threads = [threading.Thread(target=go, args=(s,)) for s in runners]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        with first.uows() as uow:
            samples, total = uow.review.samples(scope_path="/", offset=0, limit=50)
        assert total == 3 == len(done)  # one run per rule, whoever got there first
        assert len({s.run_key for s in samples}) == 3
        assert sum(s.added for s in samples) == 4  # each recording once in the queue
    finally:
        first.close()
        second.close()


def test_the_worker_runs_the_daily_sampler_too(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", review_sampling_check_seconds=3600)
    build_container(settings, migrate=True).close()
    sampler = start_standalone_sampler(settings)
    try:
        assert sampler is not None and sampler.running
    finally:
        if sampler is not None:
            sampler.stop()
    off = make_settings(tmp_path / "data", review_sampling_in_worker=False)
    assert start_standalone_sampler(off) is None


def test_threshold_tuning_from_reviewers_decisions(
    app_client: TestClient, container: Container, people: None
) -> None:
    """Six black stretches raised at min_duration 2 s; the reviewer confirms 5, 8 and 3.5 s and
    overrules 2.1, 2.5 and 4 s: the statistics suggest 3.5 s (5 of 6 decisions agree, now 3) —
    the hand count of tests/unit/test_review_thresholds_and_rules.py."""
    words = {
        5.0: "confirm",
        8.0: "confirm",
        3.5: "confirm",
        2.1: "overrule",
        2.5: "overrule",
        4.0: "overrule",
    }
    for value in words:
        rid = add_recording(container, verdict="REVIEW", risk=20)
        measured = {
            "checks": [
                {
                    "id": "black_screen",
                    "title": "黑屏/遮挡 / Black or covered picture",
                    "findings": [
                        {
                            "severity": "major",
                            "message": f"黑屏 {value}s",
                            "start": 10.0,
                            "end": 10.0 + value,
                            "evidence": {},
                            "measure": {
                                "name": "min_duration",
                                "value": value,
                                "threshold": 2.0,
                                "raised_when": "above",
                            },
                        }
                    ],
                }
            ]
        }
        key = container.blobs.put(json.dumps(measured).encode(), content_type="application/json").key
        with container.uows() as uow:
            uow.recordings.update(rid, artifacts={"report": key})
            uow.commit()
    mgr = client_for(app_client, "mgr_hq")
    sample = mgr.post("/api/v1/review/samples", json={"plan": {"rates": {"REVIEW": 100}}}).json()
    rev = client_for(app_client, "rev_bj")
    items = rev.get("/api/v1/review/items", params={"sample_id": sample["id"], "page_size": 50}).json()[
        "items"
    ]
    assert len(items) == 6
    for item in items:
        (finding,) = item["findings"]
        assert finding["measure"]["value"] in words
        base = f"/api/v1/review/items/{item['id']}"
        assert rev.post(f"{base}/claim").status_code == 200
        action = words[finding["measure"]["value"]]
        body = {"action": action, **({"reason": "阴影不是黑屏"} if action == "overrule" else {})}
        assert rev.put(f"{base}/findings/{finding['key']}", json=body).status_code == 200
        r = rev.post(f"{base}/decision", json={"decision": "pass", "reason": "已核对"})
        assert r.status_code == 200, r.text

    (advice,) = mgr.get("/api/v1/review/thresholds").json()["checks"]
    assert advice["check_id"] == "black_screen" and advice["name"] == "min_duration"
    assert advice["check_title"].startswith("黑屏")
    assert (advice["current"], advice["best"]) == (2.0, 3.5)
    assert (advice["confirmed"], advice["overruled"]) == (3, 3)
    assert (advice["kept_confirmed"], advice["dropped_overruled"]) == (3, 2)
    assert (advice["agree_now"], advice["agree_best"]) == (3, 5)
    assert sum(b["confirmed"] + b["overruled"] for b in advice["bins"]) == 6
    # the SH manager's subtree has no reviewed findings
    assert client_for(app_client, "mgr_sh").get("/api/v1/review/thresholds").json() == {"checks": []}


@pytest.mark.parametrize("kind", ["sqlite", "postgresql", "mysql"])
def test_high_risk_rules_and_notices_on_every_database(kind: str, tmp_path: Path) -> None:
    """The flag's joins and filters (queue, sampling candidates), the notices' read marks and the
    run key of two samplers on SQLite, PostgreSQL and MariaDB."""
    from dualrec.core.high_risk import RuleConditions
    from dualrec.core.review import SampleFilters, SamplingPlan
    from dualrec.services.identity.users_cli import create_user_as_system
    from tests.services import isolated_database_url

    with isolated_database_url(kind, str(tmp_path)) as url:
        settings = make_settings(
            tmp_path / "data", database_url=url, review_sampling_enabled=False, webhook_enabled=False
        )
        c = build_container(settings, migrate=True)
        try:
            seed_demo(c.uows, admin_username="admin", admin_password=ADMIN_PASSWORD)
            create_user_as_system(
                c.uows,
                username="mgr",
                role="qc_manager",
                branch_code="BJ",
                display_name="mgr",
                password=PASSWORD,
            )
            with c.uows() as uow:
                hq, bj = uow.branches.by_code("HQ"), uow.branches.by_code("BJ")
            assert hq is not None and bj is not None
            admin = Actor(
                principal=Principal(
                    "user", user_id(c, "admin"), "admin", "admin", hq.id, hq.path, frozenset(Permission)
                ),
                meta=RequestMeta(user_agent="pytest"),
            )
            mgr = Actor(
                principal=Principal(
                    "user", user_id(c, "mgr"), "mgr", "qc_manager", bj.id, bj.path, frozenset(Permission)
                ),
                meta=RequestMeta(user_agent="pytest"),
            )
            assert c.review is not None
            hr = c.review.high_risk
            hr.save_rule(
                actor=admin,
                rule_id=None,
                name="高分",
                enabled=True,
                branch_id=None,
                conditions=RuleConditions(risk_min=60, checks_any=("silence",)),
                notify_roles=("qc_manager",),
            )
            hot = add_recording(c, verdict="FAIL", risk=80, findings={"silence": ["critical"]})
            cold = add_recording(c, verdict="REVIEW", risk=20, findings={"silence": ["major"]})
            for rid in (hot, cold):
                hr.evaluate(rid)
            flag = hr.flag_of(actor=mgr, recording_id=hot)
            assert flag is not None and flag.high_risk
            page = hr.notices(actor=mgr, unread_only=True, page=1, page_size=20)
            assert (page.total, page.unread) == (1, 1) and page.items[0].recording_id == hot
            assert hr.mark_read(actor=mgr, ids=None) == 1
            assert hr.notices(actor=mgr, unread_only=True, page=1, page_size=20).unread == 0
            sample = c.review.sampling.sample(
                actor=admin, filters=SampleFilters(), plan=SamplingPlan(high_risk_flagged=True)
            )
            assert list(sample.selected) == [hot]
            c.review.sampling.sample(
                actor=admin, filters=SampleFilters(), plan=SamplingPlan(rates={"REVIEW": 100})
            )
            flagged, n = c.review.reviews.queue(
                actor=admin,
                view="all",
                status=None,
                outcome=None,
                sample_id=None,
                page=1,
                page_size=20,
                high_risk=True,
            )
            assert n == 1 and flagged[0].recording_id == hot and flagged[0].high_risk
            _, n = c.review.reviews.queue(
                actor=admin,
                view="all",
                status=None,
                outcome=None,
                sample_id=None,
                page=1,
                page_size=20,
                high_risk=False,
            )
            assert n == 1
        finally:
            c.close()
