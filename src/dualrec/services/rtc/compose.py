"""The ``rtc.compose`` job: a call's Janus recordings → one MP4 per party and a composite → QC.

Janus' VideoRoom writes one ``.mjr`` file per published stream and per (re)connection, named
``videoroom-<room>-user-<feed>-<time>-<audio|video>-<mindex>.mjr``; the feed id tells whose it is
(``tokens.feed_id``). ``janus-pp-rec`` turns each into a WebM/Ogg file and tells from its header
when its first packet arrived, so every piece is laid on the call's own timeline (t = 0 when the
first stream of anybody arrived): a party that joined late or reconnected shows black/silence for
the gap, never a shifted picture.

Outputs (H.264 + AAC MP4, 25 fps): ``customer.mp4`` and ``agent.mp4`` (640×480 each, the full call
length), and ``composite.mp4``: customer left, agent right, the business number and the wall-clock
time burnt in. The composite is submitted like a self-service recording
(``recordings.service.submit_session_recording``): blob store, evidence ledger, QC with the flow,
catalogue, and the task result webhook when QC ends; the per-party files are stored as blobs and
recorded in the evidence ledger of that recording.
"""

from __future__ import annotations

import io
import json
import logging
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dualrec.core.call_quality import RecordingGap, coverage_gaps
from dualrec.core.flow import flow_to_dict
from dualrec.core.rtc_queue import marks_to_markers
from dualrec.core.tasks import Task, TaskStatus
from dualrec.db.repositories.rtc import DeskEvent
from dualrec.db.uow import UnitOfWorkFactory
from dualrec.errors import EngineUnavailableError, MediaError, NotFoundError
from dualrec.i18n import msg
from dualrec.jobs.ports import JobContext, JobQueue
from dualrec.services.evidence import ledger
from dualrec.services.pdf.pages import Watermark, render_page
from dualrec.services.recordings.service import QcInputs, submit_session_recording
from dualrec.services.rtc import tokens
from dualrec.services.rtc.desk_share import desk_state, signed_documents
from dualrec.services.rtc.janus_config import JanusSecrets
from dualrec.services.rtc.live_events import live_for_recording
from dualrec.services.rtc.quality import quality_for_recording
from dualrec.services.rtc.rooms import call_dir
from dualrec.services.tasks.documents import DocumentRef, read_document
from dualrec.services.tasks.service import TaskService, attempt_flow
from dualrec.storage.ports import BlobStore

__all__ = ["CallComposer", "Piece", "SharedPage", "compose_call", "scan_call", "shared_pages"]

logger = logging.getLogger(__name__)

FONT = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
WIDTH, HEIGHT, FPS = 640, 480, 25
_NAME = re.compile(r"^videoroom-(\d+)-user-(\d+)-(\d+)-(audio|video)(?:-(\d+))?\.mjr$")
_EXT = {
    "vp8": "webm",
    "vp9": "webm",
    "av1": "webm",
    "h264": "mkv",
    "h265": "mkv",
    "opus": "opus",
    "g711": "wav",
}


@dataclass(frozen=True)
class Piece:
    """One converted stream of one party: where it sits on the call's timeline."""

    mjr: Path
    feed: int
    kind: str  # audio | video
    codec: str
    start_us: int  # wall-clock microseconds of its first packet
    media: Path | None = None  # the converted file
    duration: float = 0.0


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pkg = "janus-tools" if name == "janus-pp-rec" else "ffmpeg"
        raise EngineUnavailableError(
            f"{name} not found on PATH (apt-get install {pkg})", details={"engine": name}
        )
    return found


