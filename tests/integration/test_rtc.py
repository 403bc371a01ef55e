"""Remote interviews on a real Janus (Debian's `janus`): the configuration dualrec writes, the
supervision (Janus killed → started again), and who may join which room: only the participants
dualrec authenticated, each only in its own task attempt's room; forged tokens refused; the Admin
API bound to loopback only and never forwarded by the app.

Janus runs on 127.0.0.1 here and no media flows (the e2e test sends media, inside a network
namespace). Without the `janus` binary these tests skip; under CI=true they fail.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import shutil
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from dualrec.api.app import create_app
from dualrec.bootstrap.container import Container, build_container
from dualrec.bootstrap.rtc import build_rtc, rtc_options
from dualrec.services.identity.seed import seed_demo
from dualrec.services.rtc.janus_api import JanusApi, JanusError
from dualrec.services.rtc.janus_config import load_or_create_secrets, write_janus_config
from dualrec.services.rtc.supervisor import JanusSupervisor
from dualrec.settings import Settings
from tests.conftest import ADMIN_PASSWORD, PASSWORD, login, make_settings
from tests.integration.test_flows_tasks_api import CUSTOMER, Signed, system

__all__ = ["system"]

FLOW: dict[str, Any] = {
    "mode": "human",
    "nodes": [
        {
            "id": "risk",
            "type": "risk_disclosure",
            "title": "风险告知",
            "script": "本产品不保本，投资有风险。",
        },
        {"id": "end", "type": "end", "title": "结束", "script": "录制完成。"},
    ],
}


def _need_janus() -> None:
    if shutil.which("janus") is None or shutil.which("janus-pp-rec") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("janus / janus-pp-rec missing in CI: `make apt` installs them (janus janus-tools)")
        pytest.skip("janus not installed (apt-get install janus janus-tools)")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _rtc_settings(data_dir: Path) -> Settings:
    low = 30000 + (os.getpid() % 500) * 40
    return make_settings(
        data_dir,
        rtc_enabled=True,
        rtc_http_port=_free_port(),
        rtc_admin_port=_free_port(),
        rtc_rtp_ports=f"{low}-{low + 39}",
    )


@pytest.fixture
def rtc_settings(tmp_path: Path) -> Settings:
    _need_janus()
    return _rtc_settings(tmp_path / "data")


@pytest.fixture
def janus(rtc_settings: Settings) -> Iterator[JanusSupervisor]:
    sup = JanusSupervisor(rtc_options(rtc_settings), backoff_initial=0.2, backoff_cap=1.0)
    sup.start()
    try:
        assert sup.wait_ready(30), rtc_options(rtc_settings).paths.log_file.read_text()[-3000:]
        yield sup
    finally:
        sup.stop()


def _sign(secret: str, data: str) -> str:
    return (
        f"{data}:{base64.b64encode(hmac.new(secret.encode(), data.encode(), hashlib.sha1).digest()).decode()}"
    )


def _listeners(port: int) -> set[str]:
    """Local addresses listening on TCP ``port`` (from /proc/net/tcp: little-endian hex IPv4)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        addr, hexport = local.split(":")
        if state == "0A" and int(hexport, 16) == port:
            found.add(socket.inet_ntoa(bytes.fromhex(addr)[::-1]))
    return found


