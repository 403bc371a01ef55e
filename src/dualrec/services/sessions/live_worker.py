"""The analysis side of the live monitor: the per-session frame analysers, liveness challenges and
customer face descriptors, and the loop of an analysis worker process (``worker_main``).

An ``AnalysisCore`` is pure computation: it reads no database and no blob store. Every request
carries what was persisted about the session (the liveness challenge's snapshot, and the liveness
proof's best frame when the core must rebuild the customer's descriptor), so a core that never saw
the session — a restarted worker, another ``serve`` process — continues it. Replies are plain
dicts (picklable, JSON-ready except the best frame's bytes); the API process writes what they prove.

Requests (``op``):
- ``frame``: ``{data, t, challenge, reference, reference_key}`` → ``{"observation": ..., "raised":
  [...], "liveness": ..., "snapshot": ..., "proof": ...}``, or ``{"need_reference": True}`` when
  the customer's descriptor must be rebuilt from the liveness proof's frame (send it as ``reference``),
  or ``{"error": {"kind", "message"}}``.
- ``card_face``: ``{data, challenge, reference, reference_key}`` → ``{"distance": float | None,
  "problem": str}``: the ID card photo's face against the customer's descriptor.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from dualrec.core.liveness import LivenessChallenge
from dualrec.errors import DualrecError, EngineUnavailableError, InvalidInputError
from dualrec.i18n import msg
from dualrec.media.ports import FaceAnalyzer, Image
from dualrec.pipeline.live import FrameLimits, FrameObservation, LiveFrameAnalyzer, LiveOptions, decode_frame

__all__ = ["CARD_LIMITS", "AnalysisCore", "FaceFactory", "worker_main"]

logger = logging.getLogger(__name__)

CARD_LIMITS = FrameLimits(max_bytes=6 * 1024 * 1024, max_side=4096)

FaceFactory = Callable[[], FaceAnalyzer | None]

MAX_WITNESSES = 3  # frames kept per challenge, one per passed action
SAME_PERSON_MAX_DISTANCE = 0.6  # dlib descriptor distance: above it, two frames show two people


@dataclass
class _Session:
    analyzer: LiveFrameAnalyzer
    challenge: LivenessChallenge | None = None
    version: tuple[str, int] | None = None  # (challenge id, revision) of the challenge held
    face: npt.NDArray[np.float64] | None = None  # the customer's descriptor (from a passed liveness)
    face_cid: str | None = None  # the challenge whose best frame gave ``face``
    best: tuple[float, Image] | None = None  # (frontal score, frame) during the challenge
    # a frame taken as each action passed: the person who did the actions must be the person of the
    # best frame (whose descriptor becomes the customer's face), or a live accomplice could do the
    # actions and a photo of someone else give the frontal picture
    witnesses: list[Image] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _error(kind: str, message: str) -> dict[str, Any]:
    return {"error": {"kind": kind, "message": message}}


class AnalysisCore:
    def __init__(
        self, faces: FaceFactory, options: LiveOptions | None = None, *, max_sessions: int = 200
    ) -> None:
        self._faces_factory = faces
        self._engine: FaceAnalyzer | None = None
        self.options = options or LiveOptions()
        self.max_sessions = max_sessions
        self._sessions: OrderedDict[str, _Session] = OrderedDict()
        self._lock = threading.Lock()

    def engine(self) -> FaceAnalyzer:
        if self._engine is None:
            self._engine = self._faces_factory()
            if self._engine is None:
                raise EngineUnavailableError(msg("sessions.face_engine_unavailable_server"))
        return self._engine

    def session(self, session_id: str) -> _Session:
        """The session's state (created empty, least recently used dropped past ``max_sessions``)."""
        with self._lock:
            st = self._sessions.get(session_id)
            if st is None:
                st = _Session(LiveFrameAnalyzer(self.engine(), self.options))
                self._sessions[session_id] = st
                while len(self._sessions) > self.max_sessions:
                    self._sessions.popitem(last=False)
            self._sessions.move_to_end(session_id)
            return st

    def sessions(self) -> list[str]:
        with self._lock:
            return list(self._sessions)

    def handle(self, op: str, session_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        try:
            if op == "frame":
                return self._frame(session_id, payload)
            if op == "card_face":
                return self._card_face(session_id, payload)
            if op == "warm":  # load the models before the first session needs them
                engine = self.engine()
                load = getattr(engine, "load", None)
                if callable(load):
                    load()
                return {"warm": True}
            if op == "ping":
                return {"pong": True, "sessions": len(self._sessions)}
            return _error("invalid", f"unknown op {op!r}")
        except InvalidInputError as exc:
            return _error("invalid", exc.message)
        except EngineUnavailableError as exc:
            return _error("unavailable", exc.message)
        except DualrecError as exc:
            return _error("internal", exc.message)

    # ---- what was persisted

    def _sync(self, st: _Session, payload: dict[str, Any]) -> dict[str, Any] | None:
        """Take the persisted challenge when it is not the one held; rebuild the customer's
        descriptor from the liveness proof's frame when the persisted challenge passed."""
        snap = payload.get("challenge")
        version = (str(snap["cid"]), int(snap["rev"])) if isinstance(snap, dict) else None
        if version != st.version:
            st.challenge, st.best, st.witnesses = None, None, []
            if snap is not None and snap.get("state") == "pending":
                try:
                    st.challenge = LivenessChallenge.restore(snap)
                except (KeyError, TypeError, ValueError):
                    logger.warning("a liveness snapshot could not be restored; the page starts a new one")
            st.version = version
        if snap is not None and snap.get("state") == "passed" and st.face_cid != snap["cid"]:
            ref = payload.get("reference")
            if ref is None:
                return {"need_reference": True} if payload.get("reference_key") else None
            try:
                st.face = self._embed_one(decode_frame(ref, CARD_LIMITS)) if ref else None
            except InvalidInputError:
                st.face = None
            if st.face is None:  # the proof's frame is gone or unreadable: no identity until a new check
                logger.warning("the liveness proof's frame gave no face descriptor")
            st.face_cid = str(snap["cid"])
            st.analyzer.set_reference(st.face)
        return None

    # ---- frames

    def _frame(self, session_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        st = self.session(session_id)
        with st.lock:
            need = self._sync(st, payload)
            if need is not None:
                return need
            image = decode_frame(payload["data"])
            t = float(payload["t"])
            obs = st.analyzer.analyze(image, t)
            raised = [e for e in obs.events if e.kind in ("raised", "repeated")]
            out: dict[str, Any] = {
                "observation": _observation(obs),
                "prompts": [{"code": str(e.code), "zh": e.prompt_zh, "en": e.prompt_en} for e in raised],
                "raised": [(str(e.code), e.prompt_zh) for e in raised if e.kind == "raised"],
            }
            if st.challenge is not None and st.challenge.state == "pending":
                self._liveness_step(st, obs, image, out)
            return out

    def _liveness_step(self, st: _Session, obs: FrameObservation, image: Image, out: dict[str, Any]) -> None:
        challenge = st.challenge
        assert challenge is not None and st.version is not None
        if obs.pose is not None and obs.face_count == 1 and obs.box is not None:
            frontal = -(abs(obs.pose.yaw) + abs(obs.pose.pitch))
            if st.best is None or frontal > st.best[0]:
                st.best = (frontal, image)
            event = challenge.feed(obs.pose)
        else:
            event = challenge.no_face(obs.t)
        info = challenge_dict(challenge)
        if event is not None:
            info["event"] = event.to_dict()
            if event.kind in ("action_passed", "passed") and obs.face_count == 1:
                st.witnesses = [*st.witnesses, image][-MAX_WITNESSES:]
            cid, rev = st.version
            st.version = (cid, rev + 1)
            out["snapshot"] = {**challenge.snapshot(), "cid": cid, "rev": rev + 1}
        out["liveness"] = info
        if challenge.state in ("passed", "failed"):
            face = None
            problems: list[str] = []
            if challenge.state == "passed" and st.best is not None:
                face = self._embed_one(st.best[1])
                if face is not None and self._another_person(face, st.witnesses):
                    face = None
                    problems.append(
                        "活体动作与正脸画面不是同一人 / the actions were done by another person than the one "
                        "in the frontal picture"
                    )
                if face is not None:
                    st.face, st.face_cid = face, st.version[0]
                    st.analyzer.set_reference(face)
            st.witnesses = []
            out["proof"] = {
                "passed": face is not None,
                **({"problems": problems} if problems else {}),
                **challenge.to_dict(),
                "challenge_id": st.version[0],
                "best_jpeg": None if st.best is None else jpeg(st.best[1]),
            }

    def _another_person(self, face: npt.NDArray[np.float64], witnesses: list[Image]) -> bool:
        """Whether a frame taken as an action passed shows someone else than ``face`` (frames
        without exactly one face are not evidence either way)."""
        for image in witnesses:
            other = self._embed_one(image)
            if other is not None and float(np.linalg.norm(other - face)) > SAME_PERSON_MAX_DISTANCE:
                return True
        return False

    def _embed_one(self, image: Image) -> npt.NDArray[np.float64] | None:
        engine = self.engine()
        faces = engine.detect(image)
        if len(faces) != 1:
            return None
        return np.asarray(engine.embed(image, faces[0]), dtype=np.float64)

    # ---- the ID card's photo

    def _card_face(self, session_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        st = self.session(session_id)
        with st.lock:
            need = self._sync(st, payload)
            if need is not None:
                return need
            if st.face is None:
                return {"distance": None, "problem": "请先完成活体检测 / do the liveness check first"}
            image = decode_frame(payload["data"], CARD_LIMITS)
            engine = self.engine()
            faces = engine.detect(image)
            if not faces and max(image.shape[:2]) < 1600:  # the card's portrait is small in a far shot
                image = _upscaled(image, 2)
                faces = engine.detect(image)
            if not faces:
                return {"distance": None, "problem": "证件上未检测到人像 / no face found on the card"}
            card = np.asarray(engine.embed(image, faces[0]), dtype=np.float64)
            return {"distance": float(np.linalg.norm(card - st.face)), "problem": ""}


def challenge_dict(c: LivenessChallenge) -> dict[str, Any]:
    current = c.current_action
    return {
        **c.to_dict(),
        "prompt_zh": current.prompt_zh if current is not None else "",
        "prompt_en": current.prompt_en if current is not None else "",
    }


def _observation(obs: FrameObservation) -> dict[str, Any]:
    d = obs.to_dict()
    return {
        "t": d["t"],
        "face_count": d["face_count"],
        "box": d["box"],
        "width": d["width"],
        "height": d["height"],
        "alerts": d["alerts"],
        "covered": d["covered"],
        "dark": d["dark"],
        "identity_distance": d["identity_distance"],
    }


def jpeg(image: Image) -> bytes:
    import io

    from PIL import Image as PILImage

    buf = io.BytesIO()
    PILImage.fromarray(np.asarray(image, dtype=np.uint8)).save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def _upscaled(image: Image, factor: int) -> Image:
    from PIL import Image as PILImage

    pil = PILImage.fromarray(np.asarray(image, dtype=np.uint8))
    big = pil.resize((pil.width * factor, pil.height * factor), PILImage.Resampling.BICUBIC)
    return np.asarray(big, dtype=np.uint8)


# ---- the worker process ------------------------------------------------------------------------


def worker_main(conn: Any, faces: FaceFactory, options: LiveOptions | None, max_sessions: int) -> None:
    """An analysis worker process: answers ``(job_id, op, session_id, payload)`` requests on
    ``conn`` one at a time with ``(job_id, reply)`` until the pipe closes or ``None`` arrives."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C on serve: the supervisor stops us
    core = AnalysisCore(faces, options, max_sessions=max_sessions)
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        job_id, op, session_id, payload = msg
        started = time.perf_counter()
        try:
            reply = core.handle(op, session_id, payload)
        except Exception as exc:  # an engine bug must not end the worker: the frame fails, the rest goes on
            logger.exception("live analysis failed")
            reply = _error("internal", f"分析失败 / analysis failed: {type(exc).__name__}")
        reply["worker_ms"] = round((time.perf_counter() - started) * 1000, 1)
        reply["worker_pid"] = os.getpid()
        try:
            conn.send((job_id, reply))
        except (EOFError, OSError):
            return
