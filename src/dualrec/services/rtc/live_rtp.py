"""RTP for the live analysis of a remote interview (pure: no sockets, no Janus).

Janus' VideoRoom copies a publisher's RTP, as received, to UDP ports of the live worker
(``rtp_forward``); this module builds that request, tells where Janus can reach the worker, and
turns the forwarded packets back into codec frames: Opus packets (one per RTP packet, RFC 7587),
VP8 frames (reassembled from the RTP payload descriptor of RFC 7741) and H.264 access units
(single NAL units, STAP-A and FU-A of RFC 6184, packetization mode 1, as browsers send them; out as
Annex B byte streams). Decoding is the worker's (PyAV codec contexts), not this module's.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
from dataclasses import dataclass
from typing import Any

__all__ = [
    "H264Assembler",
    "RtpPacket",
    "Vp8Assembler",
    "forward_host",
    "is_h264_keyframe",
    "is_vp8_keyframe",
    "parse_rtp",
    "rtp_forward_request",
    "stop_forward_request",
    "vp8_payload",
]

RTP_VERSION = 2


@dataclass(frozen=True)
class RtpPacket:
    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    marker: bool
    payload: bytes


def parse_rtp(data: bytes) -> RtpPacket | None:
    """One RTP packet (RFC 3550), or None for anything else (RTCP, junk, a truncated packet)."""
    if len(data) < 12 or data[0] >> 6 != RTP_VERSION:
        return None
    first, second, seq, ts, ssrc = struct.unpack("!BBHII", data[:12])
    pt = second & 0x7F
    if 72 <= pt <= 76:  # RTCP SR/RR/SDES/BYE/APP share the port in rtcp-mux
        return None
    offset = 12 + 4 * (first & 0x0F)  # CSRCs
    if first & 0x10:  # header extension: 16-bit profile, 16-bit length in words
        if len(data) < offset + 4:
            return None
        (words,) = struct.unpack("!H", data[offset + 2 : offset + 4])
        offset += 4 + 4 * words
    end = len(data)
    if first & 0x20:  # padding: the last byte says how much
        pad = data[-1]
        if pad == 0 or pad > end - offset:
            return None
        end -= pad
    if offset > end:
        return None
    return RtpPacket(pt, seq, ts, ssrc, bool(second & 0x80), bytes(data[offset:end]))


def vp8_payload(payload: bytes) -> tuple[bool, bytes] | None:
    """(start of a partition 0, the VP8 bytes) of one packet's payload, or None when malformed.

    The descriptor: ``X R N S R PID`` then, with X, ``I L T K RSV`` and the picture id (7 or 15
    bits), TL0PICIDX, and ``TID Y KEYIDX``."""
    if not payload:
        return None
    b0 = payload[0]
    i = 1
    if b0 & 0x80:  # X
        if len(payload) < 2:
            return None
        x = payload[1]
        i = 2
        if x & 0x80:  # I: picture id
            if len(payload) <= i:
                return None
            i += 2 if payload[i] & 0x80 else 1
        if x & 0x40:  # L: TL0PICIDX
            i += 1
        if x & 0x30:  # T or K: one byte
            i += 1
    if i > len(payload):
        return None
    start = bool(b0 & 0x10) and (b0 & 0x07) == 0
    return start, payload[i:]


class Vp8Assembler:
    """VP8 frames from RTP packets in arrival order: a frame is the packets of one timestamp, from
    one starting a partition 0 to the one with the marker bit, with no sequence gap. A frame with a
    hole is dropped (the decoder is told nothing: the next key frame repairs the picture)."""

    def __init__(self, max_frame_bytes: int = 2_000_000) -> None:
        self._parts: list[bytes] = []
        self._ts: int | None = None
        self._next_seq: int | None = None
        self._size = 0
        self._max = max_frame_bytes
        self.dropped = 0

    def push(self, pkt: RtpPacket) -> bytes | None:
        parsed = vp8_payload(pkt.payload)
        if parsed is None:
            self._reset(drop=True)
            return None
        start, data = parsed
        if start:
            if self._parts:
                self._reset(drop=True)  # the previous frame never got its last packet
            self._ts = pkt.timestamp
            self._parts = [data]
            self._size = len(data)
        elif self._ts is None or pkt.timestamp != self._ts or pkt.sequence != self._next_seq:
            self._reset(drop=self._ts is not None)
            return None
        else:
            self._parts.append(data)
            self._size += len(data)
            if self._size > self._max:
                self._reset(drop=True)
                return None
        self._next_seq = (pkt.sequence + 1) & 0xFFFF
        if pkt.marker:
            frame = b"".join(self._parts)
            self._parts, self._ts, self._size = [], None, 0
            return frame
        return None

    def _reset(self, *, drop: bool) -> None:
        if drop:
            self.dropped += 1
        self._parts, self._ts, self._size = [], None, 0


def is_vp8_keyframe(frame: bytes) -> bool:
    """The frame tag's P bit is 0 on a key frame (RFC 6386 §9.1)."""
    return bool(frame) and not frame[0] & 0x01


START_CODE = b"\x00\x00\x00\x01"
STAP_A, FU_A = 24, 28
NAL_IDR, NAL_SPS = 5, 7


