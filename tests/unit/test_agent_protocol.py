"""SPEC §7 messages answered by the agent's handler (fake engines), the package manifest rules, the
upload pacing and backoff, and the loopback-only bind."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dualrec.agent.protocol import MessageHandler, ProtocolError, finished_push, parse_message
from dualrec.agent.runtime import is_loopback
from dualrec.core.agent_package import PackageFile, PackageManifest, package_id, parse_manifest
from dualrec.errors import InvalidInputError
from dualrec.services.device.sync import Throttle, backoff_seconds
from tests.unit.test_agent_device import make_agent


@pytest.fixture
def handler(tmp_path: Path) -> MessageHandler:
    folder = tmp_path / "rec"
    folder.mkdir()
    (folder / "a.mp4").write_bytes(b"video")
    agent, _ = make_agent(tmp_path, folder)
    woken: list[str] = []
    h = MessageHandler(
        agent,
        max_message_bytes=4096,
        wake_qc=lambda: woken.append("qc"),
        wake_upload=lambda: woken.append("up"),
    )
    h.woken = woken  # type: ignore[attr-defined]
    return h


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"not json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"runningNo": "1"}', "interfaceID is missing"),
        ('{"interfaceID": 100001}', "interfaceID must be a string"),
        ("x" * 5000, "too large"),
    ],
)
def test_malformed_messages_are_named(raw: str | bytes, reason: str) -> None:
    with pytest.raises(ProtocolError, match=reason):
        parse_message(raw, 4096)


@pytest.mark.parametrize(
    "raw",
    [
        "[" * 5000 + "]" * 5000,
        '{"interfaceID": "100001", "runningNo": "1", "checkItems": ' + "[" * 5000 + "]" * 5000 + "}",
        ('{"a":' * 5000 + "1" + "}" * 5000).encode(),
    ],
)
def test_deeply_nested_messages_get_a_fail_answer(tmp_path: Path, raw: str | bytes) -> None:
    """Thousands of nested brackets fit the size limit but used to overflow the parser's recursion
    (RecursionError: a 500 or a dropped socket instead of the protocol's ``fail``)."""
    folder = tmp_path / "rec"
    folder.mkdir()
    agent, _ = make_agent(tmp_path, folder)
    answer = MessageHandler(agent, max_message_bytes=65536).handle_raw(raw)
    assert answer["result"] == "fail" and "nested deeper than 64 levels" in answer["msg"], answer


def test_every_message_and_its_answer(handler: MessageHandler, tmp_path: Path) -> None:
    path = str(tmp_path / "rec" / "a.mp4")
    started = handler.handle_raw(
        json.dumps({"interfaceID": "100001", "runningNo": "123456", "filePath": path})
    )
    assert started == {
        "interfaceID": "100001",
        "result": "success",
        "msg": "质检已开始 / QC started",
        "runningNo": "123456",
        "state": "queued",
    }
    assert handler.woken == ["qc"]  # type: ignore[attr-defined]
    early = handler.handle({"interfaceID": "100003", "runningNo": "123456"})
    assert early["result"] == "fail" and early["state"] == "queued" and "not finished" in early["msg"]
    not_yet = handler.handle({"interfaceID": "100002", "runningNo": "123456"})
    assert not_yet["result"] == "fail" and not_yet["state"] == "queued"
    task = handler.agent.run_next()
    assert task is not None
    push = finished_push(handler.agent, task)
    assert push["interfaceID"] == "100005" and push["result"] == "success"
    assert push["info"] == {"state": "done", "verdict": task.verdict, "risk_score": task.risk_score}
    dup = handler.handle({"interfaceID": "100001", "runningNo": "123456", "filePath": path})
    assert dup["result"] == "fail" and dup["state"] == "done" and "not run again" in dup["msg"]
    report = handler.handle({"interfaceID": "100003", "runningNo": "123456"})
    assert report["result"] == "success" and set(report["info"]) == {"check_data"}
    data = report["info"]["check_data"]
    assert set(data) == {"runningNo", "video_info", "audio_recg", "check_list"}
    assert set(data["video_info"]) == {"name", "width", "height", "video_time", "audio_time", "fps"}
    item = next(i for i in data["check_list"] if i["extra_info"]["image"]["image_path"])
    assert set(item) == {"check_items", "check_comment", "result", "conf", "extra_info"}
    assert Path(item["extra_info"]["image"]["image_path"]).is_file()  # an absolute local path
    none = handler.handle({"interfaceID": "100004", "runningNo": "123456"})
    assert none["result"] == "fail" and "not confirmed" in none["msg"]
    confirmed = handler.handle({"interfaceID": "100002", "runningNo": "123456", "operator": "E1024"})
    assert confirmed["result"] == "success" and confirmed["info"]["upload"]["state"] == "queued"
    again = handler.handle({"interfaceID": "100002", "runningNo": "123456"})
    assert again["result"] == "success" and "already confirmed" in again["msg"]
    state = handler.handle({"interfaceID": "100004", "runningNo": "123456"})
    assert state["result"] == "success" and state["info"]["upload"]["confirmed_at"]
    other = handler.handle({"interfaceID": "100001", "runningNo": "123456", "filePath": path + "x"})
    assert other["result"] == "fail" and "does not exist" in other["msg"]


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ({"interfaceID": "100009"}, "unknown interfaceID '100009'"),
        ({"interfaceID": ""}, "unknown interfaceID"),
        ({"interfaceID": "100001", "filePath": "/x"}, "runningNo is missing"),
        ({"interfaceID": "100001", "runningNo": 123456, "filePath": "/x"}, "runningNo must be a string"),
        ({"interfaceID": "100001", "runningNo": "../etc", "filePath": "/x"}, "letters, digits"),
        ({"interfaceID": "100001", "runningNo": "1" * 65, "filePath": "/x"}, "1-64 characters"),
        ({"interfaceID": "100001", "runningNo": "1"}, "filePath is missing"),
        ({"interfaceID": "100001", "runningNo": "1", "filePath": ["/x"]}, "filePath must be a string"),
        ({"interfaceID": "100001", "runningNo": "1", "filePath": "/etc/passwd"}, "outside the configured"),
        ({"interfaceID": "100001", "runningNo": "1", "filePath": "a.mp4"}, "absolute path"),
        (
            {"interfaceID": "100001", "runningNo": "1", "filePath": "/x", "checkItems": "黑屏"},
            "list of strings",
        ),
        (
            {"interfaceID": "100001", "runningNo": "1", "filePath": "/x", "businessType": 7},
            "must be a string",
        ),
        ({"interfaceID": "100003"}, "runningNo is missing"),
        ({"interfaceID": "100003", "runningNo": "nope"}, "no QC task"),
        ({"interfaceID": "100002", "runningNo": "nope"}, "no QC task"),
        ({"interfaceID": "100004", "runningNo": "nope"}, "no QC task"),
        ({"interfaceID": "100002", "runningNo": "1", "operator": {"id": 1}}, "operator must be a string"),
    ],
)
def test_bad_messages_get_a_fail_answer_with_the_reason(
    handler: MessageHandler, message: dict[str, Any], reason: str
) -> None:
    answer = handler.handle(message)
    assert answer["result"] == "fail" and answer["interfaceID"] == message["interfaceID"]
    assert reason in answer["msg"], answer


