"""A real coturn (`turnserver`, Debian's `coturn`) started by a test, and a small TURN client that
asks it for an allocation the way a browser does (RFC 5766 Allocate with the long-term
credentials of the TURN REST scheme dualrec hands out: docs/remote-interview.md, "TURN").

The server listens on one address the test chose (loopback, or the host side of a test-made veth),
relays from that address only, and may relay only to the peers the test allows: every other peer
address is denied (``denied-peer-ip`` 0.0.0.0-255.255.255.255), so it can never send media to
the machine's own network address.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import shutil
import socket
import struct
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

MAGIC = 0x2112A442
ALLOCATE, CREATE_PERMISSION, BINDING = 0x0003, 0x0008, 0x0001
USERNAME, MESSAGE_INTEGRITY, ERROR_CODE, REALM, NONCE = 0x0006, 0x0008, 0x0009, 0x0014, 0x0015
XOR_PEER_ADDRESS, XOR_RELAYED_ADDRESS, REQUESTED_TRANSPORT = 0x0012, 0x0016, 0x0019


def _attr(kind: int, value: bytes) -> bytes:
    return struct.pack("!HH", kind, len(value)) + value + b"\0" * (-len(value) % 4)


def _xor_address(ip: str, port: int) -> bytes:
    addr = struct.unpack("!I", socket.inet_aton(ip))[0] ^ MAGIC
    return struct.pack("!BBHI", 0, 1, port ^ (MAGIC >> 16), addr)


def _parse(data: bytes) -> tuple[int, dict[int, bytes]]:
    kind, length, _magic = struct.unpack("!HHI", data[:8])
    attrs: dict[int, bytes] = {}
    at = 20
    while at + 4 <= 20 + length:
        t, n = struct.unpack("!HH", data[at : at + 4])
        attrs.setdefault(t, data[at + 4 : at + 4 + n])
        at += 4 + n + (-n % 4)
    return kind, attrs


def _error(attrs: dict[int, bytes]) -> int:
    value = attrs.get(ERROR_CODE, b"\0\0\0\0")
    return (value[2] & 7) * 100 + value[3]


@dataclass
class TurnAnswer:
    code: int  # 0: success; else the STUN error code (401 unauthorized, 403 forbidden, …)
    relayed: tuple[str, int] | None = None


class TurnClient:
    """One UDP client of a TURN server: Allocate, then CreatePermission on that allocation."""

    def __init__(self, server: tuple[str, int], username: str, password: str, timeout: float = 3.0) -> None:
        self.server, self.username, self.password = server, username, password
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((server[0], 0))  # the client on the server's own (test-chosen) address
        self.sock.settimeout(timeout)
        self.realm = b""
        self.nonce = b""

    def close(self) -> None:
        self.sock.close()

    def _send(self, kind: int, attrs: bytes, signed: bool) -> tuple[int, dict[int, bytes]]:
        txid = secrets.token_bytes(12)
        if signed:
            attrs += (
                _attr(USERNAME, self.username.encode()) + _attr(REALM, self.realm) + _attr(NONCE, self.nonce)
            )
            header = struct.pack("!HHI", kind, len(attrs) + 24, MAGIC) + txid
            key = hashlib.md5(
                self.username.encode() + b":" + self.realm + b":" + self.password.encode()
            ).digest()
            mac = hmac.new(key, header + attrs, hashlib.sha1).digest()
            packet = header + attrs + _attr(MESSAGE_INTEGRITY, mac)
        else:
            packet = struct.pack("!HHI", kind, len(attrs), MAGIC) + txid + attrs
        self.sock.sendto(packet, self.server)
        while True:
            data, _ = self.sock.recvfrom(2048)
            if data[8:20] == txid:
                return _parse(data)

    def allocate(self) -> TurnAnswer:
        transport = _attr(REQUESTED_TRANSPORT, bytes([17, 0, 0, 0]))  # UDP
        kind, attrs = self._send(ALLOCATE, transport, signed=False)
        if kind & 0x0110 == 0x0110 and _error(attrs) == 401:  # the challenge: realm and nonce
            self.realm, self.nonce = attrs[REALM], attrs[NONCE]
            kind, attrs = self._send(ALLOCATE, transport, signed=True)
        if kind & 0x0110 == 0x0110:
            return TurnAnswer(_error(attrs))
        value = attrs[XOR_RELAYED_ADDRESS]
        port = struct.unpack("!H", value[2:4])[0] ^ (MAGIC >> 16)
        ip = socket.inet_ntoa(struct.pack("!I", struct.unpack("!I", value[4:8])[0] ^ MAGIC))
        return TurnAnswer(0, (ip, port))

    def permit(self, peer_ip: str) -> int:
        """CreatePermission for ``peer_ip`` (nothing is sent to it): 0, or the error code."""
        kind, attrs = self._send(
            CREATE_PERMISSION, _attr(XOR_PEER_ADDRESS, _xor_address(peer_ip, 9)), signed=True
        )
        return _error(attrs) if kind & 0x0110 == 0x0110 else 0


def has_turnserver() -> bool:
    return shutil.which("turnserver") is not None


def _answers_binding(ip: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.3)
        txid = secrets.token_bytes(12)
        try:
            sock.sendto(struct.pack("!HHI", BINDING, 0, MAGIC) + txid, (ip, port))
            data, _ = sock.recvfrom(2048)
        except OSError:
            return False
        return data[8:20] == txid


@dataclass(frozen=True)
class TurnServer:
    ip: str
    port: int
    secret: str
    realm: str
    log: Path

    @property
    def url(self) -> str:
        return f"turn:{self.ip}:{self.port}?transport=udp"


@contextmanager
def turn_server(
    work: Path, ip: str, allowed_peers: tuple[str, ...], secret: str = ""
) -> Iterator[TurnServer]:
    """`turnserver` on ``ip`` only (listening and relaying), TURN REST credentials
    (``use-auth-secret``), relaying to ``allowed_peers`` only; stopped (and checked gone) on exit."""
    work.mkdir(parents=True, exist_ok=True)
    n = os.getpid() % 500
    port, relay_low = 23000 + n * 2, 60000 + (n % 25) * 200  # a page takes several allocations
    server = TurnServer(ip, port, secret or secrets.token_hex(16), "dualrec.test", work / "turnserver.log")
    args = [
        "turnserver",
        "-n",  # no configuration file: everything is on this command line
        f"--listening-ip={ip}",
        f"--relay-ip={ip}",
        f"--listening-port={port}",
        f"--min-port={relay_low}",
        f"--max-port={relay_low + 199}",
        "--use-auth-secret",
        f"--static-auth-secret={server.secret}",
        f"--realm={server.realm}",
        f"--userdb={work / 'turndb'}",
        "--denied-peer-ip=0.0.0.0-255.255.255.255",
        *(f"--allowed-peer-ip={peer}" for peer in allowed_peers),
        *(["--allow-loopback-peers"] if any(p.startswith("127.") for p in allowed_peers) else []),
        "--no-multicast-peers",
        "--no-tls",
        "--no-dtls",
        "--no-tcp-relay",
        "--no-cli",
        "--no-software-attribute",
        f"--log-file={server.log}",
        "--simple-log",
        "--verbose",  # one line per allocation, with its user name, and its traffic when it closes
        "--no-stdout-log",
        f"--pidfile={work / 'turnserver.pid'}",
    ]
    proc = subprocess.Popen(
        args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 15
        while not _answers_binding(ip, port):
            assert proc.poll() is None, f"turnserver exited {proc.returncode}: {_tail(server.log)}"
            assert time.monotonic() < deadline, f"turnserver not answering: {_tail(server.log)}"
            time.sleep(0.2)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:] if log.is_file() else "(no log)"