def _run(cmd: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise MediaError(f"{Path(cmd[0]).name} failed: {' | '.join(tail)[:400]}")
    return done


def scan_call(folder: Path) -> list[Piece]:
    """The call's .mjr files with their headers (codec, first packet time); empty ones skipped."""
    pieces: list[Piece] = []
    pp = _tool("janus-pp-rec")
    for mjr in sorted(folder.glob("*.mjr")):
        m = _NAME.match(mjr.name)
        if m is None or mjr.stat().st_size == 0:
            continue
        out = subprocess.run([pp, "-j", str(mjr)], capture_output=True, text=True, timeout=60, check=False)
        header = _json_in(out.stdout)
        if header is None:
            logger.warning("unreadable recording header: %s", mjr.name)
            continue
        start = int(header.get("u") or header.get("s") or 0)
        pieces.append(Piece(mjr, int(m.group(2)), m.group(4), str(header.get("c", "")).lower(), start))
    return pieces


def _json_in(text: str) -> dict[str, Any] | None:
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                continue
            return value if isinstance(value, dict) else None
    return None


def _duration(path: Path) -> float:
    probe = shutil.which("ffprobe") or "ffprobe"
    out = subprocess.run(
        [probe, "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    try:
        return max(0.0, float(out.stdout.strip().splitlines()[0]))
    except (ValueError, IndexError):
        return 0.0


def _convert(piece: Piece, work: Path) -> Piece | None:
    ext = _EXT.get(piece.codec)
    if ext is None:
        logger.warning("recording %s: codec %r not handled", piece.mjr.name, piece.codec)
        return None
    dst = work / f"{piece.mjr.stem}.{ext}"
    try:
        _run([_tool("janus-pp-rec"), str(piece.mjr), str(dst)], timeout=1800)
    except MediaError as exc:
        logger.warning("recording %s could not be converted: %s", piece.mjr.name, exc)
        return None
    if not dst.is_file() or dst.stat().st_size == 0:
        return None
    length = _duration(dst)
    if length <= 0:
        return None
    return Piece(piece.mjr, piece.feed, piece.kind, piece.codec, piece.start_us, dst, length)


def _encode_args() -> list[str]:
    return [
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "26", "-pix_fmt", "yuv420p", "-r", str(FPS),
        "-c:a", "aac", "-b:a", "96k", "-ar", "48000", "-ac", "1", "-movflags", "+faststart",
    ]  # fmt: skip


def _normalized(src: Path, width: int, height: int, dst: Path) -> Path:
    """One video piece at a fixed size and frame rate. A WebRTC sender changes its resolution as
    bandwidth and CPU allow (and a phone turned sideways its aspect): FFmpeg re-creates a filter
    graph at each change, which in the composing graph restarts its sources and timestamps (the
    party went black from the first change on). A graph of its own per piece, with nothing that
    keeps state across the change, absorbs it; the composing graph then sees one size."""
    _run(
        [
            _tool("ffmpeg"), "-nostdin", "-v", "error", "-y", "-i", str(src), "-an",
            "-vf", f"scale={width}:{height}:force_original_aspect_ratio=decrease,"
            f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2,setsar=1",
            "-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", "-pix_fmt", "yuv420p",
            "-f", "matroska", str(dst),
        ],
        timeout=1800,
    )  # fmt: skip
    return dst


def _party_mp4(pieces: list[Piece], t0_us: int, length: float, dst: Path) -> Path:
    """One party on the call's timeline: black and silence where it sent nothing."""
    inputs: list[str] = []
    graph = [
        f"color=c=black:s={WIDTH}x{HEIGHT}:r={FPS}:d={length:.3f}[vb0]",
        f"anullsrc=r=48000:cl=mono,atrim=duration={length:.3f}[ab]",
    ]
    video = [p for p in pieces if p.kind == "video" and p.media]
    audio = [p for p in pieces if p.kind == "audio" and p.media]
    for i, p in enumerate(video):
        assert p.media is not None
        fixed = _normalized(p.media, WIDTH, HEIGHT, dst.with_name(f"{dst.stem}-{i}.mkv"))
        inputs += ["-i", str(fixed)]
        off = max(0.0, (p.start_us - t0_us) / 1e6)
        graph.append(
            f"[{i}:v]scale={WIDTH}:{HEIGHT}:force_original_aspect_ratio=decrease,"
            f"pad={WIDTH}:{HEIGHT}:(ow-iw)/2:(oh-ih)/2,setsar=1,fps={FPS},"
            f"setpts=PTS-STARTPTS+{off:.3f}/TB[v{i}]"
        )
        graph.append(f"[vb{i}][v{i}]overlay=eof_action=pass:repeatlast=0[vb{i + 1}]")
    mix = ["[ab]"]
    for j, p in enumerate(audio):
        k = len(video) + j
        inputs += ["-i", str(p.media)]
        off_ms = max(0, round((p.start_us - t0_us) / 1000))
        graph.append(f"[{k}:a]aresample=48000,aformat=channel_layouts=mono,adelay={off_ms}:all=1[a{j}]")
        mix.append(f"[a{j}]")
    graph.append(f"{''.join(mix)}amix=inputs={len(mix)}:normalize=0:duration=first[aout]")
    _ffmpeg(inputs, graph, f"[vb{len(video)}]", "[aout]", dst, length)
    return dst


def _ffmpeg(inputs: list[str], graph: list[str], vout: str, aout: str, dst: Path, length: float) -> None:
    tmp = dst.with_name(f".{dst.stem}.tmp.mp4")
    cmd = [
        _tool("ffmpeg"), "-nostdin", "-v", "error", "-y", *inputs,
        "-filter_complex", ";".join(graph), "-map", vout, "-map", aout,
        "-t", f"{length:.3f}", *_encode_args(), "-f", "mp4", str(tmp),
    ]  # fmt: skip
    _run(cmd, timeout=max(600.0, length * 20))
    tmp.replace(dst)


def _text_file(work: Path, name: str, text: str) -> str:
    path = work / name
    path.write_text(text, encoding="utf-8")
    return str(path).replace("\\", "/").replace(":", "\\:").replace("'", "\\'")


def _composite(
    customer: Path,
    agent: Path,
    dst: Path,
    *,
    business_no: str,
    t0: datetime,
    length: float,
    shared: Path | None = None,
) -> Path:
    """Customer left, agent right; the business number, the party labels and the time burnt in.
    With ``shared`` (what the agent showed: screen share, document pages) the two parties stack
    on the left and the shared column (640×960) stands on the right: 1280×960."""
    work = dst.parent
    label = f"fontfile={FONT}:fontcolor=white:fontsize=22:box=1:boxcolor=black@0.5:boxborderw=6"
    cust = _text_file(work, "label-customer.txt", "客户 Customer")
    agt = _text_file(work, "label-agent.txt", "坐席 Agent")
    biz = _text_file(work, "label-business.txt", f"业务编号 {business_no}" if business_no else "dualrec")
    epoch = int(t0.timestamp())
    inputs = ["-i", str(customer), "-i", str(agent)]
    stack = ["[c][g]hstack=inputs=2[s]"]
    if shared is not None:
        inputs += ["-i", str(shared)]
        shr = _text_file(work, "label-shared.txt", "共享内容 Shared")
        stack = [
            "[c][g]vstack=inputs=2[cg]",
            f"[2:v]drawtext={label}:textfile='{shr}':x=10:y=10[sh]",
            "[cg][sh]hstack=inputs=2[s]",
        ]
    graph = [
        f"[0:v]drawtext={label}:textfile='{cust}':x=10:y=10[c]",
        f"[1:v]drawtext={label}:textfile='{agt}':x=10:y=10[g]",
        *stack,
        f"[s]drawtext={label}:textfile='{biz}':x=w-tw-10:y=h-th-46,"
        f"drawtext={label}:text='%{{pts\\:localtime\\:{epoch}}}':x=w-tw-10:y=h-th-10[v]",
        "[0:a][1:a]amix=inputs=2:normalize=0:duration=longest[a]",
    ]
    _ffmpeg(inputs, graph, "[v]", "[a]", dst, length)
    return dst


@dataclass(frozen=True)
class SharedPage:
    """A document page (with the agent's marks drawn on it) shown from ``start`` to ``end``
    seconds of the call's timeline."""

    image: Path
    start: float
    end: float


SHARED_W, SHARED_H = WIDTH, 2 * HEIGHT
MAX_SHARED_PAGES = 60  # inputs of one FFmpeg run; later changes are left out of the picture (logged)


def _shared_mp4(screen: list[Piece], pages: list[SharedPage], t0_us: int, length: float, dst: Path) -> Path:
    """The shared column: the document page shown to the customer (with the marks) while it was
    shown, the agent's screen share on top of it while that ran (the live picture the agent
    pointed the customer to), black elsewhere (video only, silent)."""
    inputs: list[str] = []
    graph = [f"color=c=black:s={SHARED_W}x{SHARED_H}:r={FPS}:d={length:.3f}[sb0]"]
    n = 0
    if len(pages) > MAX_SHARED_PAGES:
        logger.warning(
            "%d shared page states, the composite shows the first %d", len(pages), MAX_SHARED_PAGES
        )
    for pg in pages[:MAX_SHARED_PAGES]:
        inputs += ["-loop", "1", "-framerate", str(FPS), "-t", f"{length:.3f}", "-i", str(pg.image)]
        graph.append(
            f"[{n}:v]scale={SHARED_W}:{SHARED_H}:force_original_aspect_ratio=decrease,"
            f"pad={SHARED_W}:{SHARED_H}:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1,format=yuv420p[x{n}]"
        )
        graph.append(f"[sb{n}][x{n}]overlay=enable='between(t,{pg.start:.3f},{pg.end:.3f})'[sb{n + 1}]")
        n += 1
    for i, p in enumerate(screen):
        if p.media is None:
            continue
        fixed = _normalized(p.media, SHARED_W, SHARED_H, dst.with_name(f"{dst.stem}-screen-{i}.mkv"))
        inputs += ["-i", str(fixed)]
        off = max(0.0, (p.start_us - t0_us) / 1e6)
        graph.append(
            f"[{n}:v]scale={SHARED_W}:{SHARED_H}:force_original_aspect_ratio=decrease,"
            f"pad={SHARED_W}:{SHARED_H}:(ow-iw)/2:(oh-ih)/2,setsar=1,fps={FPS},"
            f"setpts=PTS-STARTPTS+{off:.3f}/TB[x{n}]"
        )
        graph.append(f"[sb{n}][x{n}]overlay=eof_action=pass:repeatlast=0[sb{n + 1}]")
        n += 1
    tmp = dst.with_name(f".{dst.stem}.tmp.mp4")
    cmd = [
        _tool("ffmpeg"), "-nostdin", "-v", "error", "-y", *inputs,
        "-filter_complex", ";".join(graph), "-map", f"[sb{n}]", "-an", "-t", f"{length:.3f}",
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "26", "-pix_fmt", "yuv420p", "-r", str(FPS),
        "-f", "mp4", str(tmp),
    ]  # fmt: skip
    _run(cmd, timeout=max(600.0, length * 20))
    tmp.replace(dst)
    return dst


@dataclass(frozen=True)
class Composed:
    customer: Path
    agent: Path
    composite: Path
    started_at: datetime
    duration: float
    pieces: int
    gaps: tuple[RecordingGap, ...] = ()  # stretches where the server recorded nothing of a stream


def compose_call(
    folder: Path,
    work: Path,
    *,
    customer_feed: int,
    agent_feed: int,
    business_no: str,
    screen_feed: int | None = None,
    pages: Callable[[datetime, float], list[SharedPage]] | None = None,
) -> Composed:
    """The two party files and the composite of the call recorded in ``folder``; with the agent's
    screen share (``screen_feed``'s recordings) and the document pages shown (``pages``: given the
    call's start and length, the page images on its timeline) in a shared column when any."""
    scanned = scan_call(folder)
    converted = [c for c in (_convert(p, work) for p in scanned) if c is not None]
    if not converted:
        raise MediaError(msg("rtc.call_usable_recording_files", len_scanned=len(scanned)))
    t0 = min(p.start_us for p in converted)
    length = max((p.start_us - t0) / 1e6 + p.duration for p in converted)
    unknown = {p.feed for p in converted} - {customer_feed, agent_feed, screen_feed}
    if unknown:
        logger.warning("recordings of unexpected feeds %s ignored in %s", sorted(unknown), folder)
    customer = _party_mp4(
        [p for p in converted if p.feed == customer_feed], t0, length, work / "customer.mp4"
    )
    agent = _party_mp4([p for p in converted if p.feed == agent_feed], t0, length, work / "agent.mp4")
    started = datetime.fromtimestamp(t0 / 1e6, tz=UTC)
    screen = [p for p in converted if screen_feed is not None and p.feed == screen_feed and p.kind == "video"]
    shown = pages(started, length) if pages is not None else []
    shared = _shared_mp4(screen, shown, t0, length, work / "shared.mp4") if screen or shown else None
    composite = _composite(
        customer,
        agent,
        work / "composite.mp4",
        business_no=business_no,
        t0=started,
        length=length,
        shared=shared,
    )
    return Composed(
        customer,
        agent,
        composite,
        started,
        length,
        len(converted),
        recording_gaps(converted, t0, length, {customer_feed: "customer", agent_feed: "agent"}),
    )


def shared_pages(
    task: Task,
    events: list[DeskEvent],
    read_pdf: Callable[[int], bytes],
    work: Path,
    t0: datetime,
    length: float,
) -> list[SharedPage]:
    """The document pages the agent showed, with its highlights/underlines drawn as the customer's
    page drew them, on the call's timeline (from each change to the next, or the end of the call)."""
    from PIL import Image, ImageDraw

    states: list[tuple[float, tuple[int, int, str] | None]] = []
    for i, e in enumerate(events):
        if e.kind not in ("doc.show", "doc.marks", "doc.close"):
            continue
        st = desk_state(task, events[: i + 1])
        at = e.at if e.at.tzinfo else e.at.replace(tzinfo=UTC)
        t = min(max(0.0, (at - t0).total_seconds()), length)
        key = None if st.document is None else (st.document, st.page, json.dumps(st.marks, sort_keys=True))
        states.append((t, key))
    out: list[SharedPage] = []
    rendered: dict[tuple[int, int, str], Path] = {}
    pdfs: dict[int, bytes] = {}
    for i, (t, key) in enumerate(states):
        end = states[i + 1][0] if i + 1 < len(states) else length
        if key is None or end <= t:
            continue
        if key not in rendered:
            doc, page, marks = key
            if doc not in pdfs:
                pdfs[doc] = read_pdf(doc)
            mark = Watermark(task.customer_name, task.business_no, t0)
            data = render_page(pdfs[doc], page, width_px=SHARED_W, watermark=mark, fmt="png")
            image = Image.open(io.BytesIO(data)).convert("RGBA")
            layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
            draw = ImageDraw.Draw(layer)
            w, h = image.size
            for m in json.loads(marks):
                box = (m["x"] * w, m["y"] * h, (m["x"] + m["w"]) * w, (m["y"] + m["h"]) * h)
                if m["kind"] == "highlight":
                    draw.rectangle(box, fill=(255, 230, 0, 110))
                else:
                    draw.line((box[0], box[3], box[2], box[3]), fill=(220, 30, 30, 255), width=3)
            path = work / f"shared-{len(rendered)}.png"
            Image.alpha_composite(image, layer).convert("RGB").save(path, "PNG")
            rendered[key] = path
        out.append(SharedPage(rendered[key], t, end))
    return out


def recording_gaps(
    pieces: list[Piece], t0_us: int, length: float, parties: dict[int, str]
) -> tuple[RecordingGap, ...]:
    """Per party and stream kind, the stretches of the call no recorded piece covers (a party that
    joined late, dropped out and came back, or never sent that stream)."""
    out: list[RecordingGap] = []
    for feed, party in parties.items():
        for kind in ("audio", "video"):
            spans = [
                ((p.start_us - t0_us) / 1e6, (p.start_us - t0_us) / 1e6 + p.duration)
                for p in pieces
                if p.feed == feed and p.kind == kind
            ]
            out.extend(RecordingGap(party, kind, a, b) for a, b in coverage_gaps(spans, length))
    return tuple(out)


class CallComposer:
    """Job handler for ``rtc.compose``: payload ``{task_id, attempt}``."""

    def __init__(
        self,
        uows: UnitOfWorkFactory,
        blobs: BlobStore,
        queue: Any,
        tasks: TaskService,
        secrets: Any,
        recordings: Path,
        scratch: Path,
    ) -> None:
        self._uows = uows
        self._blobs = blobs
        self._queue = queue  # () -> JobQueue
        self._tasks = tasks
        self._secrets = secrets  # () -> JanusSecrets
        self._recordings = recordings
        self._scratch = scratch

    def __call__(self, ctx: JobContext) -> dict[str, Any]:
        task_id, attempt = str(ctx.payload["task_id"]), int(ctx.payload["attempt"])
        task, flow_dict, done = self._load(task_id, attempt)
        if done:  # a retry after the recording was registered
            return {"task_id": task_id, "recording_id": done}
        s: JanusSecrets = self._secrets()
        self._scratch.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="call-", dir=self._scratch))
        with self._uows() as uow:
            events = uow.rtc.desk_events(task_id, attempt)

        def read_pdf(index: int) -> bytes:
            return read_document(self._blobs, DocumentRef.from_dict(task.documents[index]))

        try:
            composed = compose_call(
                call_dir(self._recordings, task_id, attempt),
                work,
                customer_feed=tokens.feed_id(s.room_key, task_id, attempt, "customer"),
                agent_feed=tokens.feed_id(s.room_key, task_id, attempt, "agent"),
                business_no=task.business_no,
                screen_feed=tokens.feed_id(s.room_key, task_id, attempt, "screen"),
                pages=lambda t0, length: shared_pages(task, events, read_pdf, work, t0, length),
            )
            inputs = QcInputs(
                task={
                    "running_no": task.business_no,
                    "customer_name": task.customer_name,
                    "id_number": self._tasks.box.open(task.id_number) if task.id_number else "",
                    "mode": "human",
                    "task_id": task.id,
                    "attempt": attempt,
                    "business_type": task.business_type,
                },
                flow=flow_dict,
                markers=self._markers(task_id, attempt, composed, flow_dict),
                call_quality=quality_for_recording(
                    self._uows,
                    task_id,
                    attempt,
                    t0=composed.started_at,
                    duration=composed.duration,
                    gaps=list(composed.gaps),
                ),
                live_call=live_for_recording(
                    self._uows, task_id, attempt, t0=composed.started_at, duration=composed.duration
                ),
            )
            queue: JobQueue = self._queue()
            with composed.composite.open("rb") as fh:
                rec = submit_session_recording(
                    self._uows,
                    self._blobs,
                    queue,
                    branch_id=task.branch_id,
                    branch_path=task.branch_path,
                    data=fh,
                    inputs=inputs,
                    id_photo_key=None,
                    filename="remote-interview.mp4",
                    created_by="remote-interview",
                )
            self._attach(task, attempt, rec.id, composed, events)
            return {
                "task_id": task_id,
                "recording_id": rec.id,
                "duration": round(composed.duration, 2),
                "streams": composed.pieces,
                "gaps": [g.to_dict() for g in composed.gaps],
            }
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _markers(
        self, task_id: str, attempt: int, composed: Composed, flow: dict[str, Any]
    ) -> list[dict[str, Any]] | None:
        """The agent's node marks (打点) on the composite's timeline (t = 0: its first packet), as
        QC markers of nodes of the attempt's flow; None (QC infers the nodes) when there are none."""
        nodes = {str(n.get("id")) for n in flow.get("nodes", []) if isinstance(n, dict)}
        with self._uows() as uow:
            marks = [(m.node_id, m.kind, m.at) for m in uow.rtc.marks(task_id, attempt)]
        markers = [
            m
            for m in marks_to_markers(
                [(n, k, at if at.tzinfo else at.replace(tzinfo=UTC)) for n, k, at in marks],
                composed.started_at,
                composed.duration,
            )
            if m["node_id"] in nodes
        ]
        return markers or None

    def _load(self, task_id: str, attempt: int) -> tuple[Task, dict[str, Any], str | None]:
        with self._uows() as uow:
            task = uow.tasks.get(task_id)
            if task is None:
                raise NotFoundError(f"task {task_id} vanished")
            found = next((a for a in task.attempts if a.number == attempt), None)
            if found is None:
                raise NotFoundError(f"task {task_id} has no attempt {attempt}")
            version = uow.flows.version(task.flow_id, task.flow_version)
            assert version is not None
            flow = flow_to_dict(attempt_flow(version.definition, found.draws))
            # the call's own recording (an attempt handed over by the AI session already has that
            # session's recording: the call's composite replaces it as the attempt's recording)
            entry = uow.rtc.entry(task_id, attempt)
            done = entry.recording_id if entry is not None else found.recording_id
            return task, flow, done

    def _attach(
        self, task: Task, attempt: int, recording_id: str, composed: Composed, events: list[DeskEvent]
    ) -> None:
        """The per-party files, the documents the customer signed in the call and the shared
        desk's log (page shown, marks, screen share, signature; t in seconds of the composite)
        join the recording's evidence; the attempt points at the recording."""
        keys = {}
        for name, path in (("customer.mp4", composed.customer), ("agent.mp4", composed.agent)):
            with path.open("rb") as fh:
                keys[name] = self._blobs.put(fh, content_type="video/mp4").key
        for i, doc in enumerate(signed_documents(events)):
            ext = "png" if str(doc["name"]).endswith(".png") else "pdf"
            keys[f"signed_{i + 1}.{ext}"] = str(doc["blob_key"])
        if events:
            log = [
                {
                    "t": round(
                        (
                            (e.at if e.at.tzinfo else e.at.replace(tzinfo=UTC)) - composed.started_at
                        ).total_seconds(),
                        3,
                    ),
                    "at": (e.at if e.at.tzinfo else e.at.replace(tzinfo=UTC)).isoformat(),
                    "party": e.party,
                    "kind": e.kind,
                    **{k: v for k, v in e.payload.items() if k != "blob_key"},
                }
                for e in events
            ]
            data = json.dumps({"events": log}, ensure_ascii=False, indent=1).encode()
            keys["desk_events.json"] = self._blobs.put(data, content_type="application/json").key
        with self._uows() as uow:
            for name, key in keys.items():
                ledger.record_blob(
                    uow,
                    self._blobs,
                    subject_type="recording",
                    subject_id=recording_id,
                    kind=ledger.EvidenceKind.BLOB_STORED,
                    name=name if name.startswith(("signed_", "desk_")) else f"party_{name}",
                    key=key,
                )
            entry = uow.rtc.entry(task.id, attempt, for_update=True)
            if entry is not None:
                uow.rtc.update_entry(entry.id, recording_id=recording_id)
            self._tasks.session_transition(uow, task.id, attempt, TaskStatus.QC, recording_id=recording_id)
            uow.commit()
