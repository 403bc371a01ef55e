"""The QC pipeline's stages. Each reads and fills the shared ``State``; the runner is in ``qc.py``.

Two kinds of failure are kept apart. The recording's own (a ``MediaError``: it cannot be opened,
does not decode) goes into ``probe_error`` / ``video_error`` / ``audio_error``, which
``file_integrity`` reports as findings against the file; it is logged as one line (the traceback
only at DEBUG). Anything else an engine or analyser raises is an engine error: it goes into
``State.engine_errors`` under the input it spoiled (``probe``, ``video``, ``audio``, ``faces``,
``asr``, ``ocr``, ``id_photo``), the checks that need that input end ``error`` (REVIEW, never a
finding against the file), and it is logged with its traceback (a bug to look at).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from dualrec.checks.base import CheckContext, NodeSpan, OcrObservation
from dualrec.core.idcard import parse_id_card
from dualrec.errors import MediaError
from dualrec.media.ports import DecodeReport, Image, MediaInfo, ProgressReporter, VideoFrame
from dualrec.pipeline.audio import AudioAnalysis, analyse_audio
from dualrec.pipeline.nodes import infer_spans, spans_from_markers
from dualrec.pipeline.overlap import overlapped
from dualrec.pipeline.request import QcEngines, QcOptions, QcRequest
from dualrec.pipeline.visual import VisualAnalyser, plan_times

__all__ = ["STAGES", "Concurrent", "Stage", "State"]

logger = logging.getLogger(__name__)

NO_ID_PHOTO = "未提供身份证照片 / no ID photo supplied"
NO_CARD_NODE = "流程中没有出示证件的节点 / the flow has no identity or document node"
CARD_NODES = ("identity", "document_display")


@dataclass
class State:
    request: QcRequest
    engines: QcEngines
    options: QcOptions
    progress: ProgressReporter
    thresholds: dict[str, dict[str, float]]
    weights: dict[str, float] = field(default_factory=dict)  # stage → share of the job's progress
    stopped: bool = False  # early stop: later analysis stages are skipped, checks still run
    concurrent: bool = False  # stages are running side by side (per-stage CPU time is not known)
    errors: dict[str, str] = field(default_factory=dict)  # stage → what it raised
    engine_errors: dict[str, str] = field(default_factory=dict)  # input → the engine error that spoiled it
    seconds: dict[str, float] = field(default_factory=dict)
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    info: MediaInfo | None = None
    probe_error: str | None = None
    video: DecodeReport | None = None
    video_error: str | None = None
    visual: VisualAnalyser | None = None
    audio: DecodeReport | None = None
    audio_error: str | None = None
    heard: AudioAnalysis | None = None
    id_photo: tuple[float, ...] | None = None
    id_photo_error: str | None = NO_ID_PHOTO
    ocr: tuple[OcrObservation, ...] | None = None
    ocr_error: str | None = None
    ocr_images: dict[float, Image] = field(default_factory=dict)  # the frames the card was read in
    live_face: tuple[float, ...] | None = None  # the face verified live (a session's liveness frame)
    live_face_error: str | None = None
    nodes: tuple[NodeSpan, ...] = ()
    _done: dict[str, float] = field(default_factory=dict)
    _reported: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _owner: int = field(default_factory=threading.get_ident)  # the thread that runs the job

    def step(self, stage: str, fraction: float) -> None:
        """``stage`` is ``fraction`` done. The job's progress is reported from the job's own thread
        only (a stage running in a worker thread records its share; the next report includes it)
        and never goes back."""
        with self._lock:
            self._done[stage] = max(self._done.get(stage, 0.0), min(1.0, max(0.0, fraction)))
            total = sum(self.weights.values()) or 1.0
            done = sum(w * self._done.get(name, 0.0) for name, w in self.weights.items()) / total
            if threading.get_ident() != self._owner or done < self._reported:
                return
            self._reported = done
        self.progress.update(stage, done)

    @property
    def duration(self) -> float:
        ends = [
            self.video.last_pts if self.video else None,
            self.audio.last_pts if self.audio else None,
            self.info.duration if self.info else None,
        ]
        return max((e for e in ends if e is not None), default=0.0)

    def broken_inputs(self) -> dict[str, str]:
        """Input → engine error, with what depends on it: no video analysis, no faces and no OCR
        of its frames; no audio analysis, no transcript; no probe, nothing."""
        out = dict(self.engine_errors)
        if self.visual is not None and self.visual.faces_error is not None:
            out.setdefault("faces", self.visual.faces_error)
        for source, derived in (
            ("probe", ("video", "audio")),
            ("video", ("faces", "ocr")),
            ("audio", ("asr",)),
        ):
            if source in out:
                for name in derived:
                    out.setdefault(name, out[source])
        return out

    def context(self) -> CheckContext:
        r, v, heard = self.request, self.visual, self.heard
        faces_error = (v.faces_error if v else None) or (
            None
            if self.engines.faces
            else self.engines.unavailable.get("faces", "人脸引擎不可用 / no face engine")
        )
        broken = self.broken_inputs()
        return CheckContext(
            path=str(r.path),
            task=r.task,
            info=self.info,
            probe_error=self.probe_error,
            video=self.video,
            video_error=self.video_error,
            audio=self.audio,
            audio_error=self.audio_error,
            frames=tuple(v.frames) if v else (),
            frame_interval=1.0 / self.options.visual.sample_fps,
            levels=heard.levels if heard else (),
            level_window=self.options.level_window,
            speech=heard.speech if heard else (),
            transcript=heard.transcript if heard else None,
            other_language=heard.other_language if heard else (),
            asr_error=(heard.asr_error if heard else self.audio_error or broken.get("asr")),
            faces_error=faces_error or broken.get("faces"),
            flow=r.flow,
            markers=r.markers,
            nodes=self.nodes,
            id_photo=self.id_photo,
            id_photo_error=self.id_photo_error,
            ocr=self.ocr,
            ocr_error=self.ocr_error,
            portrait=v.portrait if v else None,
            portraits=tuple(v.portraits.values()) if v else (),
            sensitive_words=r.sensitive_words,
            thresholds=self.thresholds,
            engine_errors=broken,
            live_proof=r.live_proof,
            live_face=self.live_face,
            live_face_error=self.live_face_error,
            live_images=r.live_images,
            call_quality=r.call_quality,
            live_call=r.live_call,
        )


def wants_ocr(state: State) -> bool:
    """OCR (the costliest per-frame engine) runs only when a card may be shown: no flow, or a flow
    with an identity / document node."""
    flow = state.request.flow
    return state.engines.ocr is not None and (flow is None or any(n.type in CARD_NODES for n in flow.nodes))


class Stage:
    name = "stage"
    weight = 1.0
    always = False  # runs even after an early stop

    def parts(self) -> tuple[Stage, ...]:
        return (self,)

    def execute(self, state: State) -> None:
        """setup → run → cleanup, timed; a failure is recorded (``on_error``), never raised."""
        if state.stopped and not self.always:
            return
        started, cpu_started = time.perf_counter(), time.process_time()
        try:
            self.setup(state)
            self.run(state)
        except MediaError as exc:  # the recording's fault: its report says so; no traceback
            logger.info("QC stage %s: %s", self.name, exc.message)
            logger.debug("QC stage %s: the media error's traceback", self.name, exc_info=True)
            state.errors[self.name] = f"{type(exc).__name__}: {exc}"
            self.on_error(state, exc)
        except Exception as exc:  # a broken engine or analyser must not stop the report
            logger.warning("QC stage %s failed", self.name, exc_info=True)
            state.errors[self.name] = f"{type(exc).__name__}: {exc}"
            self.on_error(state, exc)
        finally:
            self.cleanup(state)
        state.seconds[self.name] = round(time.perf_counter() - started, 3)
        if not state.concurrent:
            state.cpu_seconds[self.name] = round(time.process_time() - cpu_started, 3)

    def setup(self, state: State) -> None:
        pass

    def run(self, state: State) -> None:
        raise NotImplementedError

    def on_error(self, state: State, exc: Exception) -> None:
        pass

    def cleanup(self, state: State) -> None:
        pass


class ProbeStage(Stage):
    name, weight = "probe", 0.02

    def run(self, state: State) -> None:
        state.info = state.engines.probe.probe(state.request.path)

    def on_error(self, state: State, exc: Exception) -> None:
        if isinstance(exc, MediaError):
            state.probe_error = str(exc)
        else:
            state.engine_errors["probe"] = f"媒体探测出错 / media probe failed: {type(exc).__name__}: {exc}"
        state.stopped = True  # nothing else can be decoded


class VisualStage(Stage):
    name, weight = "visual", 0.45

    def run(self, state: State) -> None:
        info = state.info
        if info is None or info.video is None:
            state.video_error = "没有视频流 / no video stream"
            return
        o = state.options.visual
        flow = state.request.flow
        windows = [
            (m.start, m.end)
            for m in state.request.markers
            if flow is not None and (n := flow.node(m.node_id)) is not None and n.type in CARD_NODES
        ]
        if not wants_ocr(state):
            o = dataclasses.replace(o, ocr_frames=0)
        visual = VisualAnalyser(state.engines.faces, o, info.duration, windows)
        state.visual = visual
        duration = info.duration or 0.0

        def on_frame(frame: VideoFrame) -> None:
            visual.on_frame(frame)
            if duration and len(visual.frames) % 20 == 0:
                state.step(self.name, frame.t / duration)

        def decode(put: Callable[[VideoFrame], None]) -> DecodeReport:
            return state.engines.frames.scan(
                state.request.path, fps=o.sample_fps, max_width=o.max_width, on_frame=put
            )

        # the decoder runs ahead by at most o.prefetch frames: in a second thread (FFmpeg releases
        # the GIL), unless the source already decodes ahead in a process of its own
        depth = 0 if getattr(state.engines.frames, "runs_ahead", False) else o.prefetch
        state.video = overlapped(decode, on_frame, depth=depth, name="dualrec-decode")

    def on_error(self, state: State, exc: Exception) -> None:
        if isinstance(exc, MediaError):
            state.video_error = str(exc)
        else:
            state.engine_errors["video"] = (
                f"视频分析出错 / video analysis failed: {type(exc).__name__}: {exc}"
            )


class AudioStage(Stage):
    name, weight = "audio", 0.35

    def run(self, state: State) -> None:
        info = state.info
        if info is None or info.audio is None:
            state.audio_error = "没有音频流 / no audio stream"
            return
        o, e = state.options, state.engines
        duration = info.duration or info.audio.duration or 0.0

        def progress(seconds: float) -> None:
            if duration:
                state.step(self.name, 0.95 * seconds / duration)

        # streamed: decode, levels, VAD and ASR advance together, so memory does not grow with the file
        with e.audio.stream(state.request.path, sample_rate=o.sample_rate) as blocks:
            try:
                state.heard = analyse_audio(
                    blocks,
                    blocks.sample_rate,
                    vad=e.vad,
                    asr=e.asr,
                    window=o.level_window,
                    asr_unavailable=e.unavailable.get("asr"),
                    language=o.language,
                    chunk_seconds=o.asr_chunk_seconds,
                    parallel=o.asr_parallel,
                    on_progress=progress,
                )
            finally:  # the integrity evidence even when the analysis failed: decode the rest
                state.audio = blocks.finish()
        heard = state.heard
        if e.asr is not None and heard is not None and heard.asr_error is not None:  # the recogniser raised
            state.engine_errors["asr"] = heard.asr_error

    def on_error(self, state: State, exc: Exception) -> None:
        if isinstance(exc, MediaError):
            state.audio_error = str(exc)
        else:
            state.engine_errors["audio"] = (
                f"音频分析出错 / audio analysis failed: {type(exc).__name__}: {exc}"
            )


class IdPhotoStage(Stage):
    name, weight = "id_photo", 0.03
    always = True

    def run(self, state: State) -> None:
        photo, faces = state.request.id_photo, state.engines.faces
        if photo is None:
            return
        if faces is None:
            state.id_photo_error = state.engines.unavailable.get("faces", "人脸引擎不可用 / no face engine")
            return
        step = max(1, photo.shape[1] // 800)
        small = photo[::step, ::step]
        found = faces.detect(small)
        if not found:
            state.id_photo_error = "身份证照片中未检测到人脸 / no face found in the ID photo"
            return
        state.id_photo = tuple(float(x) for x in faces.embed(small, found[0]))
        state.id_photo_error = None

    def on_error(self, state: State, exc: Exception) -> None:
        message = f"身份证照片处理出错 / ID photo failed: {type(exc).__name__}: {exc}"
        if not isinstance(exc, MediaError):  # the face engine raised on the photo
            engine = type(state.engines.faces).__name__
            message = (
                f"人脸引擎处理身份证照片时出错 / face engine error ({engine}) on the ID photo: "
                f"{type(exc).__name__}: {exc}"
            )
            state.engine_errors["id_photo"] = message
        state.id_photo_error = message


class LiveFaceStage(Stage):
    """The face a self-service session verified live, from its liveness frame: the recording's faces
    are compared with it (``checks.live``)."""

    name, weight = "live_face", 0.02
    always = True

    def run(self, state: State) -> None:
        proof, frame = state.request.live_proof, state.request.live_images.get("liveness")
        if proof is None or proof.face_match is None:
            return
        faces = state.engines.faces
        if frame is None:
            state.live_face_error = "会话没有保存活体检测画面 / the session kept no liveness frame"
            return
        if faces is None:
            state.live_face_error = state.engines.unavailable.get("faces", "人脸引擎不可用 / no face engine")
            return
        found = faces.detect(frame)
        if not found:
            state.live_face_error = "活体检测画面中未检测到人脸 / no face in the liveness frame"
            return
        largest = max(found, key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))
        state.live_face = tuple(float(x) for x in faces.embed(frame, largest))

    def on_error(self, state: State, exc: Exception) -> None:
        state.live_face_error = f"活体人脸处理出错 / the liveness face failed: {exc}"


class OcrStage(Stage):
    name, weight = "ocr", 0.1

    def run(self, state: State) -> None:
        if state.engines.ocr is None:
            state.ocr_error = state.engines.unavailable.get("ocr", "文字识别引擎不可用 / no OCR engine")
            return
        if not wants_ocr(state):
            state.ocr_error = NO_CARD_NODE
            return
        if state.visual is None:
            state.ocr_error = state.video_error or "没有视频 / no video"
            return
        seen: list[OcrObservation] = []
        candidates = self._inferred_candidates(state) + state.visual.ocr_candidates
        for i, (t, image) in enumerate(candidates):
            read = [ln for ln in state.engines.ocr.recognize(image) if ln.text.strip()]
            lines = tuple(ln.text for ln in read)
            fields = parse_id_card(lines)
            if fields.side is not None:
                # the OCR engine's own scores for the lines read
                score = round(sum(ln.confidence for ln in read) / len(read), 3) if read else None
                seen.append(OcrObservation(t, lines, fields, confidence=score))
                state.ocr_images[t] = image
                if fields.id_number_valid:
                    break
            state.step(self.name, (i + 1) / len(candidates))
        state.ocr = tuple(seen)
        state.visual.ocr_candidates.clear()  # free the full frames

    @staticmethod
    def _inferred_candidates(state: State) -> list[tuple[float, Image]]:
        """Without markers the visual pass only kept frames from the start; where the transcript
        placed an identity / document node, frames from its first seconds are read too."""
        if state.request.markers:
            return []
        o = state.options.visual
        windows = [
            (s.start, min(s.end, s.start + o.ocr_inferred_seconds))
            for s in state.nodes
            if s.inferred and s.node_type in CARD_NODES and s.end > s.start
        ]
        times = plan_times(windows, o.ocr_inferred_frames)
        if not times:
            return []
        frames = state.engines.frames.frames_at(state.request.path, times, max_width=o.max_width)
        return [(f.t, f.image) for f in frames]

    def on_error(self, state: State, exc: Exception) -> None:
        message = f"文字识别出错 / OCR failed: {type(exc).__name__}: {exc}"
        state.ocr_error = message
        if not isinstance(
            exc, MediaError
        ):  # the OCR engine raised (a frame that does not decode: the file's)
            state.engine_errors["ocr"] = message


class NodesStage(Stage):
    name, weight = "nodes", 0.05
    always = True

    def run(self, state: State) -> None:
        r = state.request
        if r.markers:
            state.nodes = spans_from_markers(r.flow, r.markers)
        elif r.flow is not None and state.heard is not None and state.heard.transcript:
            state.nodes = infer_spans(r.flow, state.heard.transcript, state.duration)


class Concurrent(Stage):
    """Independent stages run side by side: the first in the calling thread, each other one in a
    worker thread. For stages that alone leave a core idle: the visual pass (decoder thread and
    analyser) and the audio pass (ASR in CTranslate2's threads, which run without the GIL). Wall
    time is recorded per stage, CPU time for the group only (a process's CPU cannot be split)."""

    def __init__(self, *stages: Stage) -> None:
        self.stages = stages
        self.name = "+".join(s.name for s in stages)
        self.weight = sum(s.weight for s in stages)
        self.always = any(s.always for s in stages)

    def parts(self) -> tuple[Stage, ...]:
        return self.stages

    def execute(self, state: State) -> None:
        started, cpu_started = time.perf_counter(), time.process_time()
        workers = [
            threading.Thread(target=s.execute, args=(state,), name=f"dualrec-{s.name}", daemon=True)
            for s in self.stages[1:]
        ]
        state.concurrent = True
        for worker in workers:
            worker.start()
        self.stages[0].execute(state)  # never raises but for an interrupt (workers are daemons)
        for worker in workers:
            worker.join()
        state.concurrent = False
        state.seconds[self.name] = round(time.perf_counter() - started, 3)
        state.cpu_seconds[self.name] = round(time.process_time() - cpu_started, 3)


STAGES: tuple[Stage, ...] = (
    ProbeStage(),
    Concurrent(VisualStage(), AudioStage()),
    IdPhotoStage(),
    LiveFaceStage(),
    NodesStage(),  # before OCR: without markers, OCR looks where the transcript places the card
    OcrStage(),
)
