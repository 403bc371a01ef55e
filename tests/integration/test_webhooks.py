"""Signed webhooks against a real local HTTP receiver: retries with backoff, the delivery log,
signature and replay checks on the receiver's side, racing dispatchers, the admin API and re-send."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from dualrec.bootstrap.container import Container, build_container
from dualrec.core.identity import Principal
from dualrec.core.outbound import AllowList, IpAddress
from dualrec.core.rbac import Permission
from dualrec.core.webhooks import (
    SignatureMismatchError,
    TimestampOutOfToleranceError,
    WebhookDelivery,
    verify_webhook,
)
from dualrec.db.models import FlowRow, TaskRow
from dualrec.errors import InvalidInputError
from dualrec.services.common import outbound
from dualrec.services.common.context import Actor, RequestMeta
from dualrec.services.identity import apikeys
from dualrec.services.identity.seed import seed_demo
from dualrec.services.tasks import webhooks
from dualrec.settings import Settings
from tests.conftest import ADMIN_PASSWORD, login, make_settings
from tests.services import isolated_database_url, redis_db_url, require_service

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
LOCAL = AllowList.parse(["127.0.0.1"])  # the receivers listen on loopback: allowed like an operator would
FAST = webhooks.WebhookConfig(
    timeout_seconds=5, max_attempts=8, backoff_seconds=10, backoff_cap_seconds=3600, allow=LOCAL
)


# ---- a real receiver ---------------------------------------------------------------------------


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    answered: int


@dataclass
class Receiver:
    """Answers 500 to the first ``fail_first`` requests and 200 after; ``delay`` stalls each answer."""

    fail_first: int = 0
    delay: float = 0.0
    redirect_to: str = ""  # answer 302 to this location instead
    requests: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    @property
    def accepted(self) -> list[Received]:
        return [r for r in self.requests if r.answered == 200]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with state.lock:
                code = 500 if len(state.requests) < state.fail_first else 200
                state.requests.append(Received(dict(self.headers.items()), body, code))
            if state.delay:
                state.release.wait(state.delay)
            payload = b'{"error":"busy","internal":"db01.corp:5432"}' if code == 500 else b"ok"
            try:
                self.send_response(302 if state.redirect_to else code)
                if state.redirect_to:
                    self.send_header("Location", state.redirect_to)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:  # the client gave up (timeout test)
                pass

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/dualrec"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    state.release.set()
    server.shutdown()
    server.server_close()
    thread.join(5)


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/down"


# ---- data helpers --------------------------------------------------------------------------------


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """No background dispatcher: each test drives ``deliver_due`` with its own clock."""
    return make_settings(tmp_path / "data", webhook_enabled=False)


def system_admin(container: Container, branch_code: str = "HQ") -> Actor:
    with container.uows() as uow:
        branch = uow.branches.by_code(branch_code)
    assert branch is not None
    principal = Principal(
        kind="user",
        id=1,
        name="admin",
        role="admin",
        branch_id=branch.id,
        branch_path=branch.path,
        permissions=frozenset(Permission),
    )
    return Actor(principal=principal, meta=RequestMeta(user_agent="pytest"))


def make_key(container: Container, branch_code: str = "HQ") -> tuple[str, str]:
    actor = system_admin(container, branch_code)
    assert actor.principal is not None
    key = apikeys.create_api_key(
        container.uows,
        container.secretbox,
        actor=actor,
        name="核心系统",
        branch_id=actor.principal.branch_id,
        business_types=["wealth"],
    )
    return key.key_id, key.secret


def make_task(container: Container, source_key: str, url: str, branch_code: str = "HQ") -> str:
    task_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    with container.uows() as uow:
        branch = uow.branches.by_code(branch_code)
        assert branch is not None
        flow = FlowRow(
            code=f"f-{task_id[:8]}",
            name="理财销售",
            business_type="wealth",
            draft={},
            draft_updated_at=now,
            draft_updated_by="admin",
            latest_version=1,
            archived=False,
            created_at=now,
        )
        uow.session.add(flow)
        uow.session.flush()
        uow.session.add(
            TaskRow(
                id=task_id,
                source_key=source_key,
                idempotency_key=None,
                request_sha256="0" * 64,
                branch_id=branch.id,
                created_by=source_key,
                business_type="wealth",
                business_no="B-1",
                contract_no="C-1",
                product="稳健理财1号",
                amount="100000.00",
                customer_id="CUST-1",
                customer_name="张三",
                customer_type="individual",
                risk_level="R3",
                id_number_sealed="sealed",
                id_number_hash="0" * 64,
                phone_sealed="",
                documents=[],
                callback_url=url,
                mode="ai",
                flow_id=flow.id,
                flow_version=1,
                status="created",
                attempt_no=1,
                created_at=now,
                updated_at=now,
                finished_at=None,
            )
        )
        uow.commit()
    return task_id


def enqueue(container: Container, task_id: str, key_id: str, url: str, **kw: object) -> WebhookDelivery:
    with container.uows() as uow:
        d = webhooks.enqueue(
            uow,
            task_id=task_id,
            source_key=key_id,
            url=url,
            event=str(kw.pop("event", "task.status_changed")),
            payload={"task_id": task_id, "status": "passed", "previous_status": "qc", "at": T0},
            now=T0,
            **kw,  # type: ignore[arg-type]
        )
        uow.commit()
    assert d is not None
    return d


def deliver(container: Container, now: datetime, config: webhooks.WebhookConfig = FAST) -> int:
    with httpx.Client() as http:
        return webhooks.deliver_due(container.uows, container.secretbox, http, config=config, now=now)


def load(container: Container, delivery_id: str) -> WebhookDelivery:
    with container.uows() as uow:
        d = uow.webhooks.get(delivery_id)
    assert d is not None
    return d


# ---- delivery ------------------------------------------------------------------------------------


def test_failing_receiver_gets_it_once_with_a_valid_signature(
    container: Container, receiver: Receiver
) -> None:
    receiver.fail_first = 2
    key_id, secret = make_key(container)
    task_id = make_task(container, key_id, receiver.url)
    d = enqueue(container, task_id, key_id, receiver.url)

    assert deliver(container, T0) == 1  # try 1: 500
    first = load(container, d.id)
    assert (first.status, first.attempts, first.last_status_code) == ("pending", 1, 500)
    assert first.next_attempt_at == T0 + timedelta(seconds=10)
    assert deliver(container, T0 + timedelta(seconds=9)) == 0  # backing off
    assert deliver(container, T0 + timedelta(seconds=10)) == 1  # try 2: 500, next in 20 s
    assert load(container, d.id).next_attempt_at == T0 + timedelta(seconds=30)
    assert deliver(container, T0 + timedelta(seconds=29)) == 0
    assert deliver(container, T0 + timedelta(seconds=30)) == 1  # try 3: 200
    assert deliver(container, T0 + timedelta(hours=5)) == 0  # nothing more to send

    done = load(container, d.id)
    assert (done.status, done.attempts, done.last_status_code, done.last_error) == ("delivered", 3, 200, "")
    assert done.delivered_at == T0 + timedelta(seconds=30)
    assert [e["status_code"] for e in done.log] == [500, 500, 200]
    assert [e["attempt"] for e in done.log] == [1, 2, 3]
    assert done.log[0]["error"] == "HTTP 500"
    assert "busy" not in json.dumps(done.log) and "db01" not in json.dumps(done.log)  # no answer bodies

    assert len(receiver.requests) == 3 and len(receiver.accepted) == 1
    assert {r.headers["X-Dualrec-Delivery"] for r in receiver.requests} == {d.id}  # receivers dedupe on it
    got = receiver.accepted[0]
    assert got.headers["X-Dualrec-Event"] == "task.status_changed"
    assert got.headers["Content-Type"] == "application/json"
    ts = int(got.headers["X-Dualrec-Timestamp"])
    assert ts == int((T0 + timedelta(seconds=30)).timestamp())
    sig = got.headers["X-Dualrec-Signature"]
    verify_webhook(secret, timestamp_header=str(ts), signature_header=sig, body=got.body, now=ts + 2)
    sent = json.loads(got.body)
    assert sent["id"] == d.id and sent["task_id"] == task_id and sent["data"]["status"] == "passed"

    with pytest.raises(TimestampOutOfToleranceError):  # the same request replayed later
        verify_webhook(secret, timestamp_header=str(ts), signature_header=sig, body=got.body, now=ts + 301)
    with pytest.raises(SignatureMismatchError):  # a tampered body
        verify_webhook(
            secret,
            timestamp_header=str(ts),
            signature_header=sig,
            body=got.body.replace(b'"passed"', b'"failed"'),
            now=ts,
        )


def test_receiver_down_fails_after_max_attempts(container: Container) -> None:
    url = closed_port_url()
    key_id, _ = make_key(container)
    d = enqueue(container, make_task(container, key_id, url), key_id, url)
    config = webhooks.WebhookConfig(timeout_seconds=2, max_attempts=3, backoff_seconds=60, allow=LOCAL)
    tries = [deliver(container, T0 + timedelta(hours=i), config) for i in range(5)]
    assert tries == [1, 1, 1, 0, 0]
    failed = load(container, d.id)
    assert (failed.status, failed.attempts, failed.max_attempts) == ("failed", 3, 3)
    assert failed.next_attempt_at is None and failed.last_status_code is None
    assert len(failed.log) == 3
    assert all(e["status_code"] is None and "ConnectError" in e["error"] for e in failed.log)


def test_slow_receiver_is_a_timeout_in_the_log(container: Container, receiver: Receiver) -> None:
    receiver.delay = 5
    key_id, _ = make_key(container)
    d = enqueue(container, make_task(container, key_id, receiver.url), key_id, receiver.url)
    config = webhooks.WebhookConfig(timeout_seconds=0.5, max_attempts=4, backoff_seconds=10, allow=LOCAL)
    started = time.monotonic()
    assert deliver(container, T0, config) == 1
    assert time.monotonic() - started < 4
    slow = load(container, d.id)
    assert slow.status == "pending" and slow.next_attempt_at == T0 + timedelta(seconds=10)
    (entry,) = slow.log
    assert entry["error"].startswith("timeout after 0.5 s") and entry["status_code"] is None
    assert entry["ms"] >= 400


def test_revoked_key_fails_with_a_clear_error(container: Container, receiver: Receiver) -> None:
    key_id, _ = make_key(container)
    d = enqueue(container, make_task(container, key_id, receiver.url), key_id, receiver.url)
    apikeys.revoke_api_key(container.uows, actor=system_admin(container), key_id=key_id)
    assert deliver(container, T0) == 1
    failed = load(container, d.id)
    assert failed.status == "failed" and "revoked" in failed.last_error and key_id in failed.last_error
    assert receiver.requests == []


# ---- SSRF: where a callback URL may point ---------------------------------------------------------


@pytest.mark.parametrize(
    ("make_url", "kind"),
    [
        (lambda r: r.url, "loopback"),  # the receiver on 127.0.0.1: a stand-in for an internal service
        (lambda r: r.url.replace("127.0.0.1", "localhost"), "loopback"),  # a name resolving to loopback
        (lambda r: r.url.replace("127.0.0.1", "[::ffff:127.0.0.1]"), "loopback"),  # IPv4-mapped IPv6
        (lambda r: "http://169.254.169.254/latest/meta-data/iam/", "cloud metadata"),
        (lambda r: "http://10.1.2.3:8080/admin", "private"),
        (lambda r: "http://0.0.0.0:80/", "unspecified"),
    ],
)
def test_internal_destinations_are_refused_without_the_allow_list(
    container: Container, receiver: Receiver, make_url: Callable[[Receiver], str], kind: str
) -> None:
    url = make_url(receiver)
    key_id, _ = make_key(container)
    d = enqueue(container, make_task(container, key_id, url), key_id, url)
    config = webhooks.WebhookConfig(timeout_seconds=2, max_attempts=8)  # no DUALREC_OUTBOUND_ALLOW
    assert deliver(container, T0, config) == 1
    failed = load(container, d.id)
    assert (failed.status, failed.attempts, failed.last_status_code) == ("failed", 1, None)  # not retried
    assert kind in failed.last_error and "DUALREC_OUTBOUND_ALLOW" in failed.last_error
    assert receiver.requests == []  # nothing reached the internal address
    # an allow-list naming other networks does not open it either
    other = webhooks.WebhookConfig(allow=AllowList.parse(["192.0.2.0/24", "hooks.bank.example"]))
    d2 = enqueue(container, make_task(container, key_id, url), key_id, url)
    deliver(container, T0, other)
    assert load(container, d2.id).status == "failed" and receiver.requests == []


def test_a_redirect_to_an_internal_address_is_not_followed(container: Container, receiver: Receiver) -> None:
    receiver.redirect_to = "http://169.254.169.254/latest/meta-data/"
    key_id, _ = make_key(container)
    d = enqueue(container, make_task(container, key_id, receiver.url), key_id, receiver.url)
    assert deliver(container, T0) == 1
    got = load(container, d.id)
    assert got.status == "pending" and got.last_status_code == 302
    assert "redirects are not followed" in got.last_error and len(receiver.requests) == 1


def test_the_connection_goes_to_the_address_that_was_checked(
    container: Container, receiver: Receiver
) -> None:
    """The host is resolved once and checked; the request then goes to that address (with the name in
    the Host header), so a second, different DNS answer (rebinding) is never used."""
    port = receiver.url.split(":")[2].split("/")[0]
    url = f"http://hooks.bank.example:{port}/hooks/dualrec"  # not in any real DNS
    lookups: list[str] = []

    def resolver(host: str, _port: int) -> list[IpAddress]:
        lookups.append(host)
        from ipaddress import ip_address

        return [ip_address("127.0.0.1")]

    allow = AllowList.parse(["hooks.bank.example"])
    with (
        httpx.Client() as http,
        outbound.stream(http, "POST", url, allow, content=b"{}", resolver=resolver) as resp,
    ):
        assert resp.status_code == 200
    assert lookups == ["hooks.bank.example"]
    assert receiver.requests[0].headers["Host"] == f"hooks.bank.example:{port}"

    def mixed(host: str, _port: int) -> list[IpAddress]:  # one public, one internal answer
        from ipaddress import ip_address

        return [ip_address("93.184.215.14"), ip_address("127.0.0.1")]

    with (
        pytest.raises(outbound.OutboundRefusedError, match="loopback"),
        httpx.Client() as http,
        outbound.stream(http, "POST", url, AllowList(), content=b"{}", resolver=mixed),
    ):
        pass
    assert len(receiver.requests) == 1


def test_the_console_never_shows_the_receivers_answer(
    app_client: TestClient, container: Container, receiver: Receiver
) -> None:
    receiver.fail_first = 1
    key_id, _ = make_key(container)
    d = enqueue(container, make_task(container, key_id, receiver.url), key_id, receiver.url)
    deliver(container, T0)
    login(app_client, "admin", ADMIN_PASSWORD)
    r = app_client.get(f"/api/v1/webhook-deliveries/{d.id}")
    assert r.status_code == 200 and r.json()["log"][0]["status_code"] == 500
    assert "busy" not in r.text and "db01" not in r.text


@pytest.mark.parametrize(
    "url", ["ftp://hooks.bank.example/x", "http://user:pw@hooks.bank.example/x", "http:///nohost"]
)
def test_a_task_refuses_a_callback_url_with_credentials_or_another_scheme(
    app_client: TestClient, container: Container, url: str
) -> None:
    from dualrec.services.tasks.service import TaskRequest

    with pytest.raises(InvalidInputError, match="callback_url"):
        container.tasks.create(
            request=TaskRequest(
                customer_id="C-1",
                customer_name="张三",
                id_number="11010519491231002X",
                customer_type="individual",
                risk_level="R3",
                business_type="wealth",
                business_no="B-9",
                callback_url=url,
            ),
            actor=system_admin(container),
        )


def test_enqueue_skips_console_tasks_and_missing_urls(container: Container, receiver: Receiver) -> None:
    key_id, _ = make_key(container)
    task_id = make_task(container, key_id, receiver.url)
    with container.uows() as uow:
        for source_key, url, event in [("user:1", receiver.url, "task.result"), (key_id, "", "task.result")]:
            queued = webhooks.enqueue(
                uow, task_id=task_id, source_key=source_key, url=url, event=event, payload={}
            )
            assert queued is None
        with pytest.raises(InvalidInputError):
            webhooks.enqueue(uow, task_id=task_id, source_key=key_id, url=receiver.url, event="x", payload={})
        assert uow.webhooks.list(scope_path="/")[1] == 0


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def db_container(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Container]:
    with isolated_database_url(request.param, str(tmp_path)) as url:
        settings = make_settings(tmp_path / "data", database_url=url, webhook_enabled=False)
        container = build_container(settings, migrate=True)
        try:
            seed_demo(container.uows, admin_username="admin", admin_password=ADMIN_PASSWORD)
            yield container
        finally:
            container.close()


def test_a_stale_candidate_is_not_claimed_twice(db_container: Container, receiver: Receiver) -> None:
    """Dispatcher B selects the due rows while A's lease is not yet committed: B's guarded UPDATE
    waits for A and then matches nothing (PostgreSQL, MariaDB); SQLite serialises the two."""
    key_id, _ = make_key(db_container)
    ids = sorted(
        enqueue(db_container, make_task(db_container, key_id, receiver.url), key_id, receiver.url).id
        for _ in range(2)
    )
    claimed_by_b: list[list[str]] = []

    def dispatcher_b() -> None:
        with db_container.uows() as uow:
            claimed_by_b.append([d.id for d in uow.webhooks.claim_due(T0, 60, 10)])
            uow.commit()

    with db_container.uows() as a:
        assert sorted(d.id for d in a.webhooks.claim_due(T0, 60, 10)) == ids
        b = threading.Thread(target=dispatcher_b)
        b.start()
        time.sleep(0.5)  # B has read the candidates and now waits for A's row locks
        a.commit()
    b.join(30)
    assert claimed_by_b == [[]]
    with db_container.uows() as uow:  # once the lease has run out, the rows are due again
        assert sorted(d.id for d in uow.webhooks.claim_due(T0 + timedelta(seconds=61), 60, 10)) == ids


def test_racing_dispatchers_send_each_delivery_once(db_container: Container, receiver: Receiver) -> None:
    container = db_container
    key_id, secret = make_key(container)
    ids = [
        enqueue(container, make_task(container, key_id, receiver.url), key_id, receiver.url).id
        for _ in range(3)
    ]
    gate = threading.Barrier(4)
    counts: list[int] = []
    errors: list[BaseException] = []

    def dispatcher() -> None:
        try:
            gate.wait(10)
            counts.append(deliver(container, T0))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=dispatcher) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert sum(counts) == 3
    assert sorted(r.headers["X-Dualrec-Delivery"] for r in receiver.requests) == sorted(ids)
    for delivery_id in ids:
        d = load(container, delivery_id)
        assert (d.status, d.attempts, len(d.log)) == ("delivered", 1, 1)
    for r in receiver.requests:
        ts = r.headers["X-Dualrec-Timestamp"]
        verify_webhook(
            secret,
            timestamp_header=ts,
            signature_header=r.headers["X-Dualrec-Signature"],
            body=r.body,
            now=int(ts),
        )


def test_dispatcher_thread_delivers_and_stops(tmp_path: Path, receiver: Receiver) -> None:
    settings = make_settings(
        tmp_path / "data", webhook_enabled=True, webhook_poll_seconds=0.05, outbound_allow=["127.0.0.1"]
    )
    container = build_container(settings, migrate=True)
    try:
        seed_demo(container.uows, admin_username="admin", admin_password=ADMIN_PASSWORD)
        key_id, _ = make_key(container)
        task_id = make_task(container, key_id, receiver.url)
        with container.uows() as uow:
            d = webhooks.enqueue(
                uow, task_id=task_id, source_key=key_id, url=receiver.url, event="task.result", payload={}
            )
            uow.commit()
        assert d is not None
        container.start()
        deadline = time.monotonic() + 10
        while not receiver.accepted and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(receiver.requests) == 1
        assert receiver.requests[0].headers["X-Dualrec-Event"] == "task.result"
    finally:
        container.close()
    assert not any(t.name == "dualrec-webhooks" for t in threading.enumerate())
    assert load_after_close(settings, d.id).status == "delivered"


def test_worker_process_runs_a_dispatcher(tmp_path: Path, receiver: Receiver) -> None:
    """``dualrec worker`` sends due webhooks too (its own dispatcher beside the Celery pool)."""
    require_service("redis")
    settings = make_settings(tmp_path / "data", webhook_enabled=False)
    container = build_container(settings, migrate=True)
    try:
        seed_demo(container.uows, admin_username="admin", admin_password=ADMIN_PASSWORD)
        key_id, _ = make_key(container)
        d = enqueue(container, make_task(container, key_id, receiver.url), key_id, receiver.url)
    finally:
        container.close()
    env = {
        **os.environ,
        "DUALREC_ENV": "test",
        "DUALREC_DATA_DIR": str(tmp_path / "data"),
        "DUALREC_JOB_BACKEND": "celery",
        "DUALREC_CELERY_BROKER_URL": redis_db_url(2),
        "DUALREC_CELERY_RESULT_BACKEND": redis_db_url(3),
        "DUALREC_WEBHOOK_POLL_SECONDS": "0.2",
        "DUALREC_OUTBOUND_ALLOW": "127.0.0.1",
    }
    argv = [sys.executable, "-c", "from dualrec.cli.main import app; app()", "worker"]
    # the default prefork pool: Celery forks its pool processes beside the dispatcher thread
    argv += ["--concurrency", "1", "--queue", f"wh-{uuid.uuid4().hex[:8]}"]
    log = tmp_path / "worker.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        status = "pending"
        while status == "pending" and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
            status = load_after_close(settings, d.id).status
        assert status == "delivered", log.read_text(errors="replace")[-3000:]
        assert len(receiver.requests) == 1
        assert receiver.requests[0].headers["X-Dualrec-Delivery"] == d.id
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def load_after_close(settings: Settings, delivery_id: str) -> WebhookDelivery:
    c = build_container(settings, with_jobs=False)
    try:
        return load(c, delivery_id)
    finally:
        c.close()


# ---- admin API -----------------------------------------------------------------------------------


def test_admin_sees_the_log_and_resends(
    app_client: TestClient, container: Container, receiver: Receiver, make_user: Callable[..., str]
) -> None:
    url = closed_port_url()
    key_id, secret = make_key(container)
    task_id = make_task(container, key_id, url)
    d = enqueue(container, task_id, key_id, url, max_attempts=2)
    other = enqueue(container, make_task(container, key_id, receiver.url), key_id, receiver.url)
    deliver(container, T0)
    deliver(container, T0 + timedelta(minutes=5))
    assert load(container, d.id).status == "failed"
    assert load(container, other.id).status == "delivered"

    login(app_client, "admin", ADMIN_PASSWORD)
    page = app_client.get("/api/v1/webhook-deliveries", params={"status": "failed"}).json()
    assert page["total"] == 1 and page["items"][0]["id"] == d.id
    assert page["items"][0]["attempts"] == 2 and "ConnectError" in page["items"][0]["last_error"]
    by_task = app_client.get("/api/v1/webhook-deliveries", params={"task_id": task_id}).json()
    assert [i["id"] for i in by_task["items"]] == [d.id]
    assert app_client.get("/api/v1/webhook-deliveries").json()["total"] == 2

    detail = app_client.get(f"/api/v1/webhook-deliveries/{d.id}").json()
    assert detail["payload"]["data"]["status"] == "passed" and detail["payload"]["id"] == d.id
    assert [e["attempt"] for e in detail["log"]] == [1, 2]

    # the business system fixed its endpoint: point the task's deliveries at the receiver and re-send
    with container.uows() as uow:
        from dualrec.db.models import WebhookDeliveryRow

        uow.session.get_one(WebhookDeliveryRow, d.id).url = receiver.url
        uow.commit()
    r = app_client.post(f"/api/v1/webhook-deliveries/{d.id}/resend")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "pending" and r.json()["max_attempts"] == 2 + 8
    assert deliver(container, datetime.now(UTC)) == 1
    after = app_client.get(f"/api/v1/webhook-deliveries/{d.id}").json()
    assert after["status"] == "delivered" and after["attempts"] == 3
    assert [e["status_code"] for e in after["log"]] == [None, None, 200]  # the log is kept
    sent = receiver.requests[-1]
    assert sent.headers["X-Dualrec-Delivery"] == d.id
    verify_webhook(
        secret,
        timestamp_header=sent.headers["X-Dualrec-Timestamp"],
        signature_header=sent.headers["X-Dualrec-Signature"],
        body=sent.body,
        now=time.time(),
    )
    events = app_client.get("/api/v1/audit-events", params={"action": "webhook.resent"}).json()["items"]
    assert len(events) == 1 and events[0]["target_id"] == d.id and events[0]["actor"] == "admin"
    assert events[0]["details"]["previous_status"] == "failed"

    assert app_client.get(f"/api/v1/webhook-deliveries/{uuid.uuid4()}").status_code == 404
    assert app_client.post(f"/api/v1/webhook-deliveries/{uuid.uuid4()}/resend").status_code == 404

    # a non-admin gets 403 everywhere; an admin of another branch does not see HQ's deliveries
    app_client.post("/api/v1/auth/logout")
    make_user("auditor1", "auditor")
    login(app_client, "auditor1")
    for method, path in [
        ("GET", "/api/v1/webhook-deliveries"),
        ("GET", f"/api/v1/webhook-deliveries/{d.id}"),
        ("POST", f"/api/v1/webhook-deliveries/{d.id}/resend"),
    ]:
        r = app_client.request(method, path)
        assert r.status_code == 403 and r.json()["permission"] == "apikeys:manage"
        assert d.id not in r.text
    app_client.post("/api/v1/auth/logout")
    make_user("bj_admin", "admin", "BJ")
    login(app_client, "bj_admin")
    assert app_client.get("/api/v1/webhook-deliveries").json()["total"] == 0
    assert app_client.get(f"/api/v1/webhook-deliveries/{d.id}").status_code == 404
    assert app_client.post(f"/api/v1/webhook-deliveries/{d.id}/resend").status_code == 404
