"""The pure parts of the remote interview's live analysis (services/rtc/live_rtp.py, live_rules.py)
and the supervision of the per-call worker processes (live_calls.py): RTP parsing, VP8 frames
reassembled from real libvpx output, the rtp_forward request, speech segments of real Mandarin
cut by the real WebRTC VAD, the risk-alert rules, the running node from the marks."""

from __future__ import annotations

import struct
import sys
import time
import wave
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import webrtcvad

from dualrec.core.flow import parse_flow
from dualrec.services.rtc.live_calls import LOCKED, LiveCallSupervisor
from dualrec.services.rtc.live_rtp import (
    RtpPacket,
    Vp8Assembler,
    forward_host,
    is_vp8_keyframe,
    parse_rtp,
    rtp_forward_request,
    vp8_payload,
)
from dualrec.services.rtc.live_rules import AlertRules, Segmenter, running_node
from tests.conftest import TEST_DATA

# ---- RTP ------------------------------------------------------------------------------------------


def _rtp(
    payload: bytes,
    *,
    seq: int = 1,
    ts: int = 90000,
    marker: bool = False,
    pt: int = 96,
    csrc: int = 0,
    ext: bytes | None = None,
    pad: int = 0,
) -> bytes:
    first = 0x80 | csrc | (0x10 if ext is not None else 0) | (0x20 if pad else 0)
    head = struct.pack("!BBHII", first, (0x80 if marker else 0) | pt, seq, ts, 0x1234)
    head += b"\0\0\0\1" * csrc
    if ext is not None:
        head += struct.pack("!HH", 0xBEDE, len(ext) // 4) + ext
    return head + payload + (b"\0" * (pad - 1) + bytes([pad]) if pad else b"")


def test_rtp_header_csrc_extension_and_padding_are_skipped() -> None:
    pkt = parse_rtp(_rtp(b"opus!", seq=7, ts=960, marker=True, pt=111, csrc=2, ext=b"\x10\xff\0\0", pad=3))
    assert pkt == RtpPacket(111, 7, 960, 0x1234, True, b"opus!")


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x80\x60\0",  # truncated
        bytes([0x40]) + b"\0" * 20,  # RTP version 1
        struct.pack("!BBHII", 0x80, 200, 0, 0, 0),  # RTCP sender report (rtcp-mux)
    ],
)
def test_not_rtp_is_ignored(data: bytes) -> None:
    assert parse_rtp(data) is None


def test_padding_longer_than_the_payload_is_refused() -> None:
    bad = bytearray(_rtp(b"xy", pad=2))
    bad[-1] = 50
    assert parse_rtp(bytes(bad)) is None


# ---- VP8 (RFC 7741) --------------------------------------------------------------------------------


def _vp8_frames(n: int) -> list[bytes]:
    """Real VP8 frames from libvpx (a moving gradient, 320×240)."""
    enc = av.CodecContext.create("libvpx", "w")
    enc.width, enc.height, enc.pix_fmt = 320, 240, "yuv420p"
    enc.time_base = Fraction(1, 30)
    enc.options = {"deadline": "realtime", "cpu-used": "8", "g": "10"}
    out: list[bytes] = []
    for i in range(n):
        img = np.zeros((240, 320, 3), dtype=np.uint8)
        img[:, :, 0] = (np.arange(320) + i * 7) % 256
        img[:, :, 1] = 128
        frame = av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format="yuv420p")
        frame.pts = i
        out += [bytes(p) for p in enc.encode(frame)]
    out += [bytes(p) for p in enc.encode(None)]
    return out


def _packetize(frame: bytes, seq: int, ts: int, picture_id: int, mtu: int = 300) -> list[bytes]:
    """The VP8 payload descriptor with an extension byte and a 15-bit picture id (as Chrome sends)."""
    chunks = [frame[i : i + mtu] for i in range(0, len(frame), mtu)]
    out = []
    for k, chunk in enumerate(chunks):
        desc = bytes([0x80 | (0x10 if k == 0 else 0), 0x80, 0x80 | (picture_id >> 8), picture_id & 0xFF])
        out.append(_rtp(desc + chunk, seq=seq + k, ts=ts, marker=k == len(chunks) - 1))
    return out


def test_vp8_frames_are_reassembled_from_packets_and_decode() -> None:
    frames = _vp8_frames(12)
    assert is_vp8_keyframe(frames[0]) and not is_vp8_keyframe(frames[1])
    asm = Vp8Assembler()
    dec = av.CodecContext.create("vp8", "r")
    seq, got, decoded = 100, [], 0
    for i, f in enumerate(frames):
        for raw in _packetize(f, seq, 3000 * i, i):
            pkt = parse_rtp(raw)
            assert pkt is not None
            seq += 1
            out = asm.push(pkt)
            if out is not None:
                got.append(out)
                decoded += len(dec.decode(av.Packet(out)))
    assert got == frames  # byte for byte
    assert decoded >= len(frames) - 2  # the decoder may hold a frame or two back
    assert asm.dropped == 0


