"""Janus' view of a running call, sampled by ``JanusStatsSampler`` into the call's quality series
and shown to the desk (``GET /rtc/tasks/{id}/quality`` → ``server``) and to QC (the
``call_quality`` check's ``server`` metrics). No Janus here: the Admin API answers are the ones
recorded from the real Janus (tests/data/janus), given this call's room and feed ids."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from dualrec.bootstrap.container import Container
from dualrec.checks.base import CheckContext
from dualrec.checks.builtin import call_quality
from dualrec.checks.catalog import default_thresholds
from dualrec.core.call_quality import CallQuality
from dualrec.services.rtc import tokens
from dualrec.services.rtc.janus_config import load_or_create_secrets
from dualrec.services.rtc.janus_stats import JanusStatsSampler
from dualrec.services.rtc.quality import quality_for_recording
from tests.integration.test_flows_tasks_api import Signed, system
from tests.integration.test_rtc_live_api import _call, settings
from tests.integration.test_rtc_queue import clients

__all__ = ["clients", "settings", "system"]

DATA = Path(__file__).resolve().parents[1] / "data" / "janus"
REC_ROOM, REC_CUSTOMER, REC_AGENT = 4241195574503778, 103141206890800, 104272032491876


class RecordedAdmin:
    """The Admin API of a Janus carrying one call: two sessions (one per browser), each with its
    publisher and its subscriber handle, answering with the recorded ``handle_info``."""

    def __init__(self, room: int, customer: int, agent: int) -> None:
        self.ids = {REC_ROOM: room, REC_CUSTOMER: customer, REC_AGENT: agent}
        self.round = 1
        self.requests = 0

    def _load(self, name: str) -> dict[str, Any]:
        text = (DATA / f"{name}_{self.round}.json").read_text()
        for old, new in self.ids.items():
            text = text.replace(str(old), str(new))
        info: dict[str, Any] = json.loads(text)["info"]
        return info

    def sessions(self) -> list[int]:
        self.requests += 1
        return [1, 2]

    def handles(self, session: int) -> list[int]:
        self.requests += 1
        return [10, 11] if session == 1 else [20, 21, 30]

    def handle_info(self, session: int, handle: int) -> dict[str, Any]:
        self.requests += 1
        names = {
            10: "videoroom_customer_publisher",
            11: "videoroom_customer_subscriber",  # receives the agent's feed
            20: "videoroom_agent_publisher",
            21: "videoroom_agent_subscriber",  # receives the customer's feed
        }
        if handle in names:
            return self._load(names[handle])
        # another room's handle: not this call's
        return {"plugin": "janus.plugin.videoroom", "plugin_specific": {"type": "publisher", "room": 99}}

    def close(self) -> None:
        pass


def test_janus_view_of_a_running_call_reaches_the_desk_and_qc(
    clients: dict[str, TestClient], system: Signed, container: Container
) -> None:
    task_id, _link = _call(clients, system, container)
    key = load_or_create_secrets(container.settings.data_dir / "rtc" / "secrets.json").room_key
    admin = RecordedAdmin(
        tokens.room_id(key, task_id, 1),
        tokens.feed_id(key, task_id, 1, "customer"),
        tokens.feed_id(key, task_id, 1, "agent"),
    )
    start = datetime.now(UTC)
    clock = [start]
    sampler = JanusStatsSampler(container.uows, lambda: admin, lambda: key, now=lambda: clock[0])  # type: ignore[arg-type,return-value]
    assert sampler.sample(admin) == 2  # type: ignore[arg-type]
    admin.round, clock[0] = 2, start + timedelta(seconds=3.6)
    assert sampler.sample(admin) == 2  # type: ignore[arg-type]

    # the desk: the server's view of both parties beside the browsers' reports
    r = clients["agent"].get(f"/api/v1/rtc/tasks/{task_id}/quality")
    assert r.status_code == 200, r.text
    server = {v["party"]: v for v in r.json()["server"]}
    assert set(server) == {"customer", "agent"}
    customer = server["customer"]
    assert customer["video_kbps"] == round(38009 * 8 / 1000, 1) and customer["loss_pct"] == 0.0
    assert customer["details"]["in"]["video"]["packets"] == 529 - 388  # over the interval
    assert customer["details"]["out"]["video"]["packets"] > 0  # what Janus sent the customer
    agent = server["agent"]
    assert set(agent["details"]["in"]) == {"audio", "video"} and set(agent["details"]["out"]) == {
        "audio",
        "video",
    }
    # another branch's interviewer sees nothing of it
    assert clients["other_branch"].get(f"/api/v1/rtc/tasks/{task_id}/quality").status_code == 404

    # on the recording's timeline, QC's call_quality metrics carry the server's view
    q = quality_for_recording(
        container.uows, task_id, 1, t0=start - timedelta(seconds=1), duration=10, gaps=[]
    )
    roles = {s["role"] for s in q["samples"]}
    assert roles == {"janus-customer", "janus-agent"}
    res = call_quality.run(
        CheckContext(path="x.mp4", thresholds=default_thresholds(), call_quality=CallQuality.from_dict(q))
    )
    assert res.metrics["server"]["customer"]["samples"] == 2  # type: ignore[index]
    assert res.metrics["reporting"] == []  # no browser reported: the server's rows are not theirs

    # no call running: the sampler asks Janus nothing
    with container.uows() as uow:
        task = uow.tasks.get(task_id)
        assert task is not None
        container.rtc.queue.on_hang_up(uow, task)  # type: ignore[union-attr]
        uow.commit()
    asked = admin.requests
    assert sampler.sample(admin) == 0 and admin.requests == asked  # type: ignore[arg-type]
