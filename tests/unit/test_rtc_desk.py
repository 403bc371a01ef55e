"""The shared desk's pieces without a server: the screen-share feed is the agent's alone (its grant
carries a room token bound to it, the customer's does not, and the proxy's check lets only that
token publish as the screen feed); the desk state replayed from events; the composite with a
screen share and a shown document page (real FFmpeg: the shared column shows the screen, then the
page with its highlight)."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from dualrec.db.repositories.rtc import DeskEvent
from dualrec.errors import PermissionDeniedError
from dualrec.services.rtc.compose import Piece, SharedPage, _composite, _party_mp4, _shared_mp4, shared_pages
from dualrec.services.rtc.desk_share import desk_state
from dualrec.services.rtc.janus_config import JanusSecrets
from dualrec.services.rtc.nodes import MediaNode, NodePool
from dualrec.services.rtc.rooms import RoomOptions, RtcService
from tests.document_factory import make_pdf

SECRETS = JanusSecrets("api", "admin", "token-secret", "room-admin", "room-key")
T0 = datetime(2026, 12, 21, 9, 0, tzinfo=UTC)


def _service(tmp_path: Path) -> RtcService:
    return RtcService(
        uows=None,  # type: ignore[arg-type]
        tasks=None,  # type: ignore[arg-type]
        nodes=NodePool((MediaNode("local", "http://127.0.0.1:8088/janus"),), lambda: "api"),
        secrets=lambda: SECRETS,
        queue=lambda: None,  # type: ignore[arg-type,return-value]
        options=RoomOptions(recordings=tmp_path),
    )


TASK = SimpleNamespace(id="task-1", attempt_no=1, business_no="WM-1", customer_name="张三", documents=[])


def test_only_the_agent_may_publish_the_screen_feed(tmp_path: Path) -> None:
    rtc = _service(tmp_path)
    agent = rtc._grant(TASK, "agent", "local")  # type: ignore[arg-type]
    customer = rtc._grant(TASK, "customer", "local")  # type: ignore[arg-type]
    screen = rtc.feed_of("task-1", 1, "screen")
    assert agent.screen_feed_id == customer.screen_feed_id == screen
    assert screen not in (agent.feed_id, customer.feed_id)
    assert agent.screen_room_token and customer.screen_room_token == ""

    def join(token: str, feed: int) -> dict[str, Any]:
        return {"request": "join", "ptype": "publisher", "room": agent.room, "id": feed, "token": token}

    rtc.check_participant_request(join(agent.screen_room_token, screen))  # the agent's screen share
    rtc.check_participant_request(join(agent.room_token, agent.feed_id))  # its camera
    with pytest.raises(PermissionDeniedError):
        rtc.check_participant_request(join(customer.room_token, screen))  # the customer cannot
    with pytest.raises(PermissionDeniedError):
        rtc.check_participant_request(join(agent.room_token, screen))  # nor the camera's token
    # the customer subscribes to it with its own token
    rtc.check_participant_request(
        {
            "request": "join",
            "ptype": "subscriber",
            "room": agent.room,
            "streams": [{"feed": screen}],
            "token": customer.room_token,
        }
    )


def _doc(pages: int) -> dict[str, Any]:
    return {
        "name": "说明书.pdf",
        "blob_key": "k",
        "sha256": "0" * 64,
        "pages": pages,
        "kind": "pdf",
        "size": 1,
    }


def _ev(i: int, kind: str, seconds: float, party: str = "agent", **payload: Any) -> DeskEvent:
    return DeskEvent(i, party, kind, payload, T0 + timedelta(seconds=seconds))


def test_the_state_is_replayed_from_the_events() -> None:
    task = SimpleNamespace(**{**vars(TASK), "documents": [_doc(3)]})
    mark = {"kind": "highlight", "x": 0.1, "y": 0.1, "w": 0.5, "h": 0.1}
    events = [
        _ev(1, "doc.show", 1, document=0, page=2),
        _ev(2, "doc.marks", 2, document=0, page=2, marks=[mark]),
        _ev(3, "doc.marks", 3, document=0, page=1, marks=[mark, mark]),  # a stale page's marks: ignored
        _ev(4, "screen", 4, on=True),
        _ev(5, "sign.request", 5, document=0),
    ]
    s = desk_state(task, events)  # type: ignore[arg-type]
    assert (s.seq, s.document, s.page, s.pages, s.marks, s.screen, s.sign_request) == (
        5,
        0,
        2,
        3,
        [mark],
        True,
        0,
    )
    s = desk_state(
        task, [*events, _ev(6, "signed", 6, "customer", document=0, name="x.pdf", sha256="ab", blob_key="b")]
    )  # type: ignore[arg-type]
    assert s.sign_request is None and s.signed[0]["name"] == "x.pdf" and "blob_key" not in s.signed[0]
    s = desk_state(task, [*events, _ev(7, "doc.close", 7), _ev(8, "screen", 8, on=False)])  # type: ignore[arg-type]
    assert (s.document, s.marks, s.screen) == (None, [], False)


needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed")


def _pixel(video: Path, t: float, x: int, y: int) -> tuple[int, int, int]:
    out = subprocess.run(
        ["ffmpeg", "-v", "error", "-ss", f"{t}", "-i", str(video), "-frames:v", "1",
         "-vf", f"crop=2:2:{x}:{y}", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True, check=True,
    )  # fmt: skip
    return out.stdout[0], out.stdout[1], out.stdout[2]


def _size(video: Path) -> str:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height",
         "-of", "csv=p=0", str(video)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return out.stdout.strip()


@needs_ffmpeg
def test_the_composite_shows_the_screen_share_and_the_marked_page_beside_both_parties(tmp_path: Path) -> None:
    # a "screen share": pure green for 2 s, starting 1 s into a 6 s call
    screen = tmp_path / "screen.webm"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=c=0x00ff00:s=1280x720:r=25:d=2",
         "-c:v", "libvpx", str(screen)],
        check=True,
    )  # fmt: skip
    t0_us = int(T0.timestamp() * 1e6)
    piece = Piece(tmp_path / "s.mjr", 3, "video", "vp8", t0_us + 1_000_000, screen, 2.0)
    # the page shown from 4 s to the end, a highlight over its upper half
    pdf = make_pdf(1)
    task = SimpleNamespace(**{**vars(TASK), "documents": [_doc(1)]})
    mark = {"kind": "highlight", "x": 0.0, "y": 0.0, "w": 1.0, "h": 0.5}
    events = [
        _ev(1, "doc.show", 4, document=0, page=0),
        _ev(2, "doc.marks", 4.5, document=0, page=0, marks=[mark]),
    ]
    pages = shared_pages(task, events, lambda i: pdf, tmp_path, T0, 6.0)  # type: ignore[arg-type]
    assert [(p.start, p.end) for p in pages] == [(4.0, 4.5), (4.5, 6.0)]
    assert all(isinstance(p, SharedPage) and p.image.is_file() for p in pages)

    shared = _shared_mp4([piece], pages, t0_us, 6.0, tmp_path / "shared.mp4")
    party = _party_mp4([], t0_us, 6.0, tmp_path / "party.mp4")
    out = _composite(
        party, party, tmp_path / "composite.mp4", business_no="WM-1", t0=T0, length=6.0, shared=shared
    )
    assert _size(out) == "1280,960"
    x = 640 + 320  # the middle of the shared column
    r, g, b = _pixel(out, 0.5, x, 480)  # before the share: black
    assert max(r, g, b) < 40
    r, g, b = _pixel(out, 2.0, x, 480)  # the screen share: green
    assert g > 180 and r < 80 and b < 80
    r, g, b = _pixel(out, 5.5, x, 300)  # the page's highlighted upper half: yellowish
    assert r > 150 and g > 150 and b < min(r, g) - 60, (r, g, b)
    r, g, b = _pixel(out, 5.5, 320, 240)  # the customer's tile stays (black: nothing recorded)
    assert max(r, g, b) < 40


@needs_ffmpeg
def test_a_party_whose_resolution_changes_mid_call_stays_in_the_picture(tmp_path: Path) -> None:
    """WebRTC senders ramp their resolution up and down (and a phone may turn): the party's file
    keeps showing it after each change (it went black from the first change on before)."""
    parts = []
    for i, size in enumerate(("320x180", "640x360", "360x640")):
        part = tmp_path / f"part{i}.webm"
        subprocess.run(
            ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"color=c=0x00ff00:s={size}:r=20:d=3",
             "-c:v", "libvpx", "-b:v", "300k", str(part)],
            check=True,
        )  # fmt: skip
        parts.append(f"file {part.name}\n")
    (tmp_path / "list.txt").write_text("".join(parts))
    stream = tmp_path / "adaptive.webm"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-f",
            "concat",
            "-i",
            str(tmp_path / "list.txt"),
            "-c",
            "copy",
            str(stream),
        ],
        check=True,
        cwd=tmp_path,
    )
    piece = Piece(tmp_path / "c.mjr", 1, "video", "vp8", 0, stream, 9.0)
    out = _party_mp4([piece], 0, 9.0, tmp_path / "party.mp4")
    for t in (1.0, 4.0, 7.5):  # one second into each size
        r, g, b = _pixel(out, t, 320, 240)
        assert g > 180 and r < 80 and b < 80, (t, (r, g, b))