class H264Assembler:
    """H.264 access units from RTP packets in arrival order: the NAL units of one timestamp up to
    the packet with the marker bit, each behind an Annex B start code. An access unit with a
    sequence gap (or a fragmented NAL unit missing its start or end) is dropped whole, as a VP8
    frame with a hole is: the decoder is told nothing, the next IDR repairs the picture."""

    def __init__(self, max_frame_bytes: int = 2_000_000) -> None:
        self._nals: list[bytes] = []
        self._fu: bytearray | None = None  # the FU-A being reassembled
        self._ts: int | None = None
        self._next_seq: int | None = None
        self._broken = False
        self._size = 0
        self._max = max_frame_bytes
        self.dropped = 0

    def push(self, pkt: RtpPacket) -> bytes | None:
        if self._ts is not None and pkt.timestamp != self._ts:
            self._end(drop=True)  # the previous access unit never got its marker
        if self._ts is None:
            self._ts = pkt.timestamp
        elif pkt.sequence != self._next_seq:
            self._broken = True
        self._next_seq = (pkt.sequence + 1) & 0xFFFF
        if not self._broken and not self._take(pkt.payload):
            self._broken = True
        if self._size > self._max:
            self._broken = True
        if not pkt.marker:
            return None
        if self._broken or self._fu is not None or not self._nals:
            self._end(drop=True)
            return None
        unit = b"".join(START_CODE + n for n in self._nals)
        self._end(drop=False)
        return unit

    def _take(self, payload: bytes) -> bool:
        """Adds one packet's NAL unit(s); False when the payload is malformed."""
        if not payload or payload[0] & 0x80:  # the forbidden bit
            return False
        kind = payload[0] & 0x1F
        if 1 <= kind <= 23:
            return self._add(payload)
        if kind == STAP_A:
            i = 1
            while i < len(payload):
                if i + 2 > len(payload):
                    return False
                (size,) = struct.unpack("!H", payload[i : i + 2])
                if size == 0 or i + 2 + size > len(payload):
                    return False
                self._add(payload[i + 2 : i + 2 + size])
                i += 2 + size
            return True
        if kind == FU_A:
            if len(payload) < 3:
                return False
            header = payload[1]
            start, end = bool(header & 0x80), bool(header & 0x40)
            if start:
                if self._fu is not None:
                    return False
                self._fu = bytearray([(payload[0] & 0xE0) | (header & 0x1F)])
            elif self._fu is None:
                return False
            self._fu += payload[2:]
            self._size += len(payload) - 2
            if end:
                nal, self._fu = bytes(self._fu), None
                self._nals.append(nal)
            return True
        return False  # STAP-B, MTAP, FU-B: not in packetization mode 1

    def _add(self, nal: bytes) -> bool:
        self._nals.append(bytes(nal))
        self._size += len(nal)
        return True

    def _end(self, *, drop: bool) -> None:
        if drop and (self._nals or self._fu is not None or self._broken):
            self.dropped += 1
        self._nals, self._fu, self._ts, self._broken, self._size = [], None, None, False, 0


def is_h264_keyframe(unit: bytes) -> bool:
    """An access unit the decoder can start from: it carries an IDR slice (and, as browsers send
    it, the SPS/PPS before it)."""
    kinds = set()
    i = unit.find(b"\x00\x00\x01")  # a 3-byte start code, or the end of a 4-byte one
    while 0 <= i < len(unit) - 3:
        kinds.add(unit[i + 3] & 0x1F)
        i = unit.find(b"\x00\x00\x01", i + 3)
    return NAL_IDR in kinds and NAL_SPS in kinds


def forward_host(janus_host: str) -> str:
    """The address of this host that Janus reaches: loopback when Janus is on this host's loopback
    (or every interface), else the local address the kernel routes to Janus from."""
    try:
        addr = ipaddress.ip_address(janus_host)
    except ValueError:
        addr = None
    if addr is None or addr.is_loopback or addr.is_unspecified:
        return "127.0.0.1"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect((str(addr), 9))  # no packet is sent: this only picks the route
        return str(s.getsockname()[0])


def rtp_forward_request(
    *,
    room: int,
    secret: str,
    admin_key: str,
    publisher_id: int,
    host: str,
    audio_port: int | None,
    video_port: int | None,
) -> dict[str, Any]:
    """VideoRoom ``rtp_forward``: the publisher's first audio and video streams, unencrypted, to
    ``host`` (the room is ``lock_rtp_forward``: the admin key is required besides the secret)."""
    body: dict[str, Any] = {
        "request": "rtp_forward",
        "room": room,
        "publisher_id": publisher_id,
        "secret": secret,
        "admin_key": admin_key,
        "host": host,
        "host_family": "ipv4",
    }
    if audio_port:
        body["audio_port"] = audio_port
    if video_port:
        body["video_port"] = video_port
    return body


def stop_forward_request(*, room: int, secret: str, publisher_id: int, stream_id: int) -> dict[str, Any]:
    return {
        "request": "stop_rtp_forward",
        "room": room,
        "publisher_id": publisher_id,
        "stream_id": stream_id,
        "secret": secret,
    }
