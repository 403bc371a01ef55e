"""The cheap load generator of bench/rtc.py (``--generator aiortc``): each call is an agent and a
customer written in Python with aiortc, taking the same path as the browsers' pages.

- The agent: a console session (admin log-in), POST /api/v1/rtc/tasks/{id}/join (as the task page's
  "开始视频通话" does), hang-up with POST …/hangup.
- The customer: the task's link only — queued before the start (POST /api/v1/rtc/entry/{link}/queue),
  polls its place every second until the agent took the call, then POST …/entry/{link}/join.
- Both talk to Janus only through dualrec's proxy (/api/v1/rtc/janus/…) with the tokens of their
  grant: session and attach with the core token, the publisher joins the room as the grant's own
  feed with the feed-bound room token, then a second handle subscribes to the other party's feed.
- During the call each side does what its page does to dualrec: polls the shared desk every 0.7 s
  and reports the received media's quality every 2 s (so dualrec's CPU per call is comparable).

Cheap because nothing is encoded or decoded: each side publishes pre-encoded VP8 and Opus packets
(read once from a .webm that bench/rtc.py makes with FFmpeg), paced in real time and looped; a key
frame is sent when Janus asks for one (PLI/FIR), as an encoder would. The received frames are
counted and timed straight out of aiortc's jitter buffer (its decoder replaced by a counter), see
bench/_rtc_stats.py for what "carried" means. ICE uses only the host side of the test's veth
(the machine's own address is never offered) and no STUN server.

Runs in worker processes (``run_worker``): several calls per process, one asyncio loop each.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from bench._rtc_stats import Arrivals, carried, set_up_time, vp8_keyframe_size

CSRF = {"X-Requested-With": "dualrec"}
# the set-up steps each side marks, in order (seconds after the generator's first request of the call)
STEPS = (
    "accepted",  # the customer's queue poll saw that the agent took the call
    "grant",  # dualrec answered the join request
    "session",  # Janus session created (through the proxy)
    "offer",  # own offer made (ICE candidates gathered, beside the session), joinandconfigure sent
    "joined",  # joined the room as the grant's publisher feed (with the answer)
    "answer",  # Janus' answer arrived over the long poll
    "peer",  # the other party's feed listed: subscribing
    "peer-offer",  # Janus' offer for the other party's media
    "peer-answer",  # own answer made, start sent
    "remote-audio",  # the first audio packet of the other party
    "remote-video",  # the first whole video frame of the other party
)
VIDEO_TB = fractions.Fraction(1, 90000)
AUDIO_TB = fractions.Fraction(1, 48000)
DESK_POLL_S = 0.7  # frontend/src/features/rtc/deskApi.ts POLL_MS
DESK_WAIT_S = 5  # deskApi.ts WAIT_S: the request is held until the desk changes
QUALITY_S = 2.0  # frontend/src/features/rtc/useCallStats.ts REPORT_INTERVAL_MS
QUEUE_POLL_S = 1.0  # CustomerCall.vue POLL_MS (a request that was not held)
QUEUE_WAIT_S = 5  # CustomerCall.vue WAIT_S
KEEPALIVE_S = 25.0  # janus.js


# ---- pre-encoded media --------------------------------------------------------------------------


@dataclass(frozen=True)
class Encoded:
    """One role's media: VP8 frames (payload, key frame?) at ``fps`` and 20 ms Opus packets."""

    video: list[tuple[bytes, bool]]
    audio: list[bytes]
    fps: float


def load_media(path: Path) -> Encoded:
    import av

    video: list[tuple[bytes, bool]] = []
    audio: list[bytes] = []
    fps = 25.0
    with av.open(str(path)) as container:
        vs = container.streams.video[0]
        if vs.average_rate:
            fps = float(vs.average_rate)
        for packet in container.demux():
            if not packet.size:
                continue
            if packet.stream.type == "video":
                video.append((bytes(packet), bool(packet.is_keyframe)))
            elif packet.stream.type == "audio":
                audio.append(bytes(packet))
    if not video or not video[0][1] or not audio:
        raise ValueError(f"{path}: expected VP8 starting with a key frame, and Opus")
    return Encoded(video, audio, fps)


