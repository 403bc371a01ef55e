"""Several Janus instances (DUALREC_RTC_NODES) against two real Janus processes on 127.0.0.1 (no
media here; tests/e2e/test_rtc_nodes.py makes a recorded call on the second node):

- each new task attempt's room goes to the healthy node with the fewest open rooms, and is created
  on that node only; both parties of a call get the same node; a call stays on its node;
- the proxy forwards a page's requests only to the node its grant names: a session of node A used
  with node B's grant is not found, a room token of node B is refused on node A's session, a forged
  grant reaches no node;
- hang-up destroys the room on its node; a node that stops answering gets no new rooms;
- `dualrec doctor` reports every node.

Each node is what `dualrec rtc` runs on a media host: Janus configured from its own data dir whose
rtc/secrets.json is a copy of the app's. Without janus these tests skip; under CI=true they fail.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from dualrec.api.app import create_app
from dualrec.bootstrap.container import Container, build_container
from dualrec.bootstrap.doctor import run_doctor
from dualrec.bootstrap.rtc import rtc_options
from dualrec.services.identity.seed import seed_demo
from dualrec.services.rtc.janus_api import JanusApi
from dualrec.services.rtc.janus_config import load_or_create_secrets
from dualrec.services.rtc.supervisor import JanusSupervisor
from dualrec.settings import Settings
from tests.conftest import ADMIN_PASSWORD, PASSWORD, login, make_settings
from tests.integration.test_flows_tasks_api import Signed, system
from tests.integration.test_rtc import Browser, _free_port, _need_janus, _setup_flows, _sign, _task

__all__ = ["system"]


def _node(root: Path, name: str, app_secrets: Path, low: int) -> JanusSupervisor:
    """`dualrec rtc` of one media host: its own data dir, the app's secrets file copied in."""
    settings = make_settings(
        root / name,
        rtc_enabled=True,
        rtc_http_port=_free_port(),
        rtc_admin_port=_free_port(),
        rtc_rtp_ports=f"{low}-{low + 19}",
    )
    opts = rtc_options(settings)
    opts.paths.secrets_file.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(app_secrets, opts.paths.secrets_file)
    opts.paths.secrets_file.chmod(0o600)
    return JanusSupervisor(opts, backoff_initial=0.2, backoff_cap=1.0)


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[dict[str, JanusSupervisor]]:
    _need_janus()
    app_secrets = rtc_options(make_settings(tmp_path / "data")).paths.secrets_file
    load_or_create_secrets(app_secrets)
    low = 31000 + (os.getpid() % 400) * 40
    found = {
        "a": _node(tmp_path, "node-a", app_secrets, low),
        "b": _node(tmp_path, "node-b", app_secrets, low + 20),
    }
    try:
        for sup in found.values():
            sup.start()
        for sup in found.values():
            assert sup.wait_ready(30), sup.opts.paths.log_file.read_text()[-3000:]
        yield found
    finally:
        for sup in found.values():
            sup.stop()


@pytest.fixture
def rtc_settings(tmp_path: Path, nodes: dict[str, JanusSupervisor]) -> Settings:
    listed = ",".join(f"{name}={sup.opts.janus_url}" for name, sup in nodes.items())
    return make_settings(tmp_path / "data", rtc_enabled=True, rtc_managed=False, rtc_nodes=listed)


@pytest.fixture
def container(rtc_settings: Settings) -> Iterator[Container]:
    c = build_container(rtc_settings, migrate=True)
    seed_demo(c.uows, admin_username="admin", admin_password=ADMIN_PASSWORD)
    yield c
    c.close()


@pytest.fixture
def app_client(rtc_settings: Settings, container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(rtc_settings, container=container)) as client:
        yield client


def _exists(sup: JanusSupervisor, room: int) -> bool:
    api = JanusApi(sup.opts.janus_url, load_or_create_secrets(sup.opts.paths.secrets_file).api_secret)
    with api, api.videoroom() as vr:
        return bool(vr.request({"request": "exists", "room": room}).get("exists"))


def _janus(client: TestClient, path: str, body: dict[str, Any], token: str) -> httpx.Response:
    return client.post(f"/api/v1/rtc/janus{path}", json={**body, "transaction": "x", "token": token})


