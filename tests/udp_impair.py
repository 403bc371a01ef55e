"""A user-space UDP impairment relay for WebRTC tests and benches (the kernel here has no ``netem``;
see docs/remote-interview.md, "Weak network"): it sits between the browsers and Janus and drops,
delays (jitter) and rate-limits the media of chosen browsers.

How the media is forced through it (tests/e2e/test_rtc_quality.py): Janus advertises the relay's
address instead of its own (``nat_1_1_mapping`` = the relay's address, same ports), the relay
listens on that address on every port of Janus' RTP range and forwards each browser flow to Janus
from a socket of its own, and the browsers offer only candidates on addresses Janus has no route
to — so the direct path fails both ways and the relayed one is the only one ICE can find.

Impairment per direction of a flow (``Impairment``): ``loss`` (0..1, independent drops), ``jitter_ms``
(each packet delayed by a uniform 0..jitter: packets reorder, as on a real jittery path) and
``rate_kbps`` (a token bucket; packets that would wait more than ``queue_ms`` are dropped, as a
congested link's queue does). Which flows are impaired: those of a browser's ICE username fragment
(each PeerConnection's ``a=ice-ufrag``; the relay reads it from the STUN binding requests the
browser sends on each flow — a browser may send from any of its local addresses, so the address
does not say whose a flow is), or of a browser's source address; changeable while the call runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Impairment", "RelayStats", "UdpImpairRelay"]


@dataclass(frozen=True)
class Impairment:
    loss: float = 0.0  # 0..1
    jitter_ms: float = 0.0  # uniform extra delay 0..jitter
    rate_kbps: float = 0.0  # 0: unlimited
    delay_ms: float = 0.0  # constant one-way delay
    queue_ms: float = 400.0  # a packet that would queue longer is dropped

    @property
    def clean(self) -> bool:
        return self.loss <= 0 and self.jitter_ms <= 0 and self.rate_kbps <= 0 and self.delay_ms <= 0


@dataclass
class RelayStats:
    packets: int = 0
    dropped_loss: int = 0
    dropped_queue: int = 0
    bytes: int = 0


@dataclass
class _Link:
    """One direction of one browser's traffic: the token bucket's clock."""

    free_at: float = 0.0


@dataclass
class _Flow:
    browser: tuple[str, int]
    port: int
    upstream: asyncio.DatagramTransport | None = None
    pending: list[bytes] = field(default_factory=list)  # what arrived before the upstream socket
    ufrag: str = ""  # the browser's ICE username fragment (from its STUN binding requests)
    up: _Link = field(default_factory=_Link)
    down: _Link = field(default_factory=_Link)


class _Proto(asyncio.DatagramProtocol):
    def __init__(self, on_packet: Callable[[bytes, tuple[str, int]], None]) -> None:
        self.on_packet = on_packet

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:  # type: ignore[override]
        self.on_packet(data, addr)


class UdpImpairRelay:
    """Listens on ``listen_ip`` at each port of ``ports``, forwards to ``target_ip`` at the same port
    from ``source_ip``; runs its own event loop in a thread (``start``/``stop``)."""

    def __init__(
        self, listen_ip: str, target_ip: str, ports: range, *, source_ip: str | None = None, seed: int = 7
    ) -> None:
        self.listen_ip, self.target_ip, self.ports = listen_ip, target_ip, ports
        self.source_ip = source_ip or listen_ip
        self._rules: dict[str, Impairment] = {}  # browser ip or "ufrag:<ufrag>" → impairment
        self._rng = random.Random(seed)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._listeners: dict[int, asyncio.DatagramTransport] = {}
        self._flows: dict[tuple[int, tuple[str, int]], _Flow] = {}
        self._ready = threading.Event()
        self.stats = {"up": RelayStats(), "down": RelayStats()}

    # ---- control (any thread) ----

    def set(self, browser_ip: str, impairment: Impairment | None) -> None:
        """Impair (or, with None / a clean one, stop impairing) the flows of this browser address."""
        if impairment is None or impairment.clean:
            self._rules.pop(browser_ip, None)
        else:
            self._rules[browser_ip] = impairment

    def set_ufrags(self, ufrags: set[str], impairment: Impairment | None) -> None:
        """Impair the flows of these PeerConnections (their local ICE username fragments)."""
        for u in ufrags:
            self.set(f"ufrag:{u}", impairment)

    def start(self) -> UdpImpairRelay:
        self._thread = threading.Thread(target=self._run, name="udp-impair", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the UDP relay did not start")
        return self

    def stop(self) -> None:
        loop = self._loop
        if loop is not None:
            loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> UdpImpairRelay:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def flow_ufrags(self) -> list[tuple[int, str, str]]:
        """(Janus port, browser address, ufrag) of every flow seen."""
        return [(f.port, f.browser[0], f.ufrag) for f in list(self._flows.values())]

    @property
    def flows(self) -> int:
        return len(self._flows)

    # ---- the loop ----

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._open())
            self._ready.set()
            loop.run_forever()
        finally:
            for t in [*self._listeners.values(), *(f.upstream for f in self._flows.values() if f.upstream)]:
                t.close()
            with contextlib.suppress(Exception):
                loop.run_until_complete(asyncio.sleep(0))
            loop.close()

    async def _open(self) -> None:
        loop = asyncio.get_running_loop()
        for port in self.ports:
            transport, _ = await loop.create_datagram_endpoint(
                lambda port=port: _Proto(lambda d, a, port=port: self._from_browser(port, d, a)),
                local_addr=(self.listen_ip, port),
            )
            self._listeners[port] = transport

    def _from_browser(self, port: int, data: bytes, addr: tuple[str, int]) -> None:
        key = (port, addr)
        flow = self._flows.get(key)
        if flow is None:
            flow = _Flow(addr, port)
            self._flows[key] = flow
            asyncio.get_running_loop().create_task(self._connect(flow))
        if not flow.ufrag:
            flow.ufrag = stun_username_fragment(data)
        if flow.upstream is None and len(flow.pending) < 256:
            flow.pending.append(data)  # the first packets (ICE checks) wait for the upstream socket
            return
        self._forward_up(flow, data)

    async def _connect(self, flow: _Flow) -> None:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _Proto(lambda d, _a: self._from_janus(flow, d)),
            local_addr=(self.source_ip, 0),
            remote_addr=(self.target_ip, flow.port),
        )
        flow.upstream = transport
        for data in flow.pending:
            self._forward_up(flow, data)
        flow.pending.clear()

    def _forward_up(self, flow: _Flow, data: bytes) -> None:
        def send() -> None:
            if flow.upstream is not None:
                flow.upstream.sendto(data)

        self._impair("up", flow, flow.up, data, send)

    def _from_janus(self, flow: _Flow, data: bytes) -> None:
        listener = self._listeners.get(flow.port)

        def send() -> None:
            if listener is not None:
                listener.sendto(data, flow.browser)

        self._impair("down", flow, flow.down, data, send)

    def _impair(
        self, direction: str, flow: _Flow, link: _Link, data: bytes, send: Callable[[], None]
    ) -> None:
        st = self.stats[direction]
        st.packets += 1
        st.bytes += len(data)
        rule = self._rules.get(f"ufrag:{flow.ufrag}") if flow.ufrag else None
        rule = rule or self._rules.get(flow.browser[0])
        if rule is None:
            send()
            return
        if rule.loss > 0 and self._rng.random() < rule.loss:
            st.dropped_loss += 1
            return
        now = time.monotonic()
        wait = 0.0
        if rule.rate_kbps > 0:
            start = max(now, link.free_at)
            if start - now > rule.queue_ms / 1000:
                st.dropped_queue += 1
                return
            link.free_at = start + len(data) * 8 / (rule.rate_kbps * 1000)
            wait = link.free_at - now
        wait += rule.delay_ms / 1000 + (
            self._rng.uniform(0, rule.jitter_ms) / 1000 if rule.jitter_ms > 0 else 0
        )
        if wait <= 0:
            send()
        else:
            asyncio.get_running_loop().call_later(wait, send)


STUN_COOKIE = 0x2112A442


def stun_username_fragment(data: bytes) -> str:
    """The sender's ICE ufrag from a STUN binding request (USERNAME = "<receiver>:<sender>"), or ""."""
    if len(data) < 20 or data[0] >> 6 != 0:
        return ""
    kind, length, cookie = struct.unpack("!HHI", data[:8])
    if kind != 0x0001 or cookie != STUN_COOKIE or 20 + length > len(data):
        return ""
    pos = 20
    while pos + 4 <= 20 + length:
        attr, size = struct.unpack("!HH", data[pos : pos + 4])
        if attr == 0x0006:
            name = data[pos + 4 : pos + 4 + size].decode("utf-8", "replace")
            return name.split(":", 1)[1] if ":" in name else ""
        pos += 4 + size + (-size % 4)
    return ""