def _track_classes() -> tuple[type, type]:
    """The aiortc track classes, defined lazily (aiortc is an optional dependency: ``[bench]``)."""
    import av
    from aiortc import MediaStreamTrack

    class PacketTrack(MediaStreamTrack):  # type: ignore[misc]
        """Relays pre-encoded packets in real time, looping; never encodes."""

        def __init__(self, kind: str, media: Encoded) -> None:
            super().__init__()
            self.kind = kind
            self._media = media
            self._n = 0  # packets sent
            self._src = 0  # index into the source
            self._t0: float | None = None
            self.sender: Any = None  # set after addTrack: to honour key frame requests

        async def recv(self) -> Any:
            if self.readyState != "live":
                raise _stopped()
            now = time.monotonic()
            if self._t0 is None:
                self._t0 = now
            if self.kind == "video":
                step = 1.0 / self._media.fps
                due = self._t0 + self._n * step
                if due > now:
                    await asyncio.sleep(due - now)
                frames = self._media.video
                if self._src >= len(frames):
                    self._src = 0
                if self._keyframe_asked() and not frames[self._src][1]:
                    self._src = next(i for i, (_, key) in enumerate(frames) if key)
                data, _key = frames[self._src]
                packet = av.Packet(data)
                packet.pts = round(self._n * step / VIDEO_TB)
                packet.time_base = VIDEO_TB
            else:
                due = self._t0 + self._n * 0.02
                if due > now:
                    await asyncio.sleep(due - now)
                clips = self._media.audio
                if self._src >= len(clips):
                    self._src = 0
                packet = av.Packet(clips[self._src])
                packet.pts = self._n * 960
                packet.time_base = AUDIO_TB
            self._n += 1
            self._src += 1
            return packet

        def _keyframe_asked(self) -> bool:
            name = "_RTCRtpSender__force_keyframe"
            if self.sender is not None and getattr(self.sender, name, False):
                setattr(self.sender, name, False)
                return True
            return False

    class CountingDecoder:
        """Stands in for aiortc's decoder: hands the encoded frame on (no decoding)."""

        def decode(self, encoded_frame: Any) -> list[Any]:
            return [encoded_frame]

    return PacketTrack, CountingDecoder


def _stopped() -> Exception:
    from aiortc.mediastreams import MediaStreamError

    return MediaStreamError()


def patch_aiortc(host_ip: str) -> None:
    """ICE host candidates on ``host_ip`` only; the receivers count frames instead of decoding."""
    import aioice.ice
    import aiortc.rtcrtpreceiver

    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: [host_ip]  # type: ignore[assignment]
    _packet_track, counting = _track_classes()
    aiortc.rtcrtpreceiver.get_decoder = lambda codec: counting()  # type: ignore[assignment]


# ---- Janus through dualrec's proxy -------------------------------------------------------------


class JanusError(RuntimeError):
    pass


