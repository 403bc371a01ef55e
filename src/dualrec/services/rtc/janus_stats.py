"""Janus' own view of each call's streams (the server side of call quality, SPEC §8): what Janus
received from each party's publisher — the recording's true input — and what it sent to each
party's subscriber, read from the Admin API (``handle_info`` of every VideoRoom handle) every few
seconds while calls run, and stored with the browsers' reports (``rtc_quality_samples``, role
``janus-customer`` / ``janus-agent``).

Where it runs: in the process that supervises Janus (``dualrec serve`` with a managed Janus, or
``dualrec rtc`` on the media host), on a thread of its own — never in the API's event loop. The
Admin API listens on the media host's loopback only (``janus_config``), so only a process on that
host can ask it; the live worker may run elsewhere and only with the live analysis on.

What is read (``handle_info`` → ``webrtc.media[*]``; see tests/data/janus for recorded answers):
``stats.in`` / ``stats.out`` (packets, bytes, bytes in the last second, NACKs, retransmissions)
and ``rtcp.main`` (packets Janus found lost on what it received, packets the receiver reported
lost of what Janus sent, jitter both ways, RTT). Nothing else of the answer is kept: it also
carries the handle's token, SDPs and ICE candidates (addresses), which are never stored or logged.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from dualrec.core.rtc_queue import QueueStatus
from dualrec.db.models_rtc_quality import RtcQualitySampleRow
from dualrec.db.uow import UnitOfWorkFactory
from dualrec.services.rtc import tokens

__all__ = [
    "JanusAdmin",
    "JanusStatsSampler",
    "PartyView",
    "StreamView",
    "handle_streams",
    "party_view",
]

logger = logging.getLogger(__name__)

VIDEOROOM = "janus.plugin.videoroom"
ROLES = ("customer", "agent")


@dataclass(frozen=True)
class StreamView:
    """One medium of one handle as Janus counts it (cumulative since the handle's PeerConnection)."""

    feed: int  # the publisher's feed (a subscriber's stream: the feed it receives)
    direction: str  # in: Janus received it from the publisher; out: Janus sent it to a subscriber
    kind: str  # audio | video
    packets: int
    bytes: int
    bytes_lastsec: int
    nacks: int  # in: NACKs Janus sent the publisher; out: NACKs the subscriber sent Janus
    retransmissions: int
    lost: int  # in: packets Janus found missing; out: packets the subscriber reported lost (RTCP RR)
    jitter_ms: float
    rtt_ms: float


def _int(v: Any) -> int:
    return int(v) if isinstance(v, int | float) and not isinstance(v, bool) else 0


def handle_streams(info: Mapping[str, Any]) -> tuple[int | None, list[StreamView]]:
    """The room and the streams of one VideoRoom handle's ``handle_info`` (its ``info`` object);
    (None, []) for anything else (another plugin, a handle not in a room yet)."""
    if info.get("plugin") != VIDEOROOM:
        return None, []
    ps = info.get("plugin_specific") or {}
    room = ps.get("room")
    if not isinstance(room, int):
        return None, []
    kind_of_handle = ps.get("type")
    media = (info.get("webrtc") or {}).get("media") or {}
    out: list[StreamView] = []
    feeds_by_mindex: dict[int, int] = {}
    if kind_of_handle == "subscriber":
        for s in ps.get("streams") or ():
            if isinstance(s, Mapping) and isinstance(s.get("feed_id"), int):
                feeds_by_mindex[_int(s.get("mindex"))] = int(s["feed_id"])
    elif kind_of_handle != "publisher" or not isinstance(ps.get("id"), int):
        return room, []
    for m in media.values() if isinstance(media, Mapping) else ():
        if not isinstance(m, Mapping) or m.get("type") not in ("audio", "video"):
            continue
        rtcp = ((m.get("rtcp") or {}).get("main")) or {}
        stats = m.get("stats") or {}
        if kind_of_handle == "publisher":
            feed, direction, s = int(ps["id"]), "in", stats.get("in") or {}
            lost, jitter = _int(rtcp.get("lost")), rtcp.get("jitter-local")
        else:
            mindex = _int(m.get("mindex"))
            if mindex not in feeds_by_mindex:
                continue
            feed, direction, s = feeds_by_mindex[mindex], "out", stats.get("out") or {}
            lost, jitter = _int(rtcp.get("lost-by-remote")), rtcp.get("jitter-remote")
        out.append(
            StreamView(
                feed=feed,
                direction=direction,
                kind=str(m["type"]),
                packets=_int(s.get("packets")),
                bytes=_int(s.get("bytes")),
                bytes_lastsec=_int(s.get("bytes_lastsec")),
                nacks=_int(s.get("nacks")),
                retransmissions=_int(s.get("retransmissions")),
                lost=lost,
                jitter_ms=float(_int(jitter)),
                rtt_ms=float(_int(rtcp.get("rtt"))),
            )
        )
    return room, out


@dataclass(frozen=True)
class PartyView:
    """Janus' view of one party over one sampling interval: what it received from the party's
    publisher (its uplink, what is recorded) and what it sent to the party's subscriber (its
    downlink, as the party's RTCP reports tell)."""

    role: str
    audio_kbps: float = 0.0
    video_kbps: float = 0.0
    loss_pct: float = 0.0  # audio packets lost on the way in, over the interval
    video_loss_pct: float = 0.0
    jitter_ms: float = 0.0  # audio, as Janus measured the incoming stream
    rtt_ms: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)