def test_unknown_qc_items_are_refused(handler: MessageHandler, tmp_path: Path) -> None:
    path = str(tmp_path / "rec" / "a.mp4")
    answer = handler.handle(
        {"interfaceID": "100001", "runningNo": "9", "filePath": path, "checkItems": ["black_screen", "星座"]}
    )
    assert answer["result"] == "fail" and "星座" in answer["msg"]


def _manifest(**over: Any) -> dict[str, Any]:
    files = (
        PackageFile("recording.mp4", "recording", 10, "a" * 64),
        PackageFile("report.json", "report", 2, "b" * 64),
    )
    m = PackageManifest(
        "R1", "wealth", "E1", "BJ-01", "2026-11-23T10:00:00+00:00", "PASS", 0, files
    ).to_dict()
    m.update(over)
    return m


def test_the_package_id_is_the_hash_of_exactly_what_was_sent() -> None:
    raw = _manifest()
    parsed = parse_manifest(json.loads(json.dumps(raw)))
    assert parsed.to_dict() == raw and parsed.size == 12
    assert package_id(parsed) != package_id(parse_manifest(_manifest(operator="E2")))
    assert parsed.ranges()[1][1:] == (10, 12)


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"extra": 1}, []),
        ({"schema": "v0"}, ["schema"]),
        ({"runningNo": "a/b"}, ["runningNo"]),
        ({"qc": {"verdict": "OK", "risk_score": 0}}, ["qc", "verdict"]),
        ({"files": []}, ["files"]),
        (
            {"files": [{"name": "../x", "role": "recording", "size": 1, "sha256": "a" * 64}]},
            ["files", "0", "name"],
        ),
        (
            {"files": [{"name": "r.mp4", "role": "recording", "size": -1, "sha256": "a" * 64}]},
            ["files", "0", "size"],
        ),
        (
            {"files": [{"name": "r.mp4", "role": "recording", "size": 0, "sha256": "a" * 64}]},
            ["files", "0", "size"],
        ),
        ({"files": [{"name": "r.json", "role": "report", "size": 1, "sha256": "a" * 64}]}, ["files"]),
        (
            {"files": [{"name": "r.mp4", "role": "recording", "size": 1, "sha256": "A" * 64}]},
            ["files", "0", "sha256"],
        ),
    ],
)
def test_invalid_manifests_name_the_field(change: dict[str, Any], where: list[str]) -> None:
    with pytest.raises(InvalidInputError) as err:
        parse_manifest(_manifest(**change))
    assert err.value.details["errors"][0]["loc"][1:] == where


def test_throttle_paces_bytes_to_the_rate_and_backoff_doubles_to_a_cap() -> None:
    now = [100.0]
    throttle = Throttle(250_000, clock=lambda: now[0])  # 2 Mbit/s
    assert throttle.delay(250_000) == 0.0
    assert throttle.delay(125_000) == pytest.approx(1.0)  # the first second is booked
    now[0] += 3.0  # idle time is not saved up as a burst
    assert throttle.delay(1000) == 0.0
    assert Throttle(0).delay(10**9) == 0.0
    assert [backoff_seconds(n, 5, 60) for n in (1, 2, 3, 4, 5, 6)] == [5, 10, 20, 40, 60, 60]


@pytest.mark.parametrize(
    ("host", "ok"),
    [("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("[::1]", True), ("localhost", True),
     ("0.0.0.0", False), ("192.168.1.10", False), ("::", False), ("example.com", False)],
)  # fmt: skip
def test_only_loopback_addresses_may_be_bound(host: str, ok: bool) -> None:
    assert is_loopback(host) is ok