@pytest.mark.timeout(180)
def test_calls_are_placed_on_nodes_and_each_grant_reaches_only_its_node(
    app_client: TestClient,
    system: Signed,
    make_user: Any,
    nodes: dict[str, JanusSupervisor],
    rtc_settings: Settings,
) -> None:
    admin = login(TestClient(app_client.app), "admin", ADMIN_PASSWORD)
    _setup_flows(admin)
    make_user("agent_bj", "interviewer", "BJ")
    agent = login(TestClient(app_client.app), "agent_bj", PASSWORD)
    customer = TestClient(app_client.app)
    (task_1, link_1), (task_2, link_2) = _task(system, "WM-NODE-1"), _task(system, "WM-NODE-2")

    # call 1 goes to node a (both empty: the order of the setting), call 2 to the emptier node b
    g1 = agent.post(f"/api/v1/rtc/tasks/{task_1}/join").json()
    g2 = agent.post(f"/api/v1/rtc/tasks/{task_2}/join").json()
    assert (g1["node"], g2["node"]) == ("a", "b"), (g1, g2)
    assert _exists(nodes["a"], g1["room"]) and not _exists(nodes["b"], g1["room"])
    assert _exists(nodes["b"], g2["room"]) and not _exists(nodes["a"], g2["room"])
    # the customers join their call's node; the agent joining again stays there
    assert customer.post(f"/api/v1/rtc/entry/{link_1}/queue").json()["status"] == "accepted"
    assert customer.post(f"/api/v1/rtc/entry/{link_2}/queue").json()["status"] == "accepted"
    c1 = customer.post(f"/api/v1/rtc/entry/{link_1}/join").json()
    c2 = customer.post(f"/api/v1/rtc/entry/{link_2}/join").json()
    assert (c1["node"], c2["node"]) == ("a", "b")
    assert agent.post(f"/api/v1/rtc/tasks/{task_2}/join").json()["node"] == "b"

    # each grant joins its own room through the proxy (its requests go to its node)
    page_1, page_2 = Browser(customer, c1), Browser(customer, c2)
    assert page_1.join(c1["room"], c1["room_token"], c1["feed_id"])["videoroom"] == "joined"
    assert page_2.join(c2["room"], c2["room_token"], c2["feed_id"])["videoroom"] == "joined"
    # a session of node a, used with call 2's grant (node b): node b knows no such session
    session_1 = page_1.post("", {"janus": "create"})["data"]["id"]
    attach = {"janus": "attach", "plugin": "janus.plugin.videoroom"}
    crossed = _janus(customer, f"/{session_1}", attach, c2["core_token"]).json()
    assert crossed["janus"] == "error" and crossed["error"]["code"] == 458, crossed  # no such session
    # call 2's room token on a node-a session: refused by the proxy before Janus sees it
    handle_1 = page_1.handle()
    join_2 = {
        "request": "join",
        "ptype": "publisher",
        "room": c2["room"],
        "token": c2["room_token"],
        "id": c2["feed_id"],
    }
    r = page_1.send(handle_1, join_2)
    assert r.status_code == 403 and "another media node" in r.text, r.text
    # (and node a has no such room, should the proxy be bypassed)
    assert not _exists(nodes["a"], c2["room"])
    # a forged grant naming node b reaches no node; nor does a long poll with it
    forged = _sign("guess", f"{int(time.time()) + 600},janus,janus.plugin.videoroom,node=b")
    assert _janus(customer, "", {"janus": "create"}, forged).status_code == 403
    poll = customer.get(f"/api/v1/rtc/janus/{session_1}", params={"token": forged, "maxev": 1})
    assert poll.status_code == 403
    poll = customer.get(f"/api/v1/rtc/janus/{session_1}", params={"maxev": 1})  # no token at all
    assert poll.status_code == 403

    # `dualrec doctor` reports every node
    found = {f.name: f for f in run_doctor(rtc_settings) if f.area == "rtc"}
    for name in ("a", "b"):
        assert found[f"janus api {name}"].ok, found
        assert nodes[name].opts.janus_url in found[f"janus api {name}"].detail

    # hanging up destroys each room on its own node
    assert agent.post(f"/api/v1/rtc/tasks/{task_1}/hangup").status_code == 200
    assert agent.post(f"/api/v1/rtc/tasks/{task_2}/hangup").status_code == 200
    assert not _exists(nodes["a"], g1["room"]) and not _exists(nodes["b"], g2["room"])

    # node a stops answering: new calls go to node b (health is asked again after 5 s)
    nodes["a"].stop()
    time.sleep(5.5)
    task_3, _link_3 = _task(system, "WM-NODE-3")
    g3 = agent.post(f"/api/v1/rtc/tasks/{task_3}/join").json()
    assert g3["node"] == "b" and _exists(nodes["b"], g3["room"])
    found = {f.name: f for f in run_doctor(rtc_settings) if f.area == "rtc"}
    assert not found["janus api a"].ok and found["janus api b"].ok
    # with no node answering, a new call is refused (503), nothing is stored for it
    nodes["b"].stop()
    time.sleep(5.5)
    task_4, _link_4 = _task(system, "WM-NODE-4")
    r = agent.post(f"/api/v1/rtc/tasks/{task_4}/join")
    assert r.status_code == 503, r.text
    # a call in progress stays on its node: call 3 is not moved to another node while b is down
    with app_client.app.state.container.uows.read() as uow:
        assert uow.rtc.room_node(task_3, 1) == "b" and uow.rtc.room_node(task_4, 1) is None
