"""What the server sees during a self-service session: the frames the page streams (≥ 2 per
second) are analysed for the compliance monitor and the liveness challenge, and the ID card photos
are read and compared with the task and with the customer's face.

The analysis itself runs in an ``AnalysisPool`` (``live_pool.py``: worker processes under
``dualrec serve``, or in the calling thread); this class moves frames there and writes what comes
back: alerts as events, the liveness challenge's snapshot (``identity["liveness_challenge"]``,
after every decided action) and the liveness proof. Every request carries the persisted snapshot
and the liveness proof's frame key, so a restarted worker or another ``serve`` process continues
the session: the passed actions, the retries used and the proof stay; the action being asked when
the state was lost is asked again from its start (docs/live.md, "Worker pool").
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from dualrec.core.flow import FlowNode
from dualrec.core.idcard import normalize_id_number, parse_id_card
from dualrec.core.live_session import EventKind, LiveSession, SessionStatus
from dualrec.core.liveness import Action, LivenessChallenge
from dualrec.core.node_params import face_threshold
from dualrec.core.tasks import mask_id_number, mask_name
from dualrec.errors import ConflictError, DualrecError, EngineUnavailableError, InvalidInputError
from dualrec.i18n import msg
from dualrec.media.ports import FaceAnalyzer, TextRecognizer
from dualrec.pipeline.live import LiveOptions, decode_frame
from dualrec.services.sessions.live_pool import AnalysisPool, InlinePool
from dualrec.services.sessions.live_worker import CARD_LIMITS, challenge_dict, jpeg
from dualrec.services.sessions.service import LiveSessionService, SessionView
from dualrec.storage.ports import BlobStore

__all__ = ["CARD_LIMITS", "CHALLENGE_KEY", "CardResult", "LiveMonitor", "MonitorOptions"]

CHALLENGE_KEY = "liveness_challenge"

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MonitorOptions:
    face_match_max_distance: float = 0.6  # customer's face ↔ ID card photo (dlib descriptor distance)
    liveness_actions: int | None = None  # 2 or 3; None: drawn
    liveness_retries: int = 2
    max_sessions: int = 200  # states kept per analysis process (least recently used dropped first)
    live: LiveOptions = field(default_factory=LiveOptions)


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
        *,
        pool: AnalysisPool | None = None,
    ) -> None:
        self._sessions = sessions
        self._blobs = blobs
        self._ocr = ocr
        self.options = options or MonitorOptions()
        self.pool: AnalysisPool = pool or InlinePool(
            faces, self.options.live, max_sessions=self.options.max_sessions
        )

    # ---- the analysis pool

    def _request(self, s: LiveSession, op: str, payload: dict[str, Any]) -> dict[str, Any]:
        """One request to the session's analyser, with what was persisted about the session; the
        liveness proof's frame is sent when the analyser must rebuild the customer's descriptor."""
        proof = s.identity.get("liveness") or {}
        payload = {
            **payload,
            "challenge": s.identity.get(CHALLENGE_KEY),
            "reference_key": proof.get("blob_key") if proof.get("passed") else None,
        }
        reply = self.pool.run(s.id, op, payload)
        if reply.get("need_reference"):
            try:
                with self._blobs.open(str(payload["reference_key"])) as fh:
                    payload["reference"] = fh.read(CARD_LIMITS.max_bytes + 1)
            except (OSError, DualrecError):  # gone: the analyser goes on without the customer's face
                logger.warning("the liveness proof's frame of session %s could not be read", s.id)
                payload["reference"] = b""
            reply = self.pool.run(s.id, op, payload)
        err = reply.get("error")
        if isinstance(err, dict):
            message = str(err.get("message", ""))
            if err.get("kind") == "invalid":
                raise InvalidInputError(message)
            if err.get("kind") == "unavailable":
                raise EngineUnavailableError(message)
            raise DualrecError(message)
        return reply

    # ---- liveness

    def start_liveness(self, token: str) -> dict[str, Any]:
        """Draw a new challenge (2–3 actions) for the identity node; the page shows its prompts."""
        _task, flow, s = self._sessions.context(token)
        node = flow.node(s.flow_state.node_id or "")
        if s.status != SessionStatus.RUNNING or node is None or node.type != "identity":
            raise ConflictError(msg("sessions.identity_step"))
        seed = f"{s.id}:{time.time_ns()}"
        wanted = node.params.get("liveness_actions") or self.options.liveness_actions
        if isinstance(wanted, list):  # the flow names the actions (e.g. no blink): asked in random order
            try:
                actions = [Action(str(a)) for a in wanted]
            except ValueError as exc:
                raise InvalidInputError(msg("sessions.invalid_liveness_actions", wanted=wanted)) from exc
            random.Random(seed).shuffle(actions)
            challenge = LivenessChallenge(tuple(actions), retries=self.options.liveness_retries)
        else:
            challenge = LivenessChallenge.from_seed(
                seed, int(wanted) if wanted else None, retries=self.options.liveness_retries
            )
        # the analysers take it with the next frame (a new challenge id)
        snap = {**challenge.snapshot(), "cid": uuid.uuid4().hex, "rev": 0}
        self._sessions.save_live_state(token, CHALLENGE_KEY, snap)
        return challenge_dict(challenge)

    # ---- frames

    def frame(self, token: str, data: bytes, t: float) -> dict[str, Any]:
        """Analyse one frame; returns what the page should show (alerts, liveness progress), or
        ``{"type": "skipped"}`` when the analysis is behind and dropped the frame."""
        _task, _flow, s = self._sessions.context(token)
        if not s.open:
            raise ConflictError(msg("sessions.session", status=s.status))
        reply = self._request(s, "frame", {"data": data, "t": t})
        if "skipped" in reply:
            return {"type": "skipped", "t": t, "reason": reply["skipped"]}
        for code, prompt in reply.get("raised", []):
            self._sessions.alert(token, str(code), t, prompt=prompt)
        out: dict[str, Any] = {"type": "observation", **reply["observation"], "prompts": reply["prompts"]}
        if "liveness" in reply:
            out["liveness"] = reply["liveness"]
        proof = reply.get("proof")
        if proof is not None:
            best = proof.pop("best_jpeg", None)
            if best:
                proof["blob_key"] = self._blobs.put(best, content_type="image/jpeg").key
            self._sessions.record_proof(token, "liveness", proof, kind=EventKind.LIVENESS, t=t)
        snap = reply.get("snapshot")
        if snap is not None:
            self._sessions.save_live_state(token, CHALLENGE_KEY, snap)
        return out

    # ---- ID card

    def id_card(
        self, token: str, side: Literal["front", "back"], data: bytes, *, t: float = 0.0
    ) -> CardResult:
        image = decode_frame(data, CARD_LIMITS)
        task, flow, s = self._sessions.context(token)
        node = flow.node(s.flow_state.node_id or "")
        if s.status != SessionStatus.RUNNING or node is None or node.type != "identity":
            raise ConflictError(msg("sessions.identity_step"))
        ocr = self._ocr()
        if ocr is None:
            raise EngineUnavailableError(msg("sessions.ocr_engine_unavailable_server"))
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
                    "blob_key": self._blobs.put(jpeg(image), content_type="image/jpeg").key,
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
        distance = self._card_face_distance(token, s, data, problems, limit)
        passed = not problems
        key = self._blobs.put(jpeg(image), content_type="image/jpeg").key
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
        self, token: str, s: LiveSession, data: bytes, problems: list[str], limit: float
    ) -> float | None:
        reply = self._request(s, "card_face", {"data": data})
        if reply.get("problem"):
            problems.append(str(reply["problem"]))
        distance = reply.get("distance")
        if distance is None:
            return None
        distance = float(distance)
        if distance > limit:
            problems.append(
                f"人证比对不一致（距离 {distance:.2f} > {limit:g}）/ the face does not match the ID photo"
            )
        return distance
