"""H.264 for the remote interview's live analysis: access units reassembled from RTP (RFC 6184,
packetization mode 1: single NAL units, STAP-A, FU-A) out of real libx264 output of a real face
photo, decoded back to that picture; a unit with a lost packet dropped; and the worker's video path
finding the publisher's codec (VP8 or H.264) from the packets alone (Janus' rtp_forward does not
say it)."""

from __future__ import annotations

import functools
import struct
from fractions import Fraction
from typing import Any

import av
import numpy as np
from PIL import Image

from dualrec.services.rtc.live_rtp import H264Assembler, RtpPacket, is_h264_keyframe, parse_rtp
from dualrec.services.rtc.live_worker import _VideoDecoding
from tests.conftest import TEST_DATA

W, H = 320, 240


def _rtp(payload: bytes, *, seq: int, ts: int, marker: bool, pt: int = 102) -> bytes:
    return struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | pt, seq & 0xFFFF, ts, 0x1234) + payload


@functools.cache
def _photo() -> np.ndarray:
    return np.asarray(Image.open(TEST_DATA / "faces" / "obama.jpg").convert("RGB").resize((W + 20, H)))


def _face(i: int) -> np.ndarray:
    """The photo, moved a pixel a frame (so that P frames carry something)."""
    return _photo()[:, i % 20 : i % 20 + W].copy()


def _encode(codec: str, n: int) -> list[bytes]:
    enc: Any = av.CodecContext.create(codec, "w")
    enc.width, enc.height, enc.pix_fmt = W, H, "yuv420p"
    enc.time_base = Fraction(1, 15)
    if codec == "libx264":  # as a browser sends it: baseline, no B frames, SPS/PPS with every IDR
        enc.options = {"preset": "ultrafast", "tune": "zerolatency", "profile": "baseline", "g": "10"}
    else:
        enc.options = {"deadline": "realtime", "cpu-used": "8", "g": "10"}
    out: list[bytes] = []
    for i in range(n):
        frame = av.VideoFrame.from_ndarray(_face(i), format="rgb24").reformat(format="yuv420p")
        frame.pts = i
        out += [bytes(p) for p in enc.encode(frame)]
    out += [bytes(p) for p in enc.encode(None)]
    return out


def _nals(unit: bytes) -> list[bytes]:
    """The NAL units of an Annex B access unit (3- or 4-byte start codes)."""
    parts = unit.replace(b"\x00\x00\x00\x01", b"\x00\x00\x01").split(b"\x00\x00\x01")
    return [p for p in parts if p]


def _packetize_h264(unit: bytes, seq: int, ts: int, mtu: int = 400) -> list[bytes]:
    """Small NAL units together in STAP-A packets, large ones in FU-A fragments (as Chrome does)."""
    payloads: list[bytes] = []
    small: list[bytes] = []

    def flush_small() -> None:
        if len(small) == 1:
            payloads.append(small[0])
        elif small:
            nri = max(n[0] & 0x60 for n in small)
            payloads.append(bytes([nri | 24]) + b"".join(struct.pack("!H", len(n)) + n for n in small))
        small.clear()

    for nal in _nals(unit):
        if len(nal) <= 100:
            small.append(nal)
            continue
        flush_small()
        if len(nal) <= mtu:
            payloads.append(nal)
            continue
        body = nal[1:]
        chunks = [body[i : i + mtu] for i in range(0, len(body), mtu)]
        for k, chunk in enumerate(chunks):
            fu_header = (0x80 if k == 0 else 0) | (0x40 if k == len(chunks) - 1 else 0) | (nal[0] & 0x1F)
            payloads.append(bytes([(nal[0] & 0xE0) | 28, fu_header]) + chunk)
    flush_small()
    return [_rtp(p, seq=seq + k, ts=ts, marker=k == len(payloads) - 1) for k, p in enumerate(payloads)]


def _packets(units: list[bytes], packetize) -> list[RtpPacket]:  # type: ignore[no-untyped-def]
    out, seq = [], 500
    for i, unit in enumerate(units):
        for raw in packetize(unit, seq, 6000 * i):
            pkt = parse_rtp(raw)
            assert pkt is not None
            out.append(pkt)
            seq += 1
    return out


def test_h264_access_units_are_reassembled_from_stap_a_and_fu_a_and_decode_to_the_picture() -> None:
    units = _encode("libx264", 12)
    assert is_h264_keyframe(units[0]) and not is_h264_keyframe(units[1])
    packets = _packets(units, _packetize_h264)
    assert len(packets) > 2 * len(units)  # fragmented: FU-A and STAP-A, not one packet a unit
    asm = H264Assembler()
    dec: Any = av.CodecContext.create("h264", "r")
    got, pictures = [], []
    for pkt in packets:
        unit = asm.push(pkt)
        if unit is not None:
            got.append(unit)
            pictures += dec.decode(av.Packet(unit))
    assert [_nals(u) for u in got] == [_nals(u) for u in units]  # every NAL unit, byte for byte
    assert asm.dropped == 0 and len(pictures) >= len(units) - 2
    first = pictures[0].to_ndarray(format="rgb24").astype(float)
    assert first.shape == (H, W, 3)
    assert np.abs(first - _face(0)).mean() < 12  # the face photo, not some picture


def test_an_h264_unit_with_a_lost_packet_is_dropped_and_decoding_resumes_at_the_next_idr() -> None:
    units = _encode("libx264", 25)  # IDR at 0, 10, 20
    packets = _packets(units, _packetize_h264)
    # lose a middle fragment of unit 3 (its packets are the ones with its timestamp)
    of_3 = [p for p in packets if p.timestamp == 6000 * 3]
    assert len(of_3) >= 3
    lost = of_3[1]
    decoding = _VideoDecoding()
    pictures = 0
    for pkt in packets:
        if pkt is not lost:
            pictures += len(decoding.push(pkt))
    assert decoding.codec == "h264"
    assert decoding.dropped == 1  # the one unit, nothing else
    assert pictures >= len(units) - 3  # the rest decoded (the decoder conceals until the next IDR)


def test_the_worker_finds_the_publishers_codec_from_the_packets() -> None:
    def packetize_vp8(frame: bytes, seq: int, ts: int) -> list[bytes]:
        chunks = [frame[i : i + 300] for i in range(0, len(frame), 300)]
        return [
            _rtp(
                bytes([0x80 | (0x10 if k == 0 else 0), 0x80, 0x80, seq & 0x7F]) + c,
                seq=seq + k,
                ts=ts,
                marker=k == len(chunks) - 1,
                pt=96,
            )
            for k, c in enumerate(chunks)
        ]

    for codec, units, packetize in (
        ("vp8", _encode("libvpx", 8), packetize_vp8),
        ("h264", _encode("libx264", 8), _packetize_h264),
    ):
        decoding = _VideoDecoding()
        pictures = [f for pkt in _packets(units, packetize) for f in decoding.push(pkt)]
        assert decoding.codec == codec, codec
        assert len(pictures) >= len(units) - 2, (codec, len(pictures))
        assert len(decoding.paths) == 1  # the other path no longer takes packets
        assert np.abs(pictures[0].to_ndarray(format="rgb24").astype(float) - _face(0)).mean() < 12