def test_the_configuration_loads_only_videoroom_and_http_with_tokens_on(
    rtc_settings: Settings, janus: JanusSupervisor
) -> None:
    opts = rtc_options(rtc_settings)
    paths = opts.paths
    for f in (paths.secrets_file, *paths.config_dir.glob("*.jcfg")):
        assert f.stat().st_mode & 0o777 == 0o600, f
    assert sorted(p.name for p in paths.config_dir.glob("*.jcfg")) == [
        "janus.jcfg",
        "janus.plugin.videoroom.jcfg",
        "janus.transport.http.jcfg",
    ]
    secrets = load_or_create_secrets(paths.secrets_file)
    info = httpx.get(f"{opts.janus_url}/info", timeout=5).json()
    assert list(info["plugins"]) == ["janus.plugin.videoroom"]
    assert list(info["transports"]) == ["janus.transport.http"]
    assert info["auth_token"] is True and info["api_secret"] is True
    # the Janus API on the configured address only, the Admin API on loopback only
    assert _listeners(opts.http_port) == {"127.0.0.1"}
    assert _listeners(opts.admin_port) == {"127.0.0.1"}
    # nothing without a credential, nothing with a token signed by another key
    assert httpx.post(opts.janus_url, json={"janus": "create", "transaction": "t"}).json()["janus"] == "error"
    forged = _sign("not-the-secret", f"{int(time.time()) + 600},janus,janus.plugin.videoroom")
    answer = httpx.post(opts.janus_url, json={"janus": "create", "transaction": "t", "token": forged}).json()
    assert answer["error"]["code"] == 403
    # rooms are created only with the VideoRoom admin key
    api = JanusApi(opts.janus_url, secrets.api_secret)
    with api, api.videoroom() as vr, pytest.raises(JanusError, match="admin_key"):
        vr.request({"request": "create", "room": 4242})
    # the Admin API answers on loopback with its secret only
    listing = {"janus": "list_sessions", "transaction": "t"}
    assert httpx.post(opts.admin_url, json=listing).json()["janus"] == "error"
    listing["admin_secret"] = secrets.admin_secret
    assert httpx.post(opts.admin_url, json=listing).json()["janus"] == "success"
    # `dualrec doctor` sees it
    from dualrec.bootstrap.doctor import run_doctor

    found = {f.name: f for f in run_doctor(rtc_settings) if f.area == "rtc"}
    assert found["janus api"].ok and "janus.plugin.videoroom" in found["janus api"].detail, found
    assert "token auth on" in found["janus api"].detail and found["janus-pp-rec"].ok
    assert "version" in found["janus-pp-rec"].detail.lower(), found["janus-pp-rec"]  # not "Unknown option"
    # writing the configuration again keeps the secrets
    write_janus_config(opts)
    assert load_or_create_secrets(paths.secrets_file) == secrets


def test_a_secrets_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    load_or_create_secrets(path)
    path.chmod(0o644)
    with pytest.raises(Exception, match="readable by others"):
        load_or_create_secrets(path)


def test_janus_killed_is_started_again_and_stops_with_its_owner(
    rtc_settings: Settings, janus: JanusSupervisor
) -> None:
    first = janus.pid
    assert first is not None
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (janus.pid in (None, first)):
        time.sleep(0.1)
    second = janus.pid
    assert second is not None and second != first
    assert janus.state.starts == 2 and janus.state.last_exit == -signal.SIGKILL
    assert janus.wait_ready(20)
    janus.stop()
    with pytest.raises(ProcessLookupError):
        os.kill(second, 0)
    assert janus.pid is None


# ---- rooms and access through the API ------------------------------------------------------------


@pytest.fixture
def rtc_container(rtc_settings: Settings, janus: JanusSupervisor) -> Iterator[Container]:
    c = build_container(rtc_settings, migrate=True)
    seed_demo(c.uows, admin_username="admin", admin_password=ADMIN_PASSWORD)
    assert c.rtc is not None
    yield c
    c.close()


@pytest.fixture
def app_client(rtc_settings: Settings, rtc_container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(rtc_settings, container=rtc_container)) as client:
        yield client


@pytest.fixture
def container(rtc_container: Container) -> Container:
    return rtc_container  # for the `system` fixture (the business system's API key, branch BJ)


def _setup_flows(admin: TestClient) -> None:
    for code, mode in (("wm-remote", "human"), ("wm-self", "self_service")):
        definition = {**FLOW, "mode": mode}
        r = admin.post(
            "/api/v1/flows",
            json={"code": code, "name": code, "business_type": "wealth", "definition": definition},
        )
        assert r.status_code == 201, r.text
        assert admin.post(f"/api/v1/flows/{code}/publish", json={}).status_code == 201
    rules = [
        {
            "name": "老年客户人工",
            "priority": 10,
            "flow_code": "wm-remote",
            "mode": "human",
            "customer_types": ["elderly"],
        },
        {"name": "默认", "priority": 100, "flow_code": "wm-self", "business_types": ["wealth"]},
    ]
    assert admin.put("/api/v1/routing-rules", json={"rules": rules}).status_code == 200


