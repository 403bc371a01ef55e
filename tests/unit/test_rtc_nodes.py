"""Several Janus instances (DUALREC_RTC_NODES): the setting, where a new call's room goes, and the
node each participant token names (docs/remote-interview.md, "Scaling out")."""

from __future__ import annotations

from typing import Any

import pytest

from dualrec.errors import ConfigurationError
from dualrec.services.rtc import tokens
from dualrec.services.rtc.janus_api import JanusUnavailableError
from dualrec.services.rtc.nodes import MediaNode, NodePool, parse_nodes

A = MediaNode("a", "http://10.0.0.5:8088/janus")
B = MediaNode("b", "http://10.0.0.6:8088/janus")


def test_unset_means_the_one_local_janus() -> None:
    assert parse_nodes("", "http://127.0.0.1:8088/janus/") == (
        MediaNode("local", "http://127.0.0.1:8088/janus"),
    )


def test_nodes_are_parsed_in_order_and_bad_entries_refused() -> None:
    assert parse_nodes(" a=http://10.0.0.5:8088/janus , b=https://media-b.bank:8089/janus/", "x") == (
        A,
        MediaNode("b", "https://media-b.bank:8089/janus"),
    )
    for bad in (
        "a",  # no url
        "A=http://x/janus",  # names go into tokens: lower case, digits, _ -
        "a,b=http://x/janus",
        "a:1=http://x/janus",
        "a=ftp://x/janus",
        "a=http://x/janus?x=1",
        "a=http://x/janus,a=http://y/janus",  # twice
    ):
        with pytest.raises(ConfigurationError):
            parse_nodes(bad, "x")


class Pool(NodePool):
    """The real pool with the nodes' ``info`` answers given by the test (and counted)."""

    def __init__(self, up: set[str], nodes: tuple[MediaNode, ...] = (A, B)) -> None:
        self.t = 0.0
        super().__init__(nodes, lambda: "s", health_ttl=5.0, clock=lambda: self.t)
        self.up = up
        self.asked: list[str] = []

    def api(self, name: str) -> Any:
        pool = self

        class Api:
            def info(self) -> dict[str, str]:
                pool.asked.append(name)
                if name not in pool.up:
                    raise JanusUnavailableError("down")
                return {"janus": "server_info"}

        return Api()


def test_a_new_room_goes_to_the_healthy_node_with_fewest_open_rooms() -> None:
    pool = Pool({"a", "b"})
    assert pool.choose({}) == "a"  # a tie: the order of the setting
    assert pool.choose({"a": 3, "b": 1}) == "b"
    assert pool.choose({"a": 1, "b": 1}) == "a"
    # a node that does not answer gets no new room, however empty it is
    pool = Pool({"b"})
    assert pool.choose({"b": 9}) == "b"
    pool.up = set()
    pool.t = 10
    with pytest.raises(JanusUnavailableError):
        pool.choose({})


def test_one_node_is_chosen_without_asking_it() -> None:
    pool = Pool(set(), (A,))
    assert pool.choose({"a": 5}) == "a" and pool.asked == []


def test_health_is_remembered_a_few_seconds() -> None:
    pool = Pool({"a", "b"})
    pool.choose({})
    pool.choose({})
    assert pool.asked == ["a", "b"]  # asked once within the ttl
    pool.up = {"b"}
    pool.t = 6
    assert pool.choose({}) == "b"
    assert pool.asked == ["a", "b", "a", "b"]
    pool.forget_health("a")
    pool.up = {"a", "b"}
    assert pool.choose({"b": 1}) == "a"  # asked again at once after a failure was reported


def test_tokens_name_their_node_and_only_dualrec_signs_them() -> None:
    core = tokens.core_token("s", 2_000_000_000, "b")
    assert core.startswith("2000000000,janus,janus.plugin.videoroom,node=b:")
    assert tokens.verify_core_token("s", core, now=1) == "b"
    assert tokens.verify_core_token("s", tokens.core_token("s", 2_000_000_000), now=1) == ""  # old: none
    assert tokens.verify_core_token("other", core, now=1) is None
    assert tokens.verify_core_token("s", core, now=2_000_000_000) is None  # expired
    assert tokens.verify_core_token("s", core.replace("node=b", "node=a"), now=1) is None
    room = tokens.room_token("s", 2_000_000_000, 42, 7, "b")
    assert tokens.verify_room_token("s", room, now=1) == (42, 7)
    assert tokens.room_token_node("s", room, now=1) == "b"
    # a room token is not a core token, nor the other way round
    assert tokens.verify_core_token("s", room, now=1) is None
    assert tokens.room_token_node("s", core, now=1) is None


def test_settings_that_cannot_work_stop_the_start(tmp_path: Any) -> None:
    from dualrec.bootstrap.rtc import build_rtc, media_nodes
    from tests.conftest import make_settings

    # browsers told to relay with no TURN server to relay through would never connect
    relay_only = make_settings(tmp_path, rtc_enabled=True, rtc_ice_transport_policy="relay")
    with pytest.raises(ConfigurationError, match="DUALREC_RTC_TURN_URLS"):
        build_rtc(relay_only, None, None, None)  # type: ignore[arg-type]
    two = "a=http://10.0.0.5:8088/janus,b=http://10.0.0.6:8088/janus"
    direct = make_settings(tmp_path, rtc_enabled=True, rtc_nodes=two, rtc_public_janus_url="https://x/janus")
    with pytest.raises(ConfigurationError, match="DUALREC_RTC_PUBLIC_JANUS_URL"):
        build_rtc(direct, None, None, None)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="DUALREC_RTC_NODES"):
        media_nodes(make_settings(tmp_path, rtc_enabled=True, rtc_nodes="a=http://x/janus,a=http://y/janus"))
    assert media_nodes(
        make_settings(tmp_path, rtc_enabled=True, rtc_bind="10.0.0.5", rtc_http_port=8090)
    ) == (MediaNode("local", "http://10.0.0.5:8090/janus"),)