def _pct(lost: int, packets: int) -> float:
    return round(100.0 * lost / (lost + packets), 2) if lost + packets > 0 else 0.0


def _delta(now: StreamView, before: StreamView | None) -> tuple[int, int, int, int]:
    """(packets, lost, nacks, retransmissions) over the interval; the totals when a new
    PeerConnection started them again (or on the first sample)."""
    if before is None or now.packets < before.packets:
        return now.packets, now.lost, now.nacks, now.retransmissions
    return (
        now.packets - before.packets,
        max(0, now.lost - before.lost),
        max(0, now.nacks - before.nacks),
        max(0, now.retransmissions - before.retransmissions),
    )


def party_view(
    role: str,
    feed: int,
    streams: list[StreamView],
    previous: Mapping[tuple[int, str, str], StreamView],
) -> PartyView | None:
    """What Janus saw of ``feed``'s party: its publisher's streams in, its subscriber's out (the
    subscriber streams of the *other* feeds sent to this party are picked by the caller)."""
    ins = {s.kind: s for s in streams if s.direction == "in" and s.feed == feed}
    outs = [s for s in streams if s.direction == "out" and s.feed != feed]
    if not ins and not outs:
        return None
    details: dict[str, Any] = {"in": {}, "out": {}}
    loss = {"audio": 0.0, "video": 0.0}
    for kind, s in ins.items():
        packets, lost, nacks, rtx = _delta(s, previous.get((s.feed, "in", kind)))
        loss[kind] = _pct(lost, packets)
        details["in"][kind] = {
            "packets": packets,
            "lost": lost,
            "nacks": nacks,
            "retransmissions": rtx,
            "kbps": round(s.bytes_lastsec * 8 / 1000, 1),
            "jitter_ms": s.jitter_ms,
        }
    for s in outs:
        packets, lost, nacks, _rtx = _delta(s, previous.get((s.feed, "out", s.kind)))
        details["out"][s.kind] = {
            "packets": packets,
            "lost_by_receiver": lost,
            "loss_pct": _pct(lost, packets),
            "nacks": nacks,
            "kbps": round(s.bytes_lastsec * 8 / 1000, 1),
            "rtt_ms": s.rtt_ms,
        }
    audio_in = ins.get("audio")
    rtts = [s.rtt_ms for s in outs if s.rtt_ms > 0]
    return PartyView(
        role=role,
        audio_kbps=round(ins["audio"].bytes_lastsec * 8 / 1000, 1) if "audio" in ins else 0.0,
        video_kbps=round(ins["video"].bytes_lastsec * 8 / 1000, 1) if "video" in ins else 0.0,
        loss_pct=loss["audio"],
        video_loss_pct=loss["video"],
        jitter_ms=audio_in.jitter_ms if audio_in is not None else 0.0,
        rtt_ms=max(rtts) if rtts else 0.0,
        details=details,
    )