def _task(system: Signed, business_no: str, customer_type: str = "elderly") -> tuple[str, str]:
    body = {**CUSTOMER, "business_no": business_no, "customer_type": customer_type, "callback_url": ""}
    r = system.call("POST", "/api/v1/tasks", body)
    assert r.status_code == 201, r.text
    return r.json()["id"], r.json()["entry_url"].rsplit("/h5/", 1)[1]


class Browser:
    """What a participant's page does with its grant: Janus through the app's proxy."""

    def __init__(self, client: TestClient, grant: dict[str, Any]) -> None:
        self.client, self.grant = client, grant
        self.path = grant["janus_path"]
        assert self.path == "/api/v1/rtc/janus"

    def post(self, suffix: str, body: dict[str, Any]) -> dict[str, Any]:
        r = self.client.post(
            f"{self.path}{suffix}", json={**body, "transaction": "x", "token": self.grant["core_token"]}
        )
        assert r.status_code == 200, r.text
        data: dict[str, Any] = r.json()
        return data

    def handle(self) -> str:
        session = self.post("", {"janus": "create"})["data"]["id"]
        handle = self.post(f"/{session}", {"janus": "attach", "plugin": "janus.plugin.videoroom"})["data"][
            "id"
        ]
        return f"/{session}/{handle}"

    def send(self, handle: str, body: dict[str, Any]) -> Any:
        """A VideoRoom request through the proxy: the raw HTTP answer."""
        return self.client.post(
            f"{self.path}{handle}",
            json={"janus": "message", "body": body, "transaction": "x", "token": self.grant["core_token"]},
            headers={"Accept-Language": "en"},  # the reasons below are read in English
        )

    def join(
        self, room: int, room_token: str, feed: int | None = None, ptype: str = "publisher"
    ) -> dict[str, Any]:
        handle = self.handle()
        body: dict[str, Any] = {"request": "join", "ptype": ptype, "room": room, "token": room_token}
        if ptype == "publisher":
            body["display"] = "x"
        else:
            body["streams"] = [{"feed": feed}]
        if feed is not None and ptype == "publisher":
            body["id"] = feed
        r = self.send(handle, body)
        assert r.status_code == 200, r.text
        session = handle.split("/")[1]
        events = self.client.get(
            f"{self.path}/{session}", params={"maxev": 5, "token": self.grant["core_token"], "rid": 1}
        ).json()
        for event in events:
            data = (event.get("plugindata") or {}).get("data") or {}
            if data:
                return dict(data)
        raise AssertionError(f"no VideoRoom answer: {events}")

    def refused(self, body: dict[str, Any]) -> str:
        """The proxy refuses this VideoRoom request (403) before Janus sees it: the reason."""
        r = self.send(self.handle(), body)
        assert r.status_code == 403, r.text
        return str(r.json().get("detail") or r.text)


