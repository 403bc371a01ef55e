"""Remote interviews, the pure parts: the participants' Janus tokens (Janus' HMAC-SHA1 scheme),
room/feed ids derived per task attempt, TURN REST credentials, Janus' configuration text, and the
Janus token kept out of log lines."""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path

import pytest

from dualrec.api.logging_setup import redact_tokens
from dualrec.errors import ConfigurationError
from dualrec.services.rtc import tokens
from dualrec.services.rtc.janus_config import RtcOptions, write_janus_config


def test_tokens_follow_janus_signed_token_format() -> None:
    core = tokens.core_token("s3cret", 1_900_000_000)
    data, _, sig = core.partition(":")
    assert data == "1900000000,janus,janus.plugin.videoroom"
    assert sig == base64.b64encode(hmac.new(b"s3cret", data.encode(), hashlib.sha1).digest()).decode()
    room = tokens.room_token("s3cret", 1_900_000_000, 77)
    assert room.split(":")[0] == "1900000000,janus.plugin.videoroom,room=77"


def test_rooms_and_feeds_are_per_attempt_and_unguessable_without_the_key() -> None:
    a1 = tokens.room_id("k", "task-a", 1)
    assert a1 == tokens.room_id("k", "task-a", 1)  # any process finds the same room again
    assert (
        len(
            {
                a1,
                tokens.room_id("k", "task-a", 2),
                tokens.room_id("k", "task-b", 1),
                tokens.room_id("k2", "task-a", 1),
            }
        )
        == 4
    )
    assert 0 < a1 < 2**52
    agent, customer = tokens.feed_id("k", "task-a", 1, "agent"), tokens.feed_id("k", "task-a", 1, "customer")
    assert agent != customer and 0 < agent < 2**47
    assert tokens.room_secret("k", "task-a", 1) != tokens.room_secret("k", "task-a", 2)


def test_turn_credentials_are_coturn_rest_style() -> None:
    user, password = tokens.turn_credentials("turnkey", 1_900_000_000, "agent-1")
    assert user == "1900000000:agent-1"
    assert password == base64.b64encode(hmac.new(b"turnkey", user.encode(), hashlib.sha1).digest()).decode()


def test_janus_tokens_in_query_strings_never_reach_a_log_line() -> None:
    token = "1900000000%2Cjanus%2Cjanus.plugin.videoroom%3AabcD%3D"
    line = f"GET /api/v1/rtc/janus/42?rid=1&maxev=10&token={token} HTTP/1.1"
    out = redact_tokens(line)
    assert "abcD" not in out and "token=[token:" in out and "maxev=10" in out
    # the customer's link token in the remote-interview routes too
    link = "eyJ0IjoiYWJjIn0.c2lnbmF0dXJlMTIz"
    out = redact_tokens(f"POST /api/v1/rtc/entry/{link}/join HTTP/1.1")
    assert link not in out and "/api/v1/rtc/entry/[token:" in out


def test_janus_configuration_refuses_values_that_could_inject_settings(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    (lib / "plugins").mkdir(parents=True)
    (lib / "plugins" / "libjanus_videoroom.so").touch()
    (lib / "plugins" / "libjanus_echotest.so").touch()
    (lib / "transports").mkdir()
    (lib / "transports" / "libjanus_http.so").touch()
    (lib / "transports" / "libjanus_websockets.so").touch()
    base = RtcOptions(data_dir=tmp_path / "data", janus_lib_dir=lib)
    cfg = write_janus_config(base)
    core = (cfg / "janus.jcfg").read_text()
    assert 'disable = "libjanus_echotest.so"' in core and 'disable = "libjanus_websockets.so"' in core
    assert "token_auth = true" in core and '"/var"' not in core
    http = (cfg / "janus.transport.http.jcfg").read_text()
    assert 'admin_ip = "127.0.0.1"' in http and 'admin_acl = "127."' in http and 'ip = "127.0.0.1"' in http
    with pytest.raises(ConfigurationError):
        write_janus_config(
            RtcOptions(
                data_dir=tmp_path / "data", janus_lib_dir=lib, ice_enforce_list='eth0"\nadmin_secret = "x'
            )
        )
    with pytest.raises(ConfigurationError):
        write_janus_config(RtcOptions(data_dir=tmp_path / "data", janus_lib_dir=lib, bind="0.0.0.0; rm"))
