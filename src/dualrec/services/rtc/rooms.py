"""Rooms and access: one Janus VideoRoom per task attempt, created only by dualrec, joined only with
the credentials dualrec hands out after authenticating the participant.

- The agent: a console user holding ``interview:conduct`` whose branch scope contains the task.
- The customer: the task attempt's own entry link token (the /h5 link), nothing else.
Each gets a core token and a room token that name this one room and expire (``tokens.py``), and a
feed id of their own: the recordings' files are named after it, which is how the recording job
tells the customer's files from the agent's.

Hanging up (the agent) destroys the room, which closes Janus' recorders, moves the task to QC and
queues ``rtc.compose`` (``compose.py``): the per-party files and the composite become the attempt's
recording like any self-service recording.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from dualrec.core.audit import AuditAction
from dualrec.core.tasks import Task, TaskStatus
from dualrec.db.uow import UnitOfWorkFactory
from dualrec.errors import ConflictError, PermissionDeniedError
from dualrec.i18n import msg
from dualrec.jobs.ports import JobQueue
from dualrec.services.common import audit
from dualrec.services.common.context import Actor
from dualrec.services.common.job_kinds import RTC_COMPOSE_JOB
from dualrec.services.rtc import tokens
from dualrec.services.rtc.desk_share import DeskShare
from dualrec.services.rtc.janus_api import JanusError, JanusUnavailableError, VideoRoomHandle
from dualrec.services.rtc.janus_config import JanusSecrets
from dualrec.services.rtc.nodes import NodePool
from dualrec.services.rtc.queue import InterviewQueue, QueueOptions
from dualrec.services.tasks.service import TaskService

__all__ = ["JoinGrant", "RoomOptions", "RtcService", "call_dir"]

logger = logging.getLogger(__name__)

Role = Literal["agent", "customer", "screen"]
ROOM_EXISTS = 427  # JANUS_VIDEOROOM_ERROR_ROOM_EXISTS
NO_SUCH_ROOM = 426
NO_SUCH_FEED = 428  # JANUS_VIDEOROOM_ERROR_NO_SUCH_FEED
JOINABLE = (TaskStatus.CREATED, TaskStatus.IN_PROGRESS, TaskStatus.HANDOVER)
# VideoRoom requests a participant's page may send through the proxy (no create/edit/destroy, no
# listings, no kick/forwarding/recording control: those need dualrec's own secrets anyway)
PARTICIPANT_REQUESTS = frozenset(
    {
        "join",
        "joinandconfigure",
        "configure",
        "publish",
        "unpublish",
        "start",
        "pause",
        "switch",
        "leave",
        "update",
        "subscribe",
        "unsubscribe",
    }
)


@dataclass(frozen=True)
class RoomOptions:
    recordings: Path  # <data dir>/rtc/recordings
    janus_path: str = "/api/v1/rtc/janus"  # what browsers use: the app's proxy, or a public Janus URL
    token_ttl_seconds: int = 4 * 3600
    bitrate: int = 1_024_000  # per publisher, bits/s
    stun_urls: tuple[str, ...] = ()
    turn_urls: tuple[str, ...] = ()
    turn_secret: str = ""  # coturn use-auth-secret
    turn_ttl_seconds: int = 12 * 3600
    ice_transport_policy: Literal["all", "relay"] = "all"  # "relay": browsers use TURN only


@dataclass(frozen=True)
class JoinGrant:
    role: Role
    task_id: str
    attempt: int
    room: int
    feed_id: int
    peer_feed_id: int  # the other party's feed (the page subscribes to it)
    display: str
    core_token: str
    room_token: str
    expires_at: int
    janus_path: str
    ice_servers: list[dict[str, Any]] = field(default_factory=list)
    business_no: str = ""
    # the agent's screen share: a second feed in the same room; only the agent's grant carries a
    # room token bound to it (the customer's page only subscribes to it)
    screen_feed_id: int = 0
    screen_room_token: str = ""
    node: str = ""  # the media node (Janus) the room is on: the tokens name it
    ice_transport_policy: str = "all"


def call_dir(recordings: Path, task_id: str, attempt: int) -> Path:
    """Where Janus writes the .mjr files of one task attempt's call."""
    safe = "".join(c for c in task_id if c.isalnum() or c in "-_")[:64] or "task"
    return recordings / safe / f"attempt-{int(attempt)}"