def _direct_join(settings: Settings, grant: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """The same request straight to Janus (no proxy): what Janus itself says."""
    url = rtc_options(settings).janus_url
    tok = grant["core_token"]
    session = httpx.post(url, json={"janus": "create", "transaction": "x", "token": tok}).json()["data"]["id"]
    attach = {"janus": "attach", "plugin": "janus.plugin.videoroom", "transaction": "x", "token": tok}
    handle = httpx.post(f"{url}/{session}", json=attach).json()["data"]["id"]
    httpx.post(
        f"{url}/{session}/{handle}", json={"janus": "message", "body": body, "transaction": "x", "token": tok}
    )
    events = httpx.get(f"{url}/{session}", params={"maxev": 5, "token": tok, "rid": 1}, timeout=35).json()
    for event in events:
        data = (event.get("plugindata") or {}).get("data") or {}
        if data:
            return dict(data)
    raise AssertionError(f"no VideoRoom answer: {events}")


def test_only_dualrec_grants_access_and_each_grant_opens_only_its_own_room(
    app_client: TestClient, system: Signed, make_user: Any
) -> None:
    admin = login(TestClient(app_client.app), "admin", ADMIN_PASSWORD)
    _setup_flows(admin)
    task_a, link_a = _task(system, "WM-RTC-A")
    _task_b, link_b = _task(system, "WM-RTC-B")
    task_self, link_self = _task(system, "WM-SELF", customer_type="personal")

    make_user("agent_bj", "interviewer", "BJ")
    make_user("agent_sh", "interviewer", "SH")
    make_user("auditor_bj", "auditor", "BJ")
    agent = login(TestClient(app_client.app), "agent_bj", PASSWORD)
    customer = TestClient(app_client.app)  # no cookie: the link token is its only credential

    # the customer's page learns it is a human interview
    assert customer.get(f"/api/v1/rtc/entry/{link_a}").json()["human"] is True
    assert customer.get(f"/api/v1/rtc/entry/{link_self}").json()["human"] is False

    a_agent = agent.post(f"/api/v1/rtc/tasks/{task_a}/join")
    assert a_agent.status_code == 200, a_agent.text
    ga = a_agent.json()
    assert ga["role"] == "agent" and ga["business_no"] == "WM-RTC-A"
    assert agent.get(f"/api/v1/tasks/{task_a}").json()["status"] == "in_progress"
    # the customer's page queues; the agent already took the call (joining accepts it)
    assert customer.post(f"/api/v1/rtc/entry/{link_a}/queue").json()["status"] == "accepted"
    a_customer = customer.post(f"/api/v1/rtc/entry/{link_a}/join").json()
    assert a_customer["room"] == ga["room"] and a_customer["feed_id"] != ga["feed_id"]
    assert a_customer["peer_feed_id"] == ga["feed_id"] and a_customer["business_no"] == ""
    # customer B waits until an agent accepts them from the queue
    assert customer.post(f"/api/v1/rtc/entry/{link_b}/join").status_code == 409
    assert customer.post(f"/api/v1/rtc/entry/{link_b}/queue").json()["status"] == "waiting"
    assert agent.post("/api/v1/rtc/queue/accept-next").json()["task_id"] == _task_b
    b_customer = customer.post(f"/api/v1/rtc/entry/{link_b}/join").json()
    assert b_customer["room"] != ga["room"]

    # each grant joins its own room through the proxy, as its own feed ...
    joined = Browser(customer, a_customer).join(
        a_customer["room"], a_customer["room_token"], a_customer["feed_id"]
    )
    assert joined["videoroom"] == "joined" and joined["id"] == a_customer["feed_id"]
    a_page = Browser(customer, a_customer)
    # ... never as the agent's feed (nor without a feed id: Janus would pick one) ...
    as_agent = {
        "request": "join",
        "ptype": "publisher",
        "room": ga["room"],
        "token": a_customer["room_token"],
    }
    assert "feed" in a_page.refused({**as_agent, "id": ga["feed_id"]})
    a_page.refused(as_agent)
    a_page.refused({**as_agent, "request": "joinandconfigure", "id": ga["feed_id"]})
    # ... but it may subscribe to the agent's feed in its own room
    sub = a_page.join(a_customer["room"], a_customer["room_token"], ga["feed_id"], ptype="subscriber")
    assert sub.get("error_code") != 433, sub  # let through; Janus: no such feed yet (nobody publishes)
    # ... and never another attempt's room: customer B's room token does not open room A
    b_page = Browser(customer, b_customer)
    into_a = {"request": "join", "ptype": "publisher", "room": ga["room"], "token": b_customer["room_token"]}
    assert "another room" in b_page.refused({**into_a, "id": b_customer["feed_id"]})
    # (and Janus itself refuses it too, should the proxy be bypassed)
    direct = _direct_join(app_client.app.state.container.settings, b_customer, {**into_a, "id": 1})
    assert direct.get("error_code") == 433, direct
    # a forged room token (right shape, wrong key) is refused, by the proxy and by Janus
    forged = _sign("guess", f"{int(time.time()) + 600},janus.plugin.videoroom,room={ga['room']}")
    b_page.refused({**into_a, "token": forged, "id": 5})
    direct = _direct_join(app_client.app.state.container.settings, b_customer, {**into_a, "token": forged})
    assert direct.get("error_code") == 433, direct
    # a token that names the agent's feed, signed by anybody but dualrec, is refused
    fake = _sign(
        "guess", f"{int(time.time()) + 600},janus.plugin.videoroom,room={ga['room']},feed={ga['feed_id']}"
    )
    b_page.refused({**into_a, "token": fake, "id": ga["feed_id"]})
    # room management through the proxy is refused whatever the body says
    for request in ("create", "destroy", "kick", "listparticipants", "rtp_forward", "enable_recording"):
        b_page.refused({"request": request, "room": ga["room"]})
    # a forged core token cannot even open a Janus session through the proxy (it names no node
    # dualrec signed for: refused before any Janus sees it), nor can no token
    core = f"{int(time.time()) + 600},janus,janus.plugin.videoroom"
    for token in (_sign("guess", core), _sign("guess", f"{core},node=local"), None):
        bad = customer.post("/api/v1/rtc/janus", json={"janus": "create", "transaction": "x", "token": token})
        assert bad.status_code == 403, bad.text
    assert ga["node"] == "local" and ga["core_token"].split(":")[0].endswith(",node=local")

    # the customer link is the only customer credential: forged/other links are refused
    assert customer.post("/api/v1/rtc/entry/forged-link-token-xxxx/join").status_code == 401
    # a self-service task has no call
    assert customer.post(f"/api/v1/rtc/entry/{link_self}/join").status_code == 409
    assert agent.post(f"/api/v1/rtc/tasks/{task_self}/join").status_code == 409
    # another branch's agent does not see the task; a role without interview:conduct is refused
    other = login(TestClient(app_client.app), "agent_sh", PASSWORD)
    assert other.post(f"/api/v1/rtc/tasks/{task_a}/join").status_code == 404
    auditor = login(TestClient(app_client.app), "auditor_bj", PASSWORD)
    denied = auditor.post(f"/api/v1/rtc/tasks/{task_a}/join")
    assert denied.status_code == 403 and "interview:conduct" in denied.text

    # the proxy forwards the Janus API only: no admin requests, no other verbs, numeric paths only
    for verb in ("info", "list_sessions", "add_token", "ping"):
        r = customer.post("/api/v1/rtc/janus", json={"janus": verb, "transaction": "x", "admin_secret": "x"})
        assert r.status_code == 422, (verb, r.text)
    assert customer.post("/api/v1/rtc/janus/admin", json={"janus": "ping"}).status_code == 422

    # hanging up ends the call: the task goes to QC, joining again is refused
    r = agent.post(f"/api/v1/rtc/tasks/{task_a}/hangup")
    assert r.status_code == 200, r.text
    assert agent.get(f"/api/v1/tasks/{task_a}").json()["status"] == "qc"
    assert customer.post(f"/api/v1/rtc/entry/{link_a}/join").status_code == 409
    events = admin.get("/api/v1/audit-events", params={"action": "rtc.joined"}).json()["items"]
    assert [e["target_id"] for e in events] == [task_a]


def _events(page: Browser, session: str, wait_for: str, rounds: int = 5) -> list[dict[str, Any]]:
    """The VideoRoom events of ``session`` (long polls) until one carries the key ``wait_for``."""
    seen: list[dict[str, Any]] = []
    for rid in range(rounds):
        events = page.client.get(
            f"{page.path}/{session}", params={"maxev": 5, "token": page.grant["core_token"], "rid": rid}
        ).json()
        seen += [(e.get("plugindata") or {}).get("data") or {} for e in events]
        if any(wait_for in d for d in seen):
            return seen
    raise AssertionError(f"no {wait_for!r} event: {seen}")


def test_a_party_that_joins_again_replaces_its_earlier_connection(
    app_client: TestClient, system: Signed, make_user: Any
) -> None:
    """A phone that lost its network leaves its publisher in the room (until Janus' session timeout)
    and Janus refuses a second publisher with the same id: the customer's new join removes the old
    connection, which is told it was replaced; the agent sees the customer leave."""
    admin = login(TestClient(app_client.app), "admin", ADMIN_PASSWORD)
    _setup_flows(admin)
    task, link = _task(system, "WM-RTC-R")
    make_user("agent_bj", "interviewer", "BJ")
    agent = login(TestClient(app_client.app), "agent_bj", PASSWORD)
    ga = agent.post(f"/api/v1/rtc/tasks/{task}/join").json()
    customer = TestClient(app_client.app)
    assert customer.post(f"/api/v1/rtc/entry/{link}/queue").json()["status"] == "accepted"

    def publish(page: Browser) -> str:
        """Joins the room as the grant's own feed; the Janus session's path."""
        g = page.grant
        handle = page.handle()
        body = {"request": "join", "ptype": "publisher", "room": g["room"], "token": g["room_token"]}
        assert page.send(handle, {**body, "id": g["feed_id"], "display": "x"}).status_code == 200
        session = handle.split("/")[1]
        assert any(d.get("videoroom") == "joined" for d in _events(page, session, "videoroom")), session
        return session

    agent_page = Browser(agent, ga)
    agent_session = publish(agent_page)
    old = Browser(customer, customer.post(f"/api/v1/rtc/entry/{link}/join").json())
    old_session = publish(old)
    # the phone is gone without a word; the same link joins again from a new page
    new = Browser(customer, customer.post(f"/api/v1/rtc/entry/{link}/join").json())
    assert new.grant["feed_id"] == old.grant["feed_id"]
    publish(new)  # Janus would answer 436 (ID exists) had the old publisher stayed
    # the old connection was told why it left; the agent saw the customer's old connection go
    told = _events(old, old_session, "leaving")
    assert {"leaving": "ok", "reason": "kicked"}.items() <= next(d for d in told if "leaving" in d).items(), (
        told
    )
    seen = _events(agent_page, agent_session, "kicked")
    print("agent saw:", seen)
    assert any(d.get("kicked") == old.grant["feed_id"] for d in seen), seen


def test_without_rtc_enabled_the_api_says_so(app_client: TestClient) -> None:
    """The default (DUALREC_RTC_ENABLED=false) app: the routes answer 404 with the reason."""
    settings = make_settings(Path(app_client.app.state.container.settings.data_dir).parent / "off")
    c = build_container(settings, migrate=True)
    try:
        assert build_rtc(settings, c.uows, c.tasks, lambda: c.queue) is None and c.rtc is None
        with TestClient(create_app(settings, container=c)) as client:
            r = client.post("/api/v1/rtc/janus", json={"janus": "create", "transaction": "x"})
            assert r.status_code == 404 and "DUALREC_RTC_ENABLED" in r.text
    finally:
        c.close()


@pytest.mark.slow
def test_dualrec_serve_runs_janus_when_enabled_and_stops_it_on_exit(tmp_path: Path) -> None:
    _need_janus()
    from tests.e2e.conftest import running_server

    settings = _rtc_settings(tmp_path / "data")
    opts = rtc_options(settings)
    env = {
        "DUALREC_RTC_ENABLED": "true",
        "DUALREC_RTC_HTTP_PORT": str(opts.http_port),
        "DUALREC_RTC_ADMIN_PORT": str(opts.admin_port),
        "DUALREC_RTC_RTP_PORTS": opts.rtp_ports,
    }
    (tmp_path / "data").mkdir()
    with running_server(tmp_path / "data", **env) as (_base, _log):
        deadline = time.monotonic() + 20
        info: dict[str, Any] = {}
        while time.monotonic() < deadline and info.get("janus") != "server_info":
            try:
                info = httpx.get(f"{opts.janus_url}/info", timeout=2).json()
            except httpx.HTTPError:
                time.sleep(0.2)
        assert info.get("janus") == "server_info" and info["auth_token"] is True
        assert _listeners(opts.http_port) == {"127.0.0.1"}
    # the server stopped: Janus went with it
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{opts.janus_url}/info", timeout=2)
