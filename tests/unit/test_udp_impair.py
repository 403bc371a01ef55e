"""The UDP impairment relay the weak-network tests put on the media path: clean it forwards
everything both ways; impaired it drops, delays and rate-limits as configured (on loopback)."""

from __future__ import annotations

import os
import socket
import statistics
import threading
import time

from tests.udp_impair import Impairment, UdpImpairRelay


def _echo(ip: str, port: int, stop: threading.Event) -> threading.Thread:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((ip, port))
    sock.settimeout(0.2)

    def run() -> None:
        while not stop.is_set():
            try:
                data, addr = sock.recvfrom(2048)
            except TimeoutError:
                continue
            sock.sendto(data, addr)
        sock.close()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def _roundtrips(port: int, n: int, size: int = 200, gap: float = 0.002) -> list[float]:
    """Sends n numbered packets to the relay; the round-trip times of those that came back (read
    while sending: a socket's buffer holds only ~160 small datagrams)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.3", 0))
    sock.settimeout(0.05)
    sent: dict[int, float] = {}
    back: list[float] = []
    done = threading.Event()

    def read() -> None:
        deadline = None
        while deadline is None or time.monotonic() < deadline:
            if deadline is None and done.is_set():
                deadline = time.monotonic() + 1.5
            try:
                data, _ = sock.recvfrom(2048)
            except TimeoutError:
                continue
            back.append(time.monotonic() - sent[int.from_bytes(data[:4], "big")])

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    for i in range(n):
        sent[i] = time.monotonic()
        sock.sendto(i.to_bytes(4, "big") + b"x" * (size - 4), ("127.0.0.2", port))
        if gap:
            time.sleep(gap)
    done.set()
    reader.join()
    sock.close()
    return back


def test_the_relay_forwards_drops_delays_and_limits() -> None:
    port = 41000 + os.getpid() % 2000
    stop = threading.Event()
    _echo("127.0.0.1", port, stop)
    try:
        with UdpImpairRelay("127.0.0.2", "127.0.0.1", range(port, port + 1)) as relay:
            _roundtrips(port, 1)  # opens the flow
            assert len(_roundtrips(port, 200)) == 200  # clean: everything, both ways

            relay.set("127.0.0.3", Impairment(loss=0.3))
            got = len(_roundtrips(port, 400))
            assert 0.40 * 400 < got < 0.58 * 400, got  # 0.7 × 0.7 = 49 % survive both ways

            relay.set("127.0.0.3", Impairment(jitter_ms=200))
            rtts = _roundtrips(port, 100, gap=0.005)
            assert len(rtts) == 100
            assert 0.12 < statistics.mean(rtts) < 0.30 and max(rtts) - min(rtts) > 0.15  # 2 × U(0, 200 ms)

            relay.set("127.0.0.3", Impairment(rate_kbps=200, queue_ms=400))
            got = len(_roundtrips(port, 200, size=1000, gap=0.0))  # a 1.6 Mbit burst
            assert 5 <= got <= 20, got  # ~ 400 ms × 200 kbit/s ÷ 8 kbit per packet = 10 pass

            relay.set("127.0.0.3", None)
            assert len(_roundtrips(port, 50)) == 50
    finally:
        stop.set()


def test_the_browser_ufrag_is_read_from_a_stun_binding_request() -> None:
    import struct

    from tests.udp_impair import STUN_COOKIE, stun_username_fragment

    name = b"janusUfr:brows3r"
    attr = struct.pack("!HH", 0x0006, len(name)) + name + b"\0" * (-len(name) % 4)
    other = struct.pack("!HH", 0x0024, 4) + b"\0\0\0\1"  # PRIORITY before USERNAME
    body = other + attr
    packet = struct.pack("!HHI", 0x0001, len(body), STUN_COOKIE) + b"t" * 12 + body
    assert stun_username_fragment(packet) == "brows3r"
    assert stun_username_fragment(b"\x80" + packet[1:]) == ""  # RTP, not STUN
    assert stun_username_fragment(packet[:-3]) == ""  # truncated
    assert stun_username_fragment(struct.pack("!HHI", 0x0101, 0, STUN_COOKIE) + b"t" * 12) == ""
