"""What the server sees during a self-service session: the frames the page streams (≥ 2 per
second) are analysed for the compliance monitor and the liveness challenge, and the ID card photos
are read and compared with the task and with the customer's face.

State that only matters while the customer is connected (the frame analyser, the running
challenge, the customer's face descriptor) is kept in memory per session; what proves something is
written to the session (``LiveSessionService.record_proof``) and its events. A server restart during
the identity step means the customer repeats the liveness challenge.
"""

from __future__ import annotations

import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from dualrec.core.flow import FlowNode
from dualrec.core.idcard import normalize_id_number, parse_id_card
from dualrec.core.live_session import EventKind, SessionStatus
from dualrec.core.liveness import Action, LivenessChallenge
from dualrec.core.node_params import face_threshold
from dualrec.core.tasks import mask_id_number, mask_name
from dualrec.errors import ConflictError, EngineUnavailableError, InvalidInputError
from dualrec.media.ports import FaceAnalyzer, Image, TextRecognizer
from dualrec.pipeline.live import FrameLimits, FrameObservation, LiveFrameAnalyzer, LiveOptions, decode_frame
from dualrec.services.sessions.service import LiveSessionService, SessionView
from dualrec.storage.ports import BlobStore

__all__ = ["CardResult", "LiveMonitor", "MonitorOptions"]

CARD_LIMITS = FrameLimits(max_bytes=6 * 1024 * 1024, max_side=4096)


@dataclass(frozen=True)
class MonitorOptions:
    face_match_max_distance: float = 0.6  # customer's face ↔ ID card photo (dlib descriptor distance)
    liveness_actions: int | None = None  # 2 or 3; None: drawn
    liveness_retries: int = 2
    max_sessions: int = 200  # in-memory states kept (least recently used dropped first)
    live: LiveOptions = field(default_factory=LiveOptions)


@dataclass
class _State:
    analyzer: LiveFrameAnalyzer
    challenge: LivenessChallenge | None = None
    face: npt.NDArray[np.float64] | None = None  # the customer's descriptor, from the liveness frames
    best: tuple[float, Image, Any] | None = None  # (frontal score, frame, face) during the challenge
    lock: threading.Lock = field(default_factory=threading.Lock)
    last_used: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class CardResult:
    side: Literal["front", "back"]
    passed: bool
    problems: tuple[str, ...]
    name_matches: bool | None = None
    number_matches: bool | None = None
    number_valid: bool | None = None
    face_distance: float | None = None
    session: SessionView | None = None