class JanusSession:
    """A Janus session over the HTTP API as janus.js uses it: requests by POST, events by long poll."""

    def __init__(self, http: httpx.AsyncClient, path: str, token: str) -> None:
        self.http, self.path, self.token = http, path, token
        self.id = 0
        self.events: dict[int, asyncio.Queue[dict[str, Any]]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = False

    async def _post(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        body = {**body, "transaction": secrets.token_hex(6), "token": self.token}
        r = await self.http.post(url, json=body)
        if r.status_code != 200:
            raise JanusError(f"{body['janus']}: HTTP {r.status_code} {r.text[:200]}")
        out: dict[str, Any] = r.json()
        if out.get("janus") == "error":
            raise JanusError(f"{body['janus']}: {out.get('error')}")
        return out

    async def create(self) -> None:
        self.id = (await self._post(self.path, {"janus": "create"}))["data"]["id"]
        self._tasks = [asyncio.create_task(self._poll()), asyncio.create_task(self._keepalive())]

    async def attach(self) -> int:
        body = {"janus": "attach", "plugin": "janus.plugin.videoroom"}
        out = await self._post(f"{self.path}/{self.id}", body)
        handle: int = out["data"]["id"]
        self.events[handle] = asyncio.Queue()
        return handle

    async def message(self, handle: int, body: dict[str, Any], jsep: dict[str, str] | None = None) -> None:
        request: dict[str, Any] = {"janus": "message", "body": body}
        if jsep is not None:
            request["jsep"] = jsep
        await self._post(f"{self.path}/{self.id}/{handle}", request)

    async def event(self, handle: int, timeout: float = 30) -> dict[str, Any]:
        return await asyncio.wait_for(self.events[handle].get(), timeout)

    async def _poll(self) -> None:
        while not self._closed:
            try:
                r = await self.http.get(
                    f"{self.path}/{self.id}",
                    params={"rid": str(int(time.time() * 1000)), "maxev": "10", "token": self.token},
                    timeout=httpx.Timeout(10.0, read=70.0),
                )
                events = r.json()
            except (httpx.HTTPError, ValueError):
                if self._closed:
                    return
                await asyncio.sleep(0.5)
                continue
            for ev in events if isinstance(events, list) else [events]:
                queue = self.events.get(ev.get("sender", 0))
                if queue is not None:
                    queue.put_nowait(ev)

    async def _keepalive(self) -> None:
        while not self._closed:
            await asyncio.sleep(KEEPALIVE_S)
            with contextlib.suppress(httpx.HTTPError, JanusError):
                await self._post(f"{self.path}/{self.id}", {"janus": "keepalive"})

    async def destroy(self) -> None:
        self._closed = True
        for t in self._tasks:
            t.cancel()
        with contextlib.suppress(httpx.HTTPError, JanusError):
            await self._post(f"{self.path}/{self.id}", {"janus": "destroy"})


def _only_veth(sdp: str, host_ip: str) -> None:
    """Refuses to offer any ICE candidate but the test veth's (never the machine's own address)."""
    for line in sdp.splitlines():
        if line.startswith("a=candidate:") and f" {host_ip} " not in line:
            raise RuntimeError(f"ICE candidate outside the test's veth: {line}")


def _plugin(ev: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = ev.get("plugindata", {}).get("data", {})
    if "error" in data:
        raise JanusError(f"videoroom: {data.get('error_code')} {data['error']}")
    return data


# ---- one side of a call -----------------------------------------------------------------------


@dataclass
class Side:
    role: str
    video: Arrivals = field(default_factory=Arrivals)
    audio: Arrivals = field(default_factory=Arrivals)
    size: tuple[int, int] = (0, 0)
    error: str = ""
    desk_polls: int = 0
    quality_reports: int = 0
    marks: dict[str, float] = field(default_factory=dict)  # set-up step → monotonic time (STEPS)

    def mark(self, step: str) -> None:
        self.marks.setdefault(step, time.monotonic())


class Participant:
    """One party: publishes its packets, subscribes to the other's feed, counts what arrives."""

    def __init__(
        self, http: httpx.AsyncClient, grant: dict[str, Any], media: Encoded, side: Side, host_ip: str
    ) -> None:
        self.http, self.grant, self.media, self.side, self.host_ip = http, grant, media, side, host_ip
        self.session = JanusSession(http, grant["janus_path"], grant["core_token"])
        self.pcs: list[Any] = []
        self.tasks: list[asyncio.Task[Any]] = []
        self._subscribed = False

    def _pc(self) -> Any:
        from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection

        servers = [RTCIceServer(**s) for s in self.grant.get("ice_servers", [])]
        pc = RTCPeerConnection(RTCConfiguration(iceServers=servers))  # [] → no default STUN server
        self.pcs.append(pc)
        return pc

    async def _offer(self) -> Any:
        """The publisher's PeerConnection with its offer (ICE candidates gathered): made while the
        Janus session and handle are being made, as a page opens its camera beside them."""
        from aiortc import RTCRtpSender

        packet_track, _ = _track_classes()
        pc = self._pc()
        for kind, mime in (("audio", "audio/opus"), ("video", "video/VP8")):
            track = packet_track(kind, self.media)
            transceiver = pc.addTransceiver(track, direction="sendonly")
            codecs = RTCRtpSender.getCapabilities(kind).codecs
            transceiver.setCodecPreferences(
                [c for c in codecs if c.mimeType.lower() in (mime.lower(), f"{kind}/rtx")]
            )
            track.sender = transceiver.sender
        await pc.setLocalDescription(await pc.createOffer())
        _only_veth(pc.localDescription.sdp, self.host_ip)
        return pc

    async def start(self) -> None:
        from aiortc import RTCSessionDescription

        g = self.grant
        self.side.mark("grant")
        offer = asyncio.create_task(self._offer())
        await self.session.create()
        self.side.mark("session")
        handle = await self.session.attach()
        pc = await offer
        self.side.mark("offer")
        # join and publish in one request, as the pages do (janusCall.ts): the answer comes with "joined"
        await self.session.message(
            handle,
            {
                "request": "joinandconfigure",
                "ptype": "publisher",
                "room": g["room"],
                "id": g["feed_id"],
                "display": g["display"],
                "token": g["room_token"],
                "audio": True,
                "video": True,
            },
            {"type": "offer", "sdp": pc.localDescription.sdp},
        )
        while True:
            ev = await self.session.event(handle)
            data = _plugin(ev)
            if data.get("videoroom") == "joined":
                self.side.mark("joined")
            self._watch_publishers(data)
            if "jsep" in ev:
                self.side.mark("answer")
                await pc.setRemoteDescription(RTCSessionDescription(ev["jsep"]["sdp"], ev["jsep"]["type"]))
                break
        self.tasks.append(asyncio.create_task(self._publisher_events(handle)))

    def _watch_publishers(self, data: dict[str, Any]) -> None:
        if self._subscribed:
            return
        if any(p.get("id") == self.grant["peer_feed_id"] for p in data.get("publishers", [])):
            self._subscribed = True
            self.side.mark("peer")
            self.tasks.append(asyncio.create_task(self._subscribe()))

    async def _publisher_events(self, handle: int) -> None:
        """After the answer: the room's events on the publisher's handle (the other party appears)."""
        while True:
            ev = await self.session.event(handle, timeout=3600)
            with contextlib.suppress(JanusError):
                self._watch_publishers(_plugin(ev))

    async def _subscribe(self) -> None:
        from aiortc import RTCSessionDescription

        g = self.grant
        try:
            handle = await self.session.attach()
            await self.session.message(
                handle,
                {
                    "request": "join",
                    "ptype": "subscriber",
                    "room": g["room"],
                    "streams": [{"feed": g["peer_feed_id"]}],
                    "token": g["room_token"],
                },
            )
            while True:
                ev = await self.session.event(handle)
                _plugin(ev)
                if "jsep" in ev:
                    break
            self.side.mark("peer-offer")
            pc = self._pc()

            @pc.on("track")  # type: ignore[untyped-decorator]
            def on_track(track: Any) -> None:
                self.tasks.append(asyncio.create_task(self._count(track)))

            await pc.setRemoteDescription(RTCSessionDescription(ev["jsep"]["sdp"], ev["jsep"]["type"]))
            await pc.setLocalDescription(await pc.createAnswer())
            _only_veth(pc.localDescription.sdp, self.host_ip)
            self.side.mark("peer-answer")
            answer = {"type": "answer", "sdp": pc.localDescription.sdp}
            await self.session.message(handle, {"request": "start", "room": g["room"]}, answer)
        except Exception as exc:  # reported with the call's result
            self.side.error = f"subscribe: {exc!r}"[:300]

    async def _count(self, track: Any) -> None:
        arrivals = self.side.video if track.kind == "video" else self.side.audio
        while True:
            try:
                frame = await track.recv()
            except Exception:  # the track ended (hang-up)
                return
            data = bytes(frame.data)
            arrivals.add(time.monotonic(), len(data))
            self.side.mark(f"remote-{track.kind}")
            if track.kind == "video" and self.side.size == (0, 0):
                self.side.size = vp8_keyframe_size(data) or (0, 0)

    def page_like_traffic(self, desk_url: str, quality_url: str) -> None:
        """The desk poll and the quality reports the call's page sends to dualrec."""
        self.tasks.append(asyncio.create_task(self._desk(desk_url)))
        self.tasks.append(asyncio.create_task(self._quality(quality_url)))

    async def _desk(self, url: str) -> None:
        """As the pages: each request names the seq shown and is held until the desk changes."""
        seq: int | None = None
        while True:
            asked = time.monotonic()
            try:
                params = {} if seq is None else {"after": seq, "wait": DESK_WAIT_S}
                r = await self.http.get(url, params=params)
                self.side.desk_polls += 1
                new = r.json().get("seq") if r.status_code == 200 else None
            except (httpx.HTTPError, ValueError):
                new = None
            if new is None or (new == seq and time.monotonic() - asked < 0.3):
                await asyncio.sleep(DESK_POLL_S)  # an error, or an answer that was not held
            seq = new if new is not None else seq

    async def _quality(self, url: str) -> None:
        while True:
            await asyncio.sleep(QUALITY_S)
            now = time.monotonic()
            if self.side.video.first is None:
                continue
            w, h = self.side.size
            body = {
                "width": w,
                "height": h,
                "fps": round(self.side.video.rate(now, QUALITY_S), 2),
                "video_kbps": round(self.side.video.kbps(now, QUALITY_S), 1),
                "audio_kbps": round(self.side.audio.kbps(now, QUALITY_S), 1),
                "send_width": w,
                "send_height": h,
                "send_fps": self.media.fps,
                "limitation": "none",
            }
            with contextlib.suppress(httpx.HTTPError):
                r = await self.http.post(url, json=body)
                self.side.quality_reports += r.status_code == 200

    async def close(self) -> None:
        for t in self.tasks:
            t.cancel()
        for pc in self.pcs:
            with contextlib.suppress(Exception):
                await pc.close()
        await self.session.destroy()


# ---- the calls of one worker process -----------------------------------------------------------


@dataclass
class CallResult:
    index: int
    task_id: str
    setup_s: float | None = None
    carried: bool = False
    agent: dict[str, Any] = field(default_factory=dict)
    customer: dict[str, Any] = field(default_factory=dict)
    hung_at: float = 0.0  # wall clock
    error: str = ""


def _side_summary(side: Side, end: float, started: float) -> dict[str, Any]:
    return {
        "marks": {step: round(at - started, 3) for step, at in side.marks.items()},
        "fps": round(side.video.rate(end), 1),
        "audio_pps": round(side.audio.rate(end), 1),
        "video_kbps": round(side.video.kbps(end), 1),
        "frames": len(side.video.times),
        "audio_packets": len(side.audio.times),
        "size": side.size,
        "desk_polls": side.desk_polls,
        "quality_reports": side.quality_reports,
        "error": side.error,
    }


async def _calls(
    base: str,
    password: str,
    calls: list[tuple[int, str, str]],
    media_paths: dict[str, str],
    hold: float,
    barrier: Any,
    host_ip: str,
    page_traffic: bool,
    arrival: float = 0.0,
) -> list[CallResult]:
    patch_aiortc(host_ip)
    media = {role: load_media(Path(p)) for role, p in media_paths.items()}
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    timeout = httpx.Timeout(30.0)
    loop = asyncio.get_running_loop()
    async with contextlib.AsyncExitStack() as stack:
        agent_http = await stack.enter_async_context(
            httpx.AsyncClient(base_url=base, headers=CSRF, limits=limits, timeout=timeout)
        )
        r = await agent_http.post("/api/v1/auth/login", json={"username": "admin", "password": password})
        r.raise_for_status()
        customer_http = []
        for _index, _task_id, link in calls:
            c = await stack.enter_async_context(
                httpx.AsyncClient(base_url=base, headers=CSRF, limits=limits, timeout=timeout)
            )
            (await c.post(f"/api/v1/rtc/entry/{link}/queue")).raise_for_status()  # waiting for the agent
            customer_http.append(c)
        results = [CallResult(index, task_id) for index, task_id, _ in calls]
        sides = [(Side("agent"), Side("customer")) for _ in calls]
        parties: list[Participant] = []
        started: list[float] = [0.0] * len(calls)

        async def agent(i: int) -> None:
            task_id = calls[i][1]
            r = await agent_http.post(f"/api/v1/rtc/tasks/{task_id}/join")
            r.raise_for_status()
            p = Participant(agent_http, r.json(), media["agent"], sides[i][0], host_ip)
            parties.append(p)
            await p.start()
            if page_traffic:
                p.page_like_traffic(
                    f"/api/v1/rtc/tasks/{task_id}/desk/state", f"/api/v1/rtc/tasks/{task_id}/quality"
                )

        async def customer(i: int) -> None:
            link, http = calls[i][2], customer_http[i]
            while True:  # as the page: a held request, answered as soon as the agent took the call
                asked = time.monotonic()
                state = (
                    await http.get(f"/api/v1/rtc/entry/{link}/queue", params={"wait": QUEUE_WAIT_S})
                ).json()
                if state.get("status") == "accepted":
                    sides[i][1].mark("accepted")
                    break
                if time.monotonic() - asked < 0.5:
                    await asyncio.sleep(QUEUE_POLL_S)
            r = await http.post(f"/api/v1/rtc/entry/{link}/join")
            r.raise_for_status()
            p = Participant(http, r.json(), media["customer"], sides[i][1], host_ip)
            parties.append(p)
            await p.start()
            if page_traffic:
                entry = f"/api/v1/rtc/entry/{link}"
                p.page_like_traffic(f"{entry}/desk/state", f"{entry}/quality")

        async def one_call(i: int) -> None:
            await asyncio.sleep(calls[i][0] * arrival)  # the call's global index: its place in the arrivals
            started[i] = time.monotonic()
            outcome = await asyncio.gather(agent(i), customer(i), return_exceptions=True)
            roles = ("agent", "customer")
            errors = [f"{who}: {e!r}"[:300] for who, e in zip(roles, outcome, strict=True) if e]
            results[i].error = "; ".join(errors)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                firsts = [s.first for side in sides[i] for s in (side.video, side.audio)]
                if all(f is not None for f in firsts):
                    results[i].setup_s = set_up_time(started[i], firsts)
                    return
                await asyncio.sleep(0.02)

        await loop.run_in_executor(None, barrier.wait)  # every worker prepared: start together
        await asyncio.gather(*(one_call(i) for i in range(len(calls))))
        await loop.run_in_executor(None, barrier.wait)  # every call up (or given up): the hold
        await asyncio.sleep(hold)
        end = time.monotonic()
        for i, (a, c) in enumerate(sides):
            results[i].agent = _side_summary(a, end, started[i])
            results[i].customer = _side_summary(c, end, started[i])
            results[i].carried = carried(a.video, a.audio, end) and carried(c.video, c.audio, end)
        for res in results:
            r = await agent_http.post(f"/api/v1/rtc/tasks/{res.task_id}/hangup")
            res.hung_at = time.time()
            if r.status_code != 200:
                res.error += f"; hangup HTTP {r.status_code}"
        await asyncio.gather(*(p.close() for p in parties), return_exceptions=True)
    return results


def run_worker(
    base: str,
    password: str,
    calls: list[tuple[int, str, str]],
    media_paths: dict[str, str],
    hold: float,
    barrier: Any,
    host_ip: str,
    out: Any,
    page_traffic: bool = True,
    arrival: float = 0.0,
) -> None:
    """A worker process: its calls, then the results put on ``out`` (a multiprocessing queue)."""
    try:
        work = _calls(base, password, calls, media_paths, hold, barrier, host_ip, page_traffic, arrival)
        results = asyncio.run(work)
        out.put([r.__dict__ for r in results])
    except BaseException as exc:
        with contextlib.suppress(Exception):
            barrier.abort()
        out.put([{"index": i, "task_id": t, "error": f"worker: {exc!r}"[:500]} for i, t, _ in calls])
        raise