def test_a_vp8_frame_with_a_lost_packet_is_dropped_not_passed_on() -> None:
    frames = _vp8_frames(3)
    asm = Vp8Assembler()
    seq = 0
    out = []
    for i, f in enumerate(frames):
        packets = _packetize(f, seq, 3000 * i, i, mtu=60)
        seq += len(packets)
        if i == 1:
            assert len(packets) >= 3
            del packets[1]  # lost in the network
        for raw in packets:
            pkt = parse_rtp(raw)
            assert pkt is not None
            frame = asm.push(pkt)
            if frame is not None:
                out.append(frame)
    assert out == [frames[0], frames[2]]
    assert asm.dropped == 1


def test_vp8_descriptor_variants() -> None:
    assert vp8_payload(b"\x10abc") == (True, b"abc")  # no extension
    assert vp8_payload(b"\x00abc") == (False, b"abc")  # a continuation
    assert vp8_payload(b"\x11abc") == (False, b"abc")  # starts partition 1, not 0
    assert vp8_payload(b"\x90\x40\x05abc") == (True, b"abc")  # L: TL0PICIDX
    assert vp8_payload(b"\x90\xe0\x05\x07\x20abc") == (True, b"abc")  # 7-bit picture id, L, T
    assert vp8_payload(b"") is None
    assert vp8_payload(b"\x90") is None


# ---- Janus requests --------------------------------------------------------------------------------


def test_the_forward_request_names_the_room_feed_secret_admin_key_and_ports() -> None:
    body = rtp_forward_request(
        room=42,
        secret="s3",
        admin_key="ak",
        publisher_id=7,
        host="127.0.0.1",
        audio_port=5002,
        video_port=None,
    )
    assert body == {
        "request": "rtp_forward",
        "room": 42,
        "publisher_id": 7,
        "secret": "s3",
        "admin_key": "ak",
        "host": "127.0.0.1",
        "host_family": "ipv4",
        "audio_port": 5002,
    }


def test_forward_host_is_loopback_for_a_local_janus() -> None:
    assert forward_host("127.0.0.1") == "127.0.0.1"
    assert forward_host("0.0.0.0") == "127.0.0.1"
    assert forward_host("localhost") == "127.0.0.1"


# ---- speech segments (real Mandarin, real VAD) -------------------------------------------------------


def _wav(name: str) -> bytes:
    with wave.open(str(TEST_DATA / "speech" / name), "rb") as w:
        assert w.getframerate() == 16000 and w.getnchannels() == 1
        return w.readframes(w.getnframes())


def test_two_utterances_with_a_pause_become_two_segments() -> None:
    vad = webrtcvad.Vad(2)
    seg = Segmenter(lambda f: vad.is_speech(f, 16000))
    first, second = _wav("asr_example.wav"), _wav("news_mid.wav")
    silence = b"\0\0" * 16000 * 2
    audio = first + silence + second + silence
    out = []
    for i in range(0, len(audio), 1920):  # 60 ms chunks, as decoded Opus arrives
        out += seg.push(audio[i : i + 1920], wall=1000.0 + i / 32000)
    ends = [len(first) / 32000, (len(first) + len(silence) + len(second)) / 32000]
    assert len(out) == 2, [(s.start, s.end) for s in out]
    for s, end in zip(out, ends, strict=True):
        assert abs(s.end - end) < 0.8  # closes at the end of speech (not at the next utterance)
        assert not s.cut
        assert 0.05 <= s.ended_at - 1000.0 - s.end <= 1.0  # known within the closing silence
    assert out[0].start < 0.6
    assert abs(out[1].start - (len(first) + len(silence)) / 32000) < 0.6


def test_silence_and_a_click_make_no_segment_and_long_speech_is_cut() -> None:
    vad = webrtcvad.Vad(2)
    seg = Segmenter(lambda f: vad.is_speech(f, 16000), max_s=3.0)
    click = (np.sin(np.arange(1600) / 3) * 20000).astype("<i2").tobytes()  # 0.1 s
    assert seg.push(b"\0\0" * 16000 + click + b"\0\0" * 16000, wall=0.0) == []
    speech = _wav("news_long.wav")  # 8 s of talk
    out = seg.push(speech, wall=0.0)
    assert out and all(s.end - s.start <= 3.05 for s in out)
    assert out[0].cut


# ---- alert rules ------------------------------------------------------------------------------------

FLOW = parse_flow(
    {
        "mode": "human",
        "nodes": [
            {"id": "risk", "type": "risk_disclosure", "title": "风险告知", "script": "本产品不保本。"},
            {
                "id": "ask",
                "type": "qa",
                "title": "风险确认",
                "script": "您是否已知晓产品风险？",
                "expected_answers": [{"text": "是"}],
            },
            {"id": "end", "type": "end", "title": "结束"},
        ],
    }
)