class LiveMonitor:
    def __init__(
        self,
        sessions: LiveSessionService,
        blobs: BlobStore,
        faces: Callable[[], FaceAnalyzer | None],
        ocr: Callable[[], TextRecognizer | None],
        options: MonitorOptions | None = None,
    ) -> None:
        self._sessions = sessions
        self._blobs = blobs
        self._faces = faces
        self._ocr = ocr
        self.options = options or MonitorOptions()
        self._states: OrderedDict[str, _State] = OrderedDict()
        self._lock = threading.Lock()

    # ---- per-session state

    def _face_engine(self) -> FaceAnalyzer:
        engine = self._faces()
        if engine is None:
            raise EngineUnavailableError("人脸引擎不可用 / the face engine is unavailable on this server")
        return engine

    def _state(self, session_id: str) -> _State:
        with self._lock:
            st = self._states.get(session_id)
            if st is None:
                st = _State(LiveFrameAnalyzer(self._face_engine(), self.options.live))
                self._states[session_id] = st
                while len(self._states) > self.options.max_sessions:
                    self._states.popitem(last=False)
            self._states.move_to_end(session_id)
            st.last_used = time.monotonic()
            return st

    def forget(self, session_id: str) -> None:
        with self._lock:
            self._states.pop(session_id, None)

    # ---- liveness

    def start_liveness(self, token: str) -> dict[str, Any]:
        """Draw a new challenge (2–3 actions) for the identity node; the page shows its prompts."""
        _task, flow, s = self._sessions.context(token)
        node = flow.node(s.flow_state.node_id or "")
        if s.status != SessionStatus.RUNNING or node is None or node.type != "identity":
            raise ConflictError("当前不是身份核实环节 / not at the identity step")
        st = self._state(s.id)
        with st.lock:
            seed = f"{s.id}:{time.time_ns()}"
            wanted = node.params.get("liveness_actions") or self.options.liveness_actions
            if isinstance(wanted, list):  # the flow names the actions (e.g. no blink): asked in random order
                try:
                    actions = [Action(str(a)) for a in wanted]
                except ValueError as exc:
                    raise InvalidInputError(
                        f"流程中的活体动作无效 / invalid liveness actions: {wanted}"
                    ) from exc
                random.Random(seed).shuffle(actions)
                st.challenge = LivenessChallenge(tuple(actions), retries=self.options.liveness_retries)
            else:
                st.challenge = LivenessChallenge.from_seed(
                    seed, int(wanted) if wanted else None, retries=self.options.liveness_retries
                )
            st.best = None
            return _challenge_dict(st.challenge)

    # ---- frames

    def frame(self, token: str, data: bytes, t: float) -> dict[str, Any]:
        """Analyse one frame; returns what the page should show (alerts, liveness progress)."""
        image = decode_frame(data)
        _task, _flow, s = self._sessions.context(token)
        if not s.open:
            raise ConflictError(f"会话状态为 {s.status} / the session is {s.status}")
        st = self._state(s.id)
        with st.lock:
            obs = st.analyzer.analyze(image, t)
            out: dict[str, Any] = {"type": "observation", **_observation(obs)}
            raised = [e for e in obs.events if e.kind in ("raised", "repeated")]
            for e in raised:
                if e.kind == "raised":
                    self._sessions.alert(token, str(e.code), t, prompt=e.prompt_zh)
            out["prompts"] = [{"code": str(e.code), "zh": e.prompt_zh, "en": e.prompt_en} for e in raised]
            if st.challenge is not None and st.challenge.state == "pending":
                out["liveness"] = self._liveness_step(token, st, obs, image)
            return out

    def _liveness_step(self, token: str, st: _State, obs: FrameObservation, image: Image) -> dict[str, Any]:
        challenge = st.challenge
        assert challenge is not None
        if obs.pose is not None and obs.face_count == 1 and obs.box is not None:
            frontal = -(abs(obs.pose.yaw) + abs(obs.pose.pitch))
            if st.best is None or frontal > st.best[0]:
                st.best = (frontal, image, obs.box)
            event = challenge.feed(obs.pose)
        else:
            event = challenge.no_face(obs.t)
        info = _challenge_dict(challenge)
        if event is not None:
            info["event"] = event.to_dict()
        if challenge.state == "passed":
            st.face = self._embed_best(st)
            if st.face is not None:
                st.analyzer.set_reference(st.face)
            self._sessions.record_proof(
                token,
                "liveness",
                {"passed": st.face is not None, **challenge.to_dict(), **self._best_frame(st)},
                kind=EventKind.LIVENESS,
                t=obs.t,
            )
        elif challenge.state == "failed":
            self._sessions.record_proof(
                token,
                "liveness",
                {"passed": False, **challenge.to_dict(), **self._best_frame(st)},
                kind=EventKind.LIVENESS,
                t=obs.t,
            )
        return info

    def _best_frame(self, st: _State) -> dict[str, str]:
        """The challenge's most frontal frame, kept as the attempt's evidence (the recording's QC
        compares its faces with it and the litigation report shows it)."""
        if st.best is None:
            return {}
        return {"blob_key": self._blobs.put(_jpeg(st.best[1]), content_type="image/jpeg").key}

    def _embed_best(self, st: _State) -> npt.NDArray[np.float64] | None:
        if st.best is None:
            return None
        _, image, _ = st.best
        engine = self._face_engine()
        faces = engine.detect(image)
        if len(faces) != 1:
            return None
        return np.asarray(engine.embed(image, faces[0]), dtype=np.float64)

    # ---- ID card

    def id_card(
        self, token: str, side: Literal["front", "back"], data: bytes, *, t: float = 0.0
    ) -> CardResult:
        image = decode_frame(data, CARD_LIMITS)
        task, flow, s = self._sessions.context(token)
        node = flow.node(s.flow_state.node_id or "")
        if s.status != SessionStatus.RUNNING or node is None or node.type != "identity":
            raise ConflictError("当前不是身份核实环节 / not at the identity step")
        ocr = self._ocr()
        if ocr is None:
            raise EngineUnavailableError("文字识别引擎不可用 / the OCR engine is unavailable on this server")
        lines = [ln.text for ln in ocr.recognize(image)]
        fields = parse_id_card(lines)
        problems: list[str] = []
        if side == "back":
            ok = fields.side == "back" or bool(fields.authority or fields.valid_period)
            if not ok:
                problems.append("未识别到国徽面（签发机关/有效期限）/ the back side was not recognised")
            view = self._sessions.record_proof(
                token,
                "id_card_back",
                {
                    "passed": ok,
                    "problems": problems,
                    "valid_period": fields.valid_period or "",
                    "blob_key": self._blobs.put(_jpeg(image), content_type="image/jpeg").key,
                },
                kind=EventKind.ID_CARD,
                t=t,
            )
            return CardResult("back", ok, tuple(problems), session=view)
        name_ok = bool(fields.name) and fields.name == task.customer_name.strip()
        number = normalize_id_number(fields.id_number or "")
        number_ok = bool(number) and number == normalize_id_number(task.id_number)
        if not fields.name and not number:
            problems.append("未识别到人像面（姓名/身份证号）/ the front side was not recognised")
        else:
            if not name_ok:
                problems.append("姓名与任务不一致 / the name does not match the task")
            if not number_ok:
                problems.append("身份证号与任务不一致 / the ID number does not match the task")
            if number and not fields.id_number_valid:
                problems.append("身份证号校验位错误 / the ID number's check digit is wrong")
        limit = self.face_limit(node)
        distance = self._card_face_distance(s.id, image, problems, limit)
        passed = not problems
        key = self._blobs.put(_jpeg(image), content_type="image/jpeg").key
        self._sessions.record_proof(
            token,
            "id_card_front",
            {
                "passed": passed,
                "problems": problems,
                "name_matches": name_ok,
                "number_matches": number_ok,
                "number_valid": fields.id_number_valid,
                "name_masked": mask_name(fields.name) if fields.name else "",
                "id_number_masked": mask_id_number(number) if number else "",
                "blob_key": key,
            },
            kind=EventKind.ID_CARD,
            t=t,
        )
        face_ok = distance is not None and distance <= limit
        view = self._sessions.record_proof(
            token,
            "face_match",
            {
                "passed": face_ok,
                "distance": None if distance is None else round(distance, 4),
                "threshold": limit,
            },
            kind=EventKind.IDENTITY,
            t=t,
        )
        return CardResult(
            "front",
            passed and face_ok,
            tuple(problems),
            name_ok,
            number_ok,
            fields.id_number_valid,
            distance,
            view,
        )

    def face_limit(self, node: FlowNode) -> float:
        """The largest face distance customer ↔ ID photo that matches: the identity node's
        ``params.face_threshold``, else ``face_match_max_distance``."""
        own = face_threshold(node)
        return self.options.face_match_max_distance if own is None else own

    def _card_face_distance(
        self, session_id: str, image: Image, problems: list[str], limit: float
    ) -> float | None:
        st = self._state(session_id)
        if st.face is None:
            problems.append("请先完成活体检测 / do the liveness check first")
            return None
        engine = self._face_engine()
        faces = engine.detect(image)
        if not faces and max(image.shape[:2]) < 1600:  # the card's portrait is small in a far shot
            image = _upscaled(image, 2)
            faces = engine.detect(image)
        if not faces:
            problems.append("证件上未检测到人像 / no face found on the card")
            return None
        card = np.asarray(engine.embed(image, faces[0]), dtype=np.float64)
        distance = float(np.linalg.norm(card - st.face))
        if distance > limit:
            problems.append(
                f"人证比对不一致（距离 {distance:.2f} > {limit:g}）/ the face does not match the ID photo"
            )
        return distance


def _challenge_dict(c: LivenessChallenge) -> dict[str, Any]:
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


def _jpeg(image: Image) -> bytes:
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