class RtcService:
    def __init__(
        self,
        uows: UnitOfWorkFactory,
        tasks: TaskService,
        nodes: NodePool,
        secrets: Callable[[], JanusSecrets],
        queue: Callable[[], JobQueue],
        options: RoomOptions,
        queue_options: QueueOptions | None = None,
    ) -> None:
        self.queue = InterviewQueue(uows, tasks, queue_options or QueueOptions())
        self._uows = uows
        self._tasks = tasks
        self.nodes = nodes
        self._secrets = secrets
        self._queue = queue
        self.options = options
        self.desk: DeskShare | None = None  # set by bootstrap (needs the blob store)

    # ---- ids -----------------------------------------------------------------------------------

    def secrets(self) -> JanusSecrets:
        return self._secrets()

    def room_of(self, task_id: str, attempt: int) -> int:
        return tokens.room_id(self._secrets().room_key, task_id, attempt)

    def feed_of(self, task_id: str, attempt: int, role: Role) -> int:
        return tokens.feed_id(self._secrets().room_key, task_id, attempt, role)

    def node_of(self, task_id: str, attempt: int) -> str:
        """The media node the attempt's room was placed on (none stored: the first node)."""
        with self._uows.read() as uow:
            return uow.rtc.room_node(task_id, attempt) or self.nodes.default.name

    # ---- use cases -----------------------------------------------------------------------------

    def join_agent(self, *, actor: Actor, task_id: str) -> JoinGrant:
        task = self._tasks.get(actor=actor, task_id=task_id)  # 404 outside the actor's branch scope
        with self._uows.read() as uow:
            entry = uow.rtc.entry(task.id, task.attempt_no)
        self._check_joinable(task, queued=entry is not None)
        grant = self._grant(task, "agent", self._open_room(task, "agent"))
        with self._uows() as uow:
            self.queue.on_agent_join(uow, actor, task)  # another agent's customer: 409
            self._tasks.session_transition(uow, task.id, task.attempt_no, TaskStatus.IN_PROGRESS)
            audit.record(
                uow,
                actor=actor,
                action=AuditAction.RTC_JOINED,
                target_type="task",
                target_id=task.id,
                details={"attempt": task.attempt_no, "role": "agent", "room": grant.room, "node": grant.node},
                branch_id=task.branch_id,
            )
            uow.commit()
        return grant

    def join_customer(self, entry_token: str) -> JoinGrant:
        task, _flow = self._tasks.resolve_entry(entry_token)  # forged, expired or superseded: 401
        with self._uows.read() as uow:
            entry = uow.rtc.entry(task.id, task.attempt_no)
        self._check_joinable(task, queued=entry is not None)
        if entry is None or entry.status != "accepted":
            raise ConflictError(
                msg("rtc.please_wait_interviewer_taken_your"),
                details={"queue_status": entry.status if entry else "none"},
            )
        return self._grant(task, "customer", self._open_room(task, "customer"))

    def customer_mode(self, entry_token: str) -> tuple[Task, bool]:
        """The task of a link and whether its customer talks to a human (not the AI flow)."""
        task, _flow = self._tasks.resolve_entry(entry_token, allow_finished=True)
        return task, task.mode == "human" or task.status == TaskStatus.HANDOVER

    def hang_up(self, *, actor: Actor, task_id: str) -> str:
        """Ends the call of the task's current attempt: the room goes, the recording job is queued."""
        task = self._tasks.get(actor=actor, task_id=task_id)
        if task.status not in JOINABLE:
            raise ConflictError(
                msg("rtc.call_end_task", status=task.status),
                details={"status": task.status},
            )
        self._destroy_room(task, self.node_of(task.id, task.attempt_no))
        job_payload = {"task_id": task.id, "attempt": task.attempt_no}
        with self._uows() as uow:
            uow.rtc.end_room(task.id, task.attempt_no, datetime.now(UTC))
            self.queue.on_hang_up(uow, task)
            self._tasks.session_transition(uow, task.id, task.attempt_no, TaskStatus.QC)
            audit.record(
                uow,
                actor=actor,
                action=AuditAction.RTC_ENDED,
                target_type="task",
                target_id=task.id,
                details={"attempt": task.attempt_no},
                branch_id=task.branch_id,
            )
            uow.commit()
        return self._queue().enqueue(RTC_COMPOSE_JOB, job_payload, max_attempts=2)

    def check_participant_request(self, body: object, node: str = "") -> None:
        """What the proxy lets through to the VideoRoom plugin (every ``message`` of a browser):
        participant requests only; a join must carry a genuine room token (signed by dualrec,
        unexpired), for that token's room, on the media node ``node`` the request goes to (the
        one its core token names), and a publisher only as the token's own feed."""
        if not isinstance(body, dict) or body.get("request") not in PARTICIPANT_REQUESTS:
            request = str(body.get("request"))[:30] if isinstance(body, dict) else ""
            raise PermissionDeniedError(
                msg("rtc.videoroom_request_allowed"),
                details={"videoroom_request": request},
            )
        if body["request"] not in ("join", "joinandconfigure"):
            return
        found = tokens.verify_room_token(
            self._secrets().token_secret, body.get("token"), now=int(time.time())
        )
        if found is None:
            raise PermissionDeniedError(msg("rtc.invalid_expired_room_token"))
        room, feed = found
        if body.get("room") != room:
            raise PermissionDeniedError(msg("rtc.room_token_another_room"))
        room_node = tokens.room_token_node(
            self._secrets().token_secret, body.get("token"), now=int(time.time())
        )
        if (room_node or self.nodes.default.name) != (node or self.nodes.default.name):
            raise PermissionDeniedError(msg("rtc.room_token_another_node"))
        ptype = body.get("ptype")
        if ptype == "publisher":
            if feed is None or body.get("id") != feed:
                raise PermissionDeniedError(msg("rtc.you_may_publish_only_feed"))
        elif ptype != "subscriber":
            raise PermissionDeniedError(msg("rtc.participant_type_allowed"))

    # ---- helpers -------------------------------------------------------------------------------

    @staticmethod
    def _check_joinable(task: Task, *, queued: bool) -> None:
        """``queued``: the attempt has an entry in the interviewer queue (a human task, or an AI
        session handed over: once the agent joined, that task is in progress, no longer handover)."""
        if task.mode != "human" and task.status != TaskStatus.HANDOVER and not queued:
            raise ConflictError(
                msg("rtc.task_self_service_human_call"),
                details={"mode": task.mode},
            )
        if task.status not in JOINABLE:
            raise ConflictError(
                msg("rtc.task_call_join", status=task.status),
                details={"status": task.status},
            )

    def _grant(self, task: Task, role: Role, node: str) -> JoinGrant:
        s = self._secrets()
        expires = int(time.time()) + self.options.token_ttl_seconds
        room = self.room_of(task.id, task.attempt_no)
        other: Role = "customer" if role == "agent" else "agent"
        return JoinGrant(
            role=role,
            task_id=task.id,
            attempt=task.attempt_no,
            room=room,
            feed_id=self.feed_of(task.id, task.attempt_no, role),
            peer_feed_id=self.feed_of(task.id, task.attempt_no, other),
            display=role,  # no personal data in Janus (room listings show display names)
            core_token=tokens.core_token(s.token_secret, expires, node),
            # bound to this participant's feed: the proxy refuses a join as any other feed
            room_token=tokens.room_token(
                s.token_secret, expires, room, self.feed_of(task.id, task.attempt_no, role), node
            ),
            expires_at=expires,
            janus_path=self.options.janus_path,
            ice_servers=self._ice_servers(f"{role}-{task.id[:8]}"),
            business_no=task.business_no if role == "agent" else "",
            screen_feed_id=self.feed_of(task.id, task.attempt_no, "screen"),
            screen_room_token=tokens.room_token(
                s.token_secret, expires, room, self.feed_of(task.id, task.attempt_no, "screen"), node
            )
            if role == "agent"
            else "",
            node=node,
            ice_transport_policy=self.options.ice_transport_policy,
        )

    def _ice_servers(self, name: str) -> list[dict[str, Any]]:
        o = self.options
        servers: list[dict[str, Any]] = [{"urls": list(o.stun_urls)}] if o.stun_urls else []
        if o.turn_urls and o.turn_secret:
            user, password = tokens.turn_credentials(
                o.turn_secret, int(time.time()) + o.turn_ttl_seconds, name
            )
            servers.append({"urls": list(o.turn_urls), "username": user, "credential": password})
        return servers

    def _open_room(self, task: Task, role: Role) -> str:
        """The media node of the attempt's call, its room created there. The first join places it:
        the healthy node with the fewest open rooms; later joins (a rejoin, the other party, after
        a Janus restart) find the stored node — a call stays on its node. A node removed from
        DUALREC_RTC_NODES gets no calls: its attempts are placed again. ``role`` joins: what is
        left of its earlier connection in the room is removed (see ``_ensure_room``)."""
        with self._uows.read() as uow:
            placed = uow.rtc.room_node(task.id, task.attempt_no)
        if placed is not None and self.nodes.get(placed) is not None:
            self._ensure_room(task, placed, rejoining=role)
            return placed
        now = datetime.now(UTC)
        with self._uows.read() as uow:
            open_rooms = uow.rtc.open_rooms_by_node(now - timedelta(seconds=self.options.token_ttl_seconds))
        node = self.nodes.choose(open_rooms)
        try:
            self._ensure_room(task, node)  # a node that fails now is not stored
        except JanusUnavailableError:
            self.nodes.forget_health(node)
            raise
        with self._uows() as uow:
            if placed is None:
                won = uow.rtc.place_room(task.id, task.attempt_no, node, now)
            else:
                uow.rtc.move_room(task.id, task.attempt_no, node, now)
                won = node
            uow.commit()
        if won != node:  # the other party's join placed it elsewhere at the same moment
            logger.info("rtc: %s/%s placed on %s by a concurrent join", task.id, task.attempt_no, won)
            self._ensure_room(task, won)
        return won

    def _ensure_room(self, task: Task, node: str, rejoining: Role | None = None) -> None:
        """Creates the attempt's room in Janus unless it exists (Janus keeps rooms in memory only:
        after a restart the next join creates it again, with the same id and folder).

        In a room that exists, the ``rejoining`` party's feed is kicked first: a phone that lost
        its network (or a closed tab whose goodbye never arrived) leaves its old publisher in the
        room until Janus' session timeout, and Janus refuses a second publisher with the same id.
        A party is in a call once, its newest connection wins."""
        s = self._secrets()
        room = self.room_of(task.id, task.attempt_no)
        folder = call_dir(self.options.recordings, task.id, task.attempt_no)
        folder.mkdir(parents=True, exist_ok=True)
        vr = self.nodes.api(node).shared_videoroom()
        if vr.request({"request": "exists", "room": room}).get("exists"):
            if rejoining is not None:
                self._kick(vr, task, room, rejoining)
            return
        try:
            vr.request(
                {
                    "request": "create",
                    "admin_key": s.room_admin_key,
                    "room": room,
                    "permanent": False,
                    "description": f"dualrec {task.id[:8]}",
                    "secret": tokens.room_secret(s.room_key, task.id, task.attempt_no),
                    "is_private": True,
                    "signed_tokens": True,
                    "publishers": 4,  # customer, agent, later a screen share and a spare
                    "bitrate": self.options.bitrate,
                    "fir_freq": 10,
                    "audiocodec": "opus",
                    "videocodec": "vp8,h264",
                    "record": True,
                    "rec_dir": str(folder),
                    "lock_record": True,
                    "notify_joining": True,
                }
            )
        except JanusError as exc:
            if exc.janus_code != ROOM_EXISTS:  # two joins raced: the other one created it
                raise

    def _kick(self, vr: VideoRoomHandle, task: Task, room: int, role: Role) -> None:
        """Removes ``role``'s feed from the room when it is there (not there: nothing to do)."""
        try:
            vr.request(
                {
                    "request": "kick",
                    "room": room,
                    "secret": tokens.room_secret(self._secrets().room_key, task.id, task.attempt_no),
                    "id": self.feed_of(task.id, task.attempt_no, role),
                }
            )
        except JanusError as exc:
            if exc.janus_code != NO_SUCH_FEED:
                raise
            return
        logger.info("rtc: %s/%s: the %s's earlier connection removed", task.id, task.attempt_no, role)

    def _destroy_room(self, task: Task, node: str) -> None:
        if self.nodes.get(node) is None:  # removed from DUALREC_RTC_NODES: nothing to reach
            logger.warning(
                "rtc: the room of %s/%s is on node %s, no longer configured", task.id, task.attempt_no, node
            )
            return
        s = self._secrets()
        room = self.room_of(task.id, task.attempt_no)
        try:
            self.nodes.api(node).shared_videoroom().request(
                {
                    "request": "destroy",
                    "room": room,
                    "secret": tokens.room_secret(s.room_key, task.id, task.attempt_no),
                }
            )
        except JanusError as exc:
            if exc.janus_code != NO_SUCH_ROOM:  # already gone (e.g. Janus restarted): files stay
                raise
