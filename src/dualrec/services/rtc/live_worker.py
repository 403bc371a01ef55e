"""The live worker of one remote interview: a process of its own (``LiveCallSupervisor`` starts it
with the call and stops it at the hang-up) that asks Janus to forward the parties' RTP to its UDP
ports, decodes it and runs the live analysis:

- both parties' speech (Opus → 16 kHz) cut by a VAD into short segments → ASR → subtitles;
- the customer's words → risk alerts (the running node's expected answer contradicted, a
  sensitive word: ``live_rules``);
- the customer's video (VP8) → the live face checks (no face, several faces, not the verified
  customer, covered, dark) on one frame every ``face_interval_s``.

CPU is bounded by dropping, never by lagging: a video frame is analysed only when the analyser is
free (the newest one). Speech segments that arrive while the recogniser is busy wait per party and
are transcribed together in one pass (Whisper encodes a 30 s window whatever the speech's length:
one pass over 20 s costs about what a pass over 2 s does), so a recogniser that falls behind
catches up instead of skipping speech; only speech beyond ``asr_backlog_s`` per party is dropped,
the oldest first (counted in the status events). Everything found is written with
``LiveEventService`` (the desk reads it from there).
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from dualrec.core.live_alerts import AlertCode
from dualrec.errors import DualrecError
from dualrec.media.chinese import to_simplified
from dualrec.media.ports import FaceAnalyzer, SpeechRecognizer, TranscriptSegment
from dualrec.pipeline.live import LiveFrameAnalyzer, LiveOptions
from dualrec.services.rtc.janus_api import JanusApi
from dualrec.services.rtc.live_events import CallContext, LiveEventService
from dualrec.services.rtc.live_rtp import (
    H264Assembler,
    RtpPacket,
    Vp8Assembler,
    is_h264_keyframe,
    is_vp8_keyframe,
    parse_rtp,
    rtp_forward_request,
    stop_forward_request,
)
from dualrec.services.rtc.live_rules import AlertRules, Segmenter, SpeechSegment, running_node

__all__ = [
    "FACE_REASONS",
    "LiveCall",
    "LiveCallWorker",
    "SpeechBacklog",
    "WorkerOptions",
    "heard_parts",
    "joined",
    "transcribe_parts",
]

logger = logging.getLogger(__name__)

# what the interviewer reads in the pop-up (the customer's page has its own wording)
FACE_REASONS: dict[str, str] = {
    AlertCode.NO_FACE: "客户不在画面中 / the customer is not in the picture",
    AlertCode.MULTIPLE_FACES: "客户画面中出现多人 / several people in the customer's picture",
    AlertCode.NOT_CUSTOMER: "画面中的人与核验通过的客户不一致 / the person is not the verified customer",
    AlertCode.COVERED: "客户摄像头被遮挡 / the customer's camera is covered",
    AlertCode.DARK: "客户画面过暗 / the customer's picture is too dark",
}


@dataclass(frozen=True)
class LiveCall:
    task_id: str
    attempt: int
    room: int
    room_secret: str
    admin_key: str
    customer_feed: int
    agent_feed: int
    host: str  # where Janus sends the RTP (this host, as Janus reaches it)


@dataclass(frozen=True)
class WorkerOptions:
    poll_s: float = 1.0  # the call's context (marks, hang-up) is read this often
    forwards_s: float = 5.0  # Janus' forwards are checked this often once both parties are forwarded
    face_interval_s: float = 1.0  # one customer frame analysed per interval (at most)
    # a party's speech waiting for the recogniser (transcribed in one pass); beyond: the oldest
    # segments are dropped. Under Whisper's 30 s window, with room for the pauses put between them.
    asr_backlog_s: float = 24.0
    stats_every_s: float = 15.0
    live: LiveOptions = field(default_factory=LiveOptions)


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


_RATE = 16000
_PAUSE_S = 0.3
_PAUSE = bytes(2 * round(_RATE * _PAUSE_S))  # 16 kHz s16le silence between joined segments


def joined(segments: list[SpeechSegment]) -> tuple[SpeechSegment, list[tuple[float, float]]]:
    """A party's waiting segments (in order) as one, a short pause between each; where each one
    lies in it (seconds from its start)."""
    spans, at = [], 0.0
    for seg in segments:
        length = len(seg.pcm) / 2 / _RATE
        spans.append((at, at + length))
        at += length + _PAUSE_S
    if len(segments) == 1:
        return segments[0], spans
    return _covering(segments, _PAUSE.join(s.pcm for s in segments)), spans


def _covering(segments: list[SpeechSegment], pcm: bytes = b"") -> SpeechSegment:
    """A segment from the first of ``segments`` to the last (times, end of speech)."""
    first, last = segments[0], segments[-1]
    return SpeechSegment(start=first.start, end=last.end, pcm=pcm, ended_at=last.ended_at, cut=last.cut)


def heard_parts(
    segments: list[TranscriptSegment], spans: list[tuple[float, float]], margin: float = 0.3
) -> tuple[int, str]:
    """How many of the joined parts, from the first, the recogniser heard words in, and the text of
    those. Whisper may end a window early (after a sentence it takes for the last: a change of
    voice, the same words again) and say nothing of the rest: those parts are to be transcribed
    again, never passed as heard. Words (or a segment's middle, where the engine gives no words)
    are placed by their middle; a word in a pause belongs to the part before it."""

    def middles(seg: TranscriptSegment) -> list[float]:
        return [(w.start + w.end) / 2 for w in seg.words] or [(seg.start + seg.end) / 2]

    placed = [m for seg in segments for m in middles(seg)]
    heard = 0
    for start, end in spans:
        if not any(start - margin <= m <= end + margin for m in placed):
            break
        heard += 1
    if heard == 0:
        return 0, ""
    until = (spans[heard - 1][1] + spans[heard][0]) / 2 if heard < len(spans) else float("inf")
    texts = []
    for seg in segments:
        if all(m < until for m in middles(seg)):
            texts.append(seg.text)  # whole: Whisper's own spacing and punctuation
        else:
            texts += [w.text for w in seg.words if (w.start + w.end) / 2 < until]
    return heard, "".join(texts)


def transcribe_parts(asr: SpeechRecognizer, parts: list[SpeechSegment]) -> tuple[int, str]:
    """One recogniser pass over a party's waiting segments, joined: how many of them, from the
    first, it heard (at least one: a first part heard as nothing had nothing to hear), and their
    Mandarin text. The caller puts the rest back to be transcribed again."""
    seg, spans = joined(parts)
    samples = np.frombuffer(seg.pcm, dtype="<i2").astype(np.float32) / 32768.0
    found = [p for p in asr.transcribe(samples, sample_rate=_RATE, language="zh") if p.in_language("zh")]
    if len(parts) == 1:
        return 1, "".join(p.text for p in found)
    heard, text = heard_parts(found, spans)
    return max(heard, 1), text


class SpeechBacklog:
    """The parties' speech segments waiting for the one recogniser. The parties are served in
    turns (one party talking all the time does not starve the other's subtitles); a party's
    waiting segments are handed over together (to be transcribed in one pass), so a pass that took
    long is followed by one pass over everything said meanwhile. A party's backlog is held under
    ``max_s`` seconds of speech by dropping its oldest segments."""

    def __init__(self, roles: list[str], max_s: float) -> None:
        self.max_s = max_s
        self._waiting: dict[str, deque[SpeechSegment]] = {r: deque() for r in roles}
        self._turn = 0
        self._cond = threading.Condition()

    def add(self, role: str, seg: SpeechSegment) -> int:
        """Queue ``seg``; how many segments were dropped to make room."""
        with self._cond:
            waiting = self._waiting[role]
            waiting.append(seg)
            dropped = self._trim(waiting)
            self._cond.notify()
        return dropped

    def take(self, timeout: float) -> tuple[str, list[SpeechSegment]] | None:
        """The next party's waiting segments (all of them, in order)."""
        with self._cond:
            if not any(self._waiting.values()):
                self._cond.wait(timeout)
            roles = list(self._waiting)
            for i in range(len(roles)):
                role = roles[(self._turn + i) % len(roles)]
                waiting = self._waiting[role]
                if waiting:
                    self._turn = (self._turn + i + 1) % len(roles)
                    taken = list(waiting)
                    waiting.clear()
                    return role, taken
            return None

    def put_back(self, role: str, segments: list[SpeechSegment]) -> int:
        """Return segments not transcribed yet to the front of the party's backlog (the other party
        is served first); how many were dropped to keep it under ``max_s``."""
        with self._cond:
            waiting = self._waiting[role]
            waiting.extendleft(reversed(segments))
            return self._trim(waiting)

    def _trim(self, waiting: deque[SpeechSegment]) -> int:
        dropped = 0
        while len(waiting) > 1 and sum(s.end - s.start for s in waiting) > self.max_s:
            waiting.popleft()  # the recogniser is far behind: the oldest goes, never the newest
            dropped += 1
        return dropped


class _Stream:
    def __init__(self, role: str, kind: str, host: str) -> None:
        self.role = role
        self.kind = kind
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.sock.bind((host, 0))
        self.sock.setblocking(False)
        self.port: int = self.sock.getsockname()[1]
        self.packets = 0


class _VideoPath:
    """One codec's way from RTP packets to pictures: its assembler, its key-frame test, a decoder."""

    def __init__(self, codec: str) -> None:
        import av

        self.codec = codec
        self.assembler: Vp8Assembler | H264Assembler = Vp8Assembler() if codec == "vp8" else H264Assembler()
        self._is_key = is_vp8_keyframe if codec == "vp8" else is_h264_keyframe
        self._decoder: Any = av.CodecContext.create(codec, "r")
        self._keyed = False

    def push(self, pkt: RtpPacket) -> list[Any]:
        import av

        unit = self.assembler.push(pkt)
        if unit is None:
            return []
        if not self._keyed:
            if not self._is_key(unit):
                return []
            self._keyed = True
        try:
            return list(self._decoder.decode(av.Packet(unit)))
        except av.error.FFmpegError:  # a corrupt unit: wait for the next key frame
            self._keyed = False
            return []


class _VideoDecoding:
    """The customer's pictures, whichever of the room's codecs (VP8, H.264) the publisher sends.

    Janus' ``rtp_forward`` does not say the forwarded stream's codec, so until a picture decodes
    both paths take the packets; the first that decodes one is the codec from then on. A wrong path
    never decodes a picture: a VP8 key frame needs its start code (9d 01 2a), an H.264 one an SPS
    and an IDR slice, and what the other codec's packets make of them is refused or dropped."""

    def __init__(self) -> None:
        self.paths = [_VideoPath("vp8"), _VideoPath("h264")]
        self.codec: str | None = None

    @property
    def dropped(self) -> int:
        return sum(p.assembler.dropped for p in self.paths) if self.codec else 0

    def push(self, pkt: RtpPacket) -> list[Any]:
        for path in self.paths:
            frames = path.push(pkt)
            if frames:
                if self.codec is None:
                    self.codec, self.paths = path.codec, [path]
                return frames
        return []


class _UndecodableVideo:
    """Says once when the customer's video keeps arriving but nothing of it decodes (a codec other
    than VP8 and H.264, or a stream no decoder can start) — so the desk and QC say the live face
    checks did not run instead of staying silent."""

    PACKETS = 150  # about 3 s of video
    SECONDS = 8.0

    def __init__(self) -> None:
        self.first: float | None = None
        self.packets = 0
        self.reported = False

    def check(self, payload_type: int, now: float, decoded: int) -> bool:
        if self.reported or decoded:
            return False
        self.packets += 1
        self.first = now if self.first is None else self.first
        if self.packets >= self.PACKETS and now - self.first >= self.SECONDS:
            self.reported = True
            return True
        return False


def _stream_ids(answer: dict[str, Any]) -> list[int]:
    """The forwarders' stream ids in an ``rtp_forward`` answer (the streams form, or the legacy
    ``rtp_stream`` form Janus uses when asked with ``audio_port``/``video_port``)."""
    ids = [int(f.get("stream_id") or 0) for f in answer.get("forwarders") or ()]
    legacy = answer.get("rtp_stream") or {}
    ids += [int(v) for k, v in legacy.items() if k.endswith("stream_id") and isinstance(v, int)]
    return [i for i in ids if i]


class LiveCallWorker:
    def __init__(
        self,
        call: LiveCall,
        janus: Callable[[], JanusApi],
        events: LiveEventService,
        *,
        asr: Callable[[], SpeechRecognizer | None],
        faces: Callable[[], FaceAnalyzer | None],
        is_speech: Callable[[bytes], bool],
        reference: Callable[[str], Any] | None = None,  # blob key → face descriptor (or None)
        options: WorkerOptions | None = None,
    ) -> None:
        self.call = call
        self._janus = janus
        self._events = events
        self._asr_factory = asr
        self._faces_factory = faces
        self._is_speech = is_speech
        self._reference = reference
        self.o = options or WorkerOptions()
        self._stop = threading.Event()
        self._streams = [
            _Stream("customer", "audio", call.host),
            _Stream("customer", "video", call.host),
            _Stream("agent", "audio", call.host),
        ]
        self._backlog = SpeechBacklog(
            [s.role for s in self._streams if s.kind == "audio"], self.o.asr_backlog_s
        )
        self._segmenters = {s.role: Segmenter(is_speech) for s in self._streams if s.kind == "audio"}
        self._frame: tuple[Any, float] | None = None  # newest decoded customer frame, its arrival
        self._frame_lock = threading.Lock()
        self._frame_ready = threading.Event()
        self._context: CallContext | None = None
        self._rules = AlertRules(())
        self.stats: dict[str, Any] = {
            "segments": 0,
            "segments_dropped": 0,
            "segments_joined": 0,  # segments transcribed in a pass with others (the recogniser was busy)
            "subtitles": 0,
            "alerts": 0,
            "frames_decoded": 0,
            "frames_analyzed": 0,
            "video_codec": None,  # vp8 | h264 once a picture decoded
            "video_dropped": 0,
            "asr_ms": [],
        }
        self._forwarded: dict[int, list[int]] = {}  # feed → Janus stream ids of our forwarders
        self._thread_cpu: dict[str, float] = {}  # CPU seconds of each analysis thread so far
        self._stats_lock = threading.Lock()
        self._started = time.time()

    # ---- the process' main loop ------------------------------------------------------------------

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        threads = [
            threading.Thread(target=self._receive, name="live-rtp", daemon=True),
            threading.Thread(target=self._transcribe, name="live-asr", daemon=True),
            threading.Thread(target=self._faces, name="live-faces", daemon=True),
        ]
        cpu0, wall0 = time.process_time(), time.monotonic()
        last_stats = wall0
        last_forwards = -1e9
        try:
            self._refresh()
            if self._context is not None and not self._context.active:
                logger.info(
                    "live worker: the call %s/%s is not running", self.call.task_id, self.call.attempt
                )
                return
            for t in threads:
                t.start()
            while not self._stop.is_set():
                self._refresh()
                if self._context is not None and not self._context.active:
                    break  # hung up
                now = time.monotonic()
                both = len(self._forwarded) >= 2
                if not both or now - last_forwards >= self.o.forwards_s:
                    last_forwards = now
                    try:
                        self._ensure_forwards()
                    except DualrecError as exc:
                        logger.warning("live worker: forwarding: %s", exc)
                if now - last_stats >= self.o.stats_every_s:
                    last_stats = now
                    self._record_stats(time.process_time() - cpu0, now - wall0)
                self._stop.wait(self.o.poll_s)
        finally:
            self._stop.set()
            self._frame_ready.set()
            # the figures first: a recognition in progress may outlast the supervisor's patience
            with contextlib.suppress(DualrecError):
                self._record_stats(time.process_time() - cpu0, time.monotonic() - wall0, final=True)
            self._stop_forwards()
            for t in threads:  # daemon threads: a recognition in progress does not hold the exit
                if t.is_alive():
                    t.join(timeout=1)
            for s in self._streams:
                s.sock.close()

    def _record_stats(self, cpu_s: float, wall_s: float, *, final: bool = False) -> None:
        asr = sorted(self.stats["asr_ms"])
        details = {
            **{k: v for k, v in self.stats.items() if k != "asr_ms"},
            "cpu_s": round(cpu_s, 2),
            "wall_s": round(wall_s, 1),
            "cpu_share": round(cpu_s / wall_s, 3) if wall_s > 0 else None,
            "asr_ms_p50": asr[len(asr) // 2] if asr else None,
            "packets": {f"{s.role}-{s.kind}": s.packets for s in self._streams},
            "cpu_s_threads": {k: round(v, 2) for k, v in self._thread_cpu.items()},
            "final": final,
        }
        self._events.record(self.call.task_id, self.call.attempt, "status", code="stats", details=details)

    def _refresh(self) -> None:
        ctx = self._events.context(self.call.task_id, self.call.attempt)
        self._context = ctx
        self._rules.sensitive_words = ctx.sensitive_words

    # ---- Janus forwarding ------------------------------------------------------------------------

    def _port(self, role: str, kind: str) -> int | None:
        return next((s.port for s in self._streams if s.role == role and s.kind == kind), None)

    def _ensure_forwards(self) -> None:
        c = self.call
        with self._janus() as api, api.videoroom() as vr:
            listed = vr.request({"request": "listparticipants", "room": c.room, "secret": c.room_secret})
            publishing = {int(p["id"]) for p in listed.get("participants") or () if p.get("publisher")}
            fw = vr.request({"request": "listforwarders", "room": c.room, "secret": c.room_secret})
            ours: dict[int, list[int]] = {}
            for pub in fw.get("publishers") or ():
                pid = int(pub.get("publisher_id") or 0)
                for f in pub.get("forwarders") or ():
                    mine = f.get("host") == c.host and int(f.get("port") or 0) in {
                        s.port for s in self._streams
                    }
                    if mine:
                        ours.setdefault(pid, []).append(int(f.get("stream_id") or 0))
            self._forwarded = ours
            for feed, role in ((c.customer_feed, "customer"), (c.agent_feed, "agent")):
                if feed not in publishing or feed in ours:
                    continue
                answer = vr.request(
                    rtp_forward_request(
                        room=c.room,
                        secret=c.room_secret,
                        admin_key=c.admin_key,
                        publisher_id=feed,
                        host=c.host,
                        audio_port=self._port(role, "audio"),
                        video_port=self._port(role, "video"),
                    )
                )
                ids = _stream_ids(answer)
                self._forwarded[feed] = ids
                logger.info("live worker: forwarding the %s's media (streams %s)", role, ids)

    def _stop_forwards(self) -> None:
        c = self.call
        if not self._forwarded:
            return
        with contextlib.suppress(DualrecError), self._janus() as api, api.videoroom() as vr:
            for feed, ids in self._forwarded.items():
                for sid in ids:
                    with contextlib.suppress(DualrecError):
                        vr.request(
                            stop_forward_request(
                                room=c.room, secret=c.room_secret, publisher_id=feed, stream_id=sid
                            )
                        )

    # ---- receiving and decoding --------------------------------------------------------------------

    def _receive(self) -> None:
        import av

        sel = selectors.DefaultSelector()
        for s in self._streams:
            sel.register(s.sock, selectors.EVENT_READ, s)
        audio: dict[str, tuple[Any, Any]] = {}
        for s in self._streams:
            if s.kind == "audio":
                dec = av.CodecContext.create("opus", "r")
                dec.sample_rate = 48000
                dec.layout = "stereo"
                audio[s.role] = (dec, av.AudioResampler(format="s16", layout="mono", rate=16000))
        video = _VideoDecoding()
        undecodable = _UndecodableVideo()
        while not self._stop.is_set():
            for key, _ in sel.select(timeout=0.5):
                s = key.data
                while True:
                    try:
                        data = s.sock.recv(65536)
                    except BlockingIOError:
                        break
                    except OSError:
                        return
                    pkt = parse_rtp(data)
                    if pkt is None:
                        continue
                    s.packets += 1
                    now = time.time()
                    try:
                        if s.kind == "audio":
                            self._audio(s.role, audio[s.role], pkt.payload, now)
                        else:
                            if undecodable.check(pkt.payload_type, now, self.stats["frames_decoded"]):
                                self._video_undecodable(pkt.payload_type)
                            for vf in video.push(pkt):
                                self.stats["frames_decoded"] += 1
                                with self._frame_lock:
                                    self._frame = (vf, now)
                                self._frame_ready.set()
                            self.stats["video_codec"] = video.codec
                            self.stats["video_dropped"] = video.dropped
                    except av.error.FFmpegError:  # a corrupt audio packet: the next one goes on
                        pass
            self._thread_cpu["rtp"] = time.thread_time()
        sel.close()

    def _video_undecodable(self, payload_type: int) -> None:
        logger.warning(
            "live worker: the customer's video (RTP payload type %s) decodes neither as VP8 nor as H.264",
            payload_type,
        )
        self._events.record(
            self.call.task_id,
            self.call.attempt,
            "status",
            code="video_undecodable",
            reason="客户视频无法实时解码（非 VP8/H.264），无实时人脸检查 / the customer's video cannot be "
            "decoded live (neither VP8 nor H.264): no live face checks",
            details={"payload_type": payload_type},
        )

    def _audio(self, role: str, codec: tuple[Any, Any], payload: bytes, now: float) -> None:
        import av

        dec, resampler = codec
        for frame in dec.decode(av.Packet(payload)):
            for mono in resampler.resample(frame):
                pcm = mono.to_ndarray().astype("<i2").tobytes()
                for seg in self._segmenters[role].push(pcm, now):
                    self._queue(role, seg)

    def _queue(self, role: str, seg: SpeechSegment) -> None:
        self.stats["segments"] += 1
        dropped = self._backlog.add(role, seg)
        with self._stats_lock:  # the recogniser's thread counts its drops too
            self.stats["segments_dropped"] += dropped

    # ---- speech → subtitles and risk alerts --------------------------------------------------------

    def _transcribe(self) -> None:
        asr = self._asr_factory()
        if asr is None:
            self._events.record(
                self.call.task_id,
                self.call.attempt,
                "status",
                code="asr_unavailable",
                reason="语音识别不可用，无实时字幕 / speech recognition unavailable: no live subtitles",
            )
            return
        load = getattr(asr, "load", None)
        if callable(load):  # load the model now, while the call is being set up, not on the first words
            try:
                load()
            except Exception:
                logger.exception("live ASR: loading the model failed")
        while not self._stop.is_set():
            got = self._backlog.take(0.5)
            if got is None:
                continue
            role, parts = got
            started = time.perf_counter()
            try:
                heard, text = transcribe_parts(asr, parts)
            except Exception:  # one bad segment must not end the subtitles
                logger.exception("live ASR failed")
                continue
            self.stats["asr_ms"] = [*self.stats["asr_ms"], round((time.perf_counter() - started) * 1000)][
                -200:
            ]
            if len(parts) > 1:
                self.stats["segments_joined"] += heard
                dropped = self._backlog.put_back(role, parts[heard:])
                with self._stats_lock:
                    self.stats["segments_dropped"] += dropped
            text = to_simplified(text).strip()
            logger.info(
                "live ASR: %s %.1f s of speech (%d of %d segments heard) → %d characters in %d ms",
                role,
                sum(p.end - p.start for p in parts),
                heard,
                len(parts),
                len(text),
                self.stats["asr_ms"][-1],
            )
            self._thread_cpu["asr"] = time.thread_time()
            if text:
                self._subtitle(role, _covering(parts[:heard]), text)

    def _subtitle(self, role: str, seg: SpeechSegment, text: str) -> None:
        c = self.call
        ctx = self._context
        node = running_node(ctx.flow, ctx.marks) if ctx is not None and ctx.flow is not None else None
        spoken = _utc(seg.ended_at)
        self._events.record(
            c.task_id,
            c.attempt,
            "subtitle",
            speaker=role,
            node_id=node.id if node else "",
            text=text,
            t_start=round(seg.start, 2),
            t_end=round(seg.end, 2),
            spoken_until=spoken,
            details={"cut": seg.cut},
        )
        self.stats["subtitles"] += 1
        for alert in self._rules.check(role, text, node, time.monotonic()):
            self._events.record(
                c.task_id,
                c.attempt,
                "alert",
                speaker=role,
                code=alert.code,
                node_id=alert.node_id,
                text=text,
                reason=f"{alert.reason_zh} / {alert.reason_en}",
                t_start=round(seg.start, 2),
                t_end=round(seg.end, 2),
                spoken_until=spoken,
                details={"cut": seg.cut, **({"words": list(alert.words)} if alert.words else {})},
            )
            self.stats["alerts"] += 1

    # ---- the customer's picture → face checks -----------------------------------------------------

    def _faces(self) -> None:
        engine = self._faces_factory()
        c = self.call
        if engine is None:
            self._events.record(
                c.task_id,
                c.attempt,
                "status",
                code="faces_unavailable",
                reason="人脸引擎不可用，无实时人脸检查 / the face engine is unavailable: no live face checks",
            )
            return
        analyzer = LiveFrameAnalyzer(engine, self.o.live)
        key = self._context.reference_key if self._context is not None else None
        reference = None
        if key and self._reference is not None:
            try:
                reference = self._reference(key)
            except Exception:
                logger.exception("live worker: the verified face could not be loaded")
        analyzer.set_reference(reference)
        if reference is None:
            self._events.record(
                c.task_id,
                c.attempt,
                "status",
                code="identity_unverified",
                reason="未核验：本次通话前没有核验通过的客户人脸，无法比对是否本人 / not verified: no face "
                "verified before this call to compare with",
            )
        else:
            self._events.record(
                c.task_id,
                c.attempt,
                "status",
                code="identity_reference",
                reason="正在与交接前核验通过的客户人脸比对 / comparing with the face verified before the "
                "hand-over",
            )
        last = 0.0
        while not self._stop.is_set():
            self._frame_ready.wait(timeout=1.0)
            self._frame_ready.clear()
            if self._stop.is_set():
                return
            wait = self.o.face_interval_s - (time.monotonic() - last)
            if wait > 0 and self._stop.wait(wait):
                return
            with self._frame_lock:
                got, self._frame = self._frame, None
            if got is None:
                continue
            vf, _arrived = got
            last = time.monotonic()
            image = vf.to_ndarray(format="rgb24")
            obs = analyzer.analyze(image, time.time() - self._started)
            self.stats["frames_analyzed"] += 1
            self._thread_cpu["faces"] = time.thread_time()
            for e in obs.events:
                if e.kind != "raised":
                    continue
                code = str(e.code)
                self._events.record(
                    c.task_id,
                    c.attempt,
                    "alert",
                    speaker="customer",
                    code=code,
                    reason=FACE_REASONS.get(code, code),
                    details={"face_count": obs.face_count, "identity_distance": obs.identity_distance},
                )
                self.stats["alerts"] += 1
