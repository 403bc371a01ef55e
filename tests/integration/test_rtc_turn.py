"""The TURN logins dualrec hands out (join answers' ``ice_servers``: coturn's TURN REST scheme,
``use-auth-secret``) against a real coturn started by the test on 127.0.0.1: a handed-out login
gets a relay allocation; a forged, an expired or a stretched login is refused; the server relays
only to the peers it is told (every other address denied). The browser call relayed through coturn
is tests/e2e/test_rtc_nodes.py. Without `turnserver` (Debian `coturn`) this skips; under CI=true
it fails."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dualrec.services.rtc import tokens
from dualrec.services.rtc.janus_config import JanusSecrets
from dualrec.services.rtc.nodes import MediaNode, NodePool
from dualrec.services.rtc.rooms import RoomOptions, RtcService
from tests.rtc_support import need
from tests.turn_support import TurnClient, TurnServer, has_turnserver, turn_server


@pytest.fixture
def turn(tmp_path: Path) -> Iterator[TurnServer]:
    need(has_turnserver(), "needs coturn (make apt)")
    with turn_server(tmp_path / "turn", "127.0.0.1", allowed_peers=("127.0.0.2",)) as server:
        yield server


def _handed_out(server: TurnServer, name: str) -> tuple[str, str]:
    """The TURN login of a join answer, from the room service configured like DUALREC_RTC_TURN_*."""
    service = RtcService(
        uows=None,  # type: ignore[arg-type]
        tasks=None,  # type: ignore[arg-type]
        nodes=NodePool((MediaNode("local", "http://127.0.0.1:8088/janus"),), lambda: "api"),
        secrets=lambda: JanusSecrets("a", "b", "c", "d", "e"),
        queue=lambda: None,  # type: ignore[arg-type,return-value]
        options=RoomOptions(
            recordings=Path("/nonexistent"), turn_urls=(server.url,), turn_secret=server.secret
        ),
    )
    (entry,) = service._ice_servers(name)
    assert entry["urls"] == [server.url]
    return str(entry["username"]), str(entry["credential"])


def _allocate(server: TurnServer, username: str, password: str) -> tuple[int, TurnClient]:
    client = TurnClient((server.ip, server.port), username, password)
    answer = client.allocate()
    if answer.code == 0:
        assert answer.relayed is not None and answer.relayed[0] == server.ip, answer  # relays from there only
    return answer.code, client


def test_coturn_relays_for_the_logins_dualrec_hands_out_and_refuses_others(turn: TurnServer) -> None:
    user, password = _handed_out(turn, "customer-1a2b3c4d")
    code, client = _allocate(turn, user, password)
    try:
        assert code == 0
        # it relays to the allowed peer only: any other address (e.g. the machine's own network) is
        # refused before a packet is sent
        assert client.permit("127.0.0.2") == 0
        assert client.permit("192.0.2.10") == 403
        assert client.permit("10.1.2.3") == 403
    finally:
        client.close()

    now = int(time.time())
    refused = {
        # signed with another secret
        "forged": tokens.turn_credentials("not-the-secret", now + 3600, "customer-1a2b3c4d"),
        # signed right, but expired
        "expired": tokens.turn_credentials(turn.secret, now - 60, "customer-1a2b3c4d"),
        # a handed-out password with the expiry pushed later
        "stretched": (f"{now + 86400 * 30}:customer-1a2b3c4d", password),
    }
    for what, (user, password) in refused.items():
        code, client = _allocate(turn, user, password)
        client.close()
        assert code == 401, (what, code)