@dataclass
class _Mark:
    node_id: str
    kind: str
    at: datetime


def test_the_running_node_follows_the_marks() -> None:
    t0 = datetime(2026, 12, 5, tzinfo=UTC)
    marks = [_Mark("risk", "start", t0), _Mark("ask", "start", t0 + timedelta(seconds=5))]
    node = running_node(FLOW, marks)
    assert node is not None and node.id == "ask"
    assert running_node(FLOW, [*marks, _Mark("ask", "end", t0 + timedelta(seconds=9))]) is None
    assert running_node(FLOW, []) is None


def test_a_customer_answer_contradicting_the_running_node_alerts_once() -> None:
    rules = AlertRules(("保本", "稳赚"))
    ask = FLOW.node("ask")
    found = rules.check("customer", "不是，我不知道有风险", ask, now=0.0)
    assert [a.code for a in found] == ["contradiction"]
    assert "风险确认" in found[0].reason_zh and found[0].node_id == "ask"
    assert rules.check("customer", "不是", ask, now=10.0) == []  # the same cause: no second pop-up
    assert [a.code for a in rules.check("customer", "不是", ask, now=70.0)] == ["contradiction"]
    assert rules.check("customer", "是的，我知道", ask, now=0.0) == []
    assert rules.check("agent", "不是这样的", ask, now=0.0) == []  # the agent's words are no answer
    assert rules.check("customer", "不是", FLOW.node("risk"), now=0.0) == []  # no answer expected
    assert rules.check("customer", "不是", None, now=0.0) == []  # no node running


def test_sensitive_words_of_either_side_alert_but_a_denial_does_not() -> None:
    rules = AlertRules(("保本", "稳赚"))
    found = rules.check("agent", "这个产品保本，稳赚的", None, now=0.0)
    assert len(found) == 1 and found[0].code == "sensitive_word"
    assert found[0].words == ("保本", "稳赚")
    assert "坐席" in found[0].reason_zh
    assert rules.check("agent", "本产品不保本", None, now=0.0) == []
    assert rules.check("customer", "", None, now=0.0) == []


# ---- supervision of the worker processes ----------------------------------------------------------


def _wait(pred, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_a_worker_starts_with_the_call_is_restarted_when_it_dies_and_stopped_at_the_hang_up() -> None:
    calls: list[tuple[str, int]] = [("t1", 1)]
    sup = LiveCallSupervisor(
        lambda: list(calls),
        lambda task, attempt: [sys.executable, "-c", "import time; time.sleep(60)"],
        period=0.05,
        backoff_initial=0.1,
    )
    sup.start()
    try:
        _wait(lambda: sup.workers().get(("t1", 1), {}).get("pid") is not None)
        first = sup.workers()[("t1", 1)]["pid"]
        import os
        import signal

        os.kill(int(first), signal.SIGKILL)  # type: ignore[arg-type]
        _wait(lambda: sup.workers()[("t1", 1)]["pid"] not in (None, first))
        w = sup.workers()[("t1", 1)]
        assert w["starts"] == 2 and w["exits"] == [-9]
        pid = int(w["pid"])  # type: ignore[arg-type]
        calls.clear()  # hung up
        _wait(lambda: ("t1", 1) not in sup.workers())
        assert not Path(f"/proc/{pid}").exists()  # terminated and reaped
    finally:
        sup.stop()


def test_a_worker_that_finds_its_call_locked_is_not_restarted_at_once() -> None:
    sup = LiveCallSupervisor(
        lambda: [("t2", 1)],
        lambda task, attempt: [sys.executable, "-c", f"raise SystemExit({LOCKED})"],
        period=0.05,
        backoff_initial=0.05,
        backoff_cap=30,
    )
    sup.start()
    try:
        _wait(lambda: sup.workers().get(("t2", 1), {}).get("exits") == [LOCKED])
        time.sleep(0.5)
        assert sup.workers()[("t2", 1)]["starts"] == 1
    finally:
        sup.stop()


def test_the_forwarders_stream_ids_are_read_from_either_answer_form() -> None:
    from dualrec.services.rtc.live_worker import _stream_ids

    legacy = {
        "videoroom": "rtp_forward",
        "rtp_stream": {
            "host": "127.0.0.1",
            "audio": 5002,
            "audio_stream_id": 11,
            "video": 5004,
            "video_stream_id": 12,
        },
    }
    assert sorted(_stream_ids(legacy)) == [11, 12]
    streams = {"videoroom": "rtp_forward", "forwarders": [{"stream_id": 7, "type": "audio", "port": 5002}]}
    assert _stream_ids(streams) == [7]
    assert _stream_ids({"videoroom": "rtp_forward"}) == []