class JanusAdmin:
    """The three Admin API requests the sampler needs, with the admin secret (loopback only)."""

    def __init__(
        self,
        url: str,
        admin_secret: str,
        *,
        timeout: float = 5.0,
        transport: httpx.BaseTransport | None = None,  # tests: recorded answers
    ) -> None:
        self.url = url.rstrip("/")
        self._secret = admin_secret
        self._client = httpx.Client(timeout=timeout, transport=transport)

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        body = {**body, "transaction": secrets.token_hex(8), "admin_secret": self._secret}
        data: dict[str, Any] = self._client.post(f"{self.url}{path}", json=body).json()
        if data.get("janus") != "success":
            raise RuntimeError(f"Janus admin {body['janus']}: {(data.get('error') or {}).get('reason')}")
        return data

    def sessions(self) -> list[int]:
        return [int(s) for s in self._post("", {"janus": "list_sessions"}).get("sessions") or ()]

    def handles(self, session: int) -> list[int]:
        return [int(h) for h in self._post(f"/{session}", {"janus": "list_handles"}).get("handles") or ()]

    def handle_info(self, session: int, handle: int) -> dict[str, Any]:
        info: dict[str, Any] = self._post(f"/{session}/{handle}", {"janus": "handle_info"}).get("info") or {}
        return info

    def close(self) -> None:
        self._client.close()


@dataclass(frozen=True)
class ActiveCall:
    task_id: str
    attempt: int
    room: int
    feeds: dict[str, int]  # role → feed id


class JanusStatsSampler:
    """Every ``interval`` seconds while calls run: the VideoRoom handles of their rooms, one row per
    party in ``rtc_quality_samples`` (role ``janus-<party>``). Errors are logged once per kind and
    retried at the next tick; no call → no Admin API request."""

    def __init__(
        self,
        uows: UnitOfWorkFactory,
        admin: Callable[[], JanusAdmin],
        room_key: Callable[[], str],
        *,
        interval: float = 5.0,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self._uows = uows
        self._admin_factory = admin
        self._room_key = room_key
        self.interval = interval
        self._now = now or (lambda: datetime.now(UTC))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._previous: dict[tuple[int, int, str, str], StreamView] = {}  # (room, feed, dir, kind)
        self._last_error = ""

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="janus-stats", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        admin: JanusAdmin | None = None
        try:
            while not self._stop.wait(self.interval):
                try:
                    if admin is None:
                        admin = self._admin_factory()
                    self.sample(admin)
                    self._last_error = ""
                except Exception as exc:  # Janus restarting, the database busy: the next tick retries
                    what = f"{type(exc).__name__}: {exc}"
                    if what != self._last_error:
                        logger.warning("Janus stats: %s", what)
                        self._last_error = what
        finally:
            if admin is not None:
                admin.close()

    def _calls(self) -> list[ActiveCall]:
        key = self._room_key()
        with self._uows.read() as uow:
            entries = [
                (e.task_id, e.attempt) for e in uow.rtc.open_entries() if e.status == QueueStatus.ACCEPTED
            ]
        return [
            ActiveCall(
                task_id,
                attempt,
                tokens.room_id(key, task_id, attempt),
                {role: tokens.feed_id(key, task_id, attempt, role) for role in ROLES},
            )
            for task_id, attempt in entries
        ]

    def sample(self, admin: JanusAdmin) -> int:
        """One round: the rows stored (0 when no call runs)."""
        calls = {c.room: c for c in self._calls()}
        if not calls:
            self._previous.clear()
            return 0
        by_room: dict[int, list[StreamView]] = {}
        for session in admin.sessions():
            for handle in admin.handles(session):
                room, streams = handle_streams(admin.handle_info(session, handle))
                if room in calls:
                    by_room.setdefault(room, []).extend(streams)
        at = self._now()
        rows = []
        seen: dict[tuple[int, int, str, str], StreamView] = {}
        for room, streams in by_room.items():
            call = calls[room]
            previous = {(k[1], k[2], k[3]): v for k, v in self._previous.items() if k[0] == room}
            party_feeds = set(call.feeds.values())
            for role, feed in call.feeds.items():
                # the party's downlink: what Janus sent to its subscriber = the other party's feeds
                other = [s for s in streams if s.direction == "out" and s.feed in party_feeds - {feed}]
                own = [s for s in streams if s.direction == "in" and s.feed == feed]
                view = party_view(role, feed, own + other, previous)
                if view is None:
                    continue
                rows.append(
                    RtcQualitySampleRow(
                        task_id=call.task_id,
                        attempt=call.attempt,
                        role=f"janus-{role}",
                        received_at=at,
                        audio_kbps=view.audio_kbps,
                        video_kbps=view.video_kbps,
                        loss_pct=view.loss_pct,
                        video_loss_pct=view.video_loss_pct,
                        jitter_ms=view.jitter_ms,
                        rtt_ms=view.rtt_ms,
                        details=view.details,
                    )
                )
            for s in streams:
                seen[(room, s.feed, s.direction, s.kind)] = s
        self._previous = seen
        if rows:
            with self._uows() as uow:
                uow.session.add_all(rows)
                uow.commit()
        return len(rows)
