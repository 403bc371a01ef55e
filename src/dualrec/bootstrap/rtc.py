"""Wiring of remote interviews (docs/remote-interview.md): Janus' options from Settings, the room
service, the supervisor that runs Janus beside ``dualrec serve`` (or alone in ``dualrec rtc``), and
the ``rtc.compose`` job."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlsplit

from dualrec.core.rtc_queue import parse_skill_map
from dualrec.db.uow import UnitOfWorkFactory
from dualrec.errors import ConfigurationError
from dualrec.jobs.ports import JobQueue
from dualrec.services.rtc.compose import CallComposer
from dualrec.services.rtc.desk_share import DeskShare
from dualrec.services.rtc.janus_api import JanusApi
from dualrec.services.rtc.janus_config import JanusSecrets, RtcOptions, load_or_create_secrets
from dualrec.services.rtc.nodes import MediaNode, NodePool, parse_nodes
from dualrec.services.rtc.queue import QueueOptions
from dualrec.services.rtc.rooms import RoomOptions, RtcService
from dualrec.services.rtc.supervisor import JanusSupervisor
from dualrec.services.tasks.service import TaskService
from dualrec.settings import Settings
from dualrec.storage.ports import BlobStore

__all__ = [
    "JANUS_PROXY_PATH",
    "build_rtc",
    "build_supervisor",
    "call_composer",
    "janus_api",
    "media_nodes",
    "node_pool",
    "rtc_options",
]

JANUS_PROXY_PATH = "/api/v1/rtc/janus"


def rtc_options(settings: Settings) -> RtcOptions:
    public = urlsplit(settings.public_url)
    return RtcOptions(
        data_dir=settings.data_dir,
        janus_binary=settings.rtc_janus_binary,
        janus_lib_dir=settings.rtc_janus_lib_dir,
        bind=settings.rtc_bind,
        http_port=settings.rtc_http_port,
        admin_port=settings.rtc_admin_port,
        rtp_ports=settings.rtc_rtp_ports,
        ice_enforce_list=settings.rtc_ice_enforce_list,
        nat_1_1=settings.rtc_nat_1_1,
        stun_server=settings.rtc_stun_server,
        # a browser reaching Janus directly (DUALREC_RTC_PUBLIC_JANUS_URL) comes from the app's pages
        public_origin=f"{public.scheme}://{public.netloc}" if settings.rtc_public_janus_url else "",
        log_level=settings.rtc_log_level,
        token_ttl_seconds=settings.rtc_token_ttl_minutes * 60,
    )


def _secrets(settings: Settings) -> JanusSecrets:
    return load_or_create_secrets(rtc_options(settings).paths.secrets_file)


def media_nodes(settings: Settings) -> tuple[MediaNode, ...]:
    """DUALREC_RTC_NODES, or the one Janus of DUALREC_RTC_BIND/_HTTP_PORT (node ``local``)."""
    return parse_nodes(settings.rtc_nodes, rtc_options(settings).janus_url)


def node_pool(settings: Settings) -> NodePool:
    return NodePool(media_nodes(settings), lambda: _secrets(settings).api_secret)


def janus_api(settings: Settings, node: str | None = None) -> JanusApi:
    """dualrec's own calls to a media node (none named: the first one)."""
    found = node_pool(settings).get(node)
    url = found.url if found is not None else media_nodes(settings)[0].url
    return JanusApi(url, _secrets(settings).api_secret)


def build_rtc(
    settings: Settings,
    uows: UnitOfWorkFactory,
    tasks: TaskService,
    queue: Callable[[], JobQueue],
    blobs: BlobStore | None = None,
) -> RtcService | None:
    if not settings.rtc_enabled:
        return None
    opts = rtc_options(settings)
    turn = settings.rtc_turn_secret.get_secret_value() if settings.rtc_turn_secret else ""
    nodes = node_pool(settings)
    if settings.rtc_public_janus_url and len(nodes.nodes) > 1:
        raise ConfigurationError(
            "DUALREC_RTC_PUBLIC_JANUS_URL names one Janus: with several DUALREC_RTC_NODES, use the proxy"
        )
    if settings.rtc_ice_transport_policy == "relay" and not (turn and settings.rtc_turn_urls):
        raise ConfigurationError(
            "DUALREC_RTC_ICE_TRANSPORT_POLICY=relay needs DUALREC_RTC_TURN_URLS and DUALREC_RTC_TURN_SECRET"
        )
    service = RtcService(
        uows,
        tasks,
        nodes,
        functools.partial(_secrets, settings),
        queue,
        RoomOptions(
            recordings=opts.paths.recordings,
            janus_path=settings.rtc_public_janus_url or JANUS_PROXY_PATH,
            token_ttl_seconds=opts.token_ttl_seconds,
            stun_urls=tuple(settings.rtc_stun_urls),
            turn_urls=tuple(settings.rtc_turn_urls),
            turn_secret=turn,
            ice_transport_policy=settings.rtc_ice_transport_policy,
        ),
        queue_options(settings),
    )
    if blobs is not None:  # the shared desk: document pages, highlights, the customer's signature
        service.desk = DeskShare(uows, tasks, blobs)
    return service


def queue_options(settings: Settings) -> QueueOptions:
    try:
        skill_map = parse_skill_map(settings.rtc_queue_skill_map)
    except ValueError as exc:
        raise ConfigurationError(f"DUALREC_RTC_QUEUE_SKILL_MAP: {exc}") from exc
    return QueueOptions(
        timeout=timedelta(seconds=settings.rtc_queue_timeout_seconds),
        abandon_after=timedelta(seconds=settings.rtc_queue_abandon_seconds),
        default_handling=float(settings.rtc_queue_default_handling_seconds),
        skill_map=skill_map,
    )


def build_supervisor(settings: Settings) -> JanusSupervisor:
    return JanusSupervisor(rtc_options(settings))


def call_composer(
    settings: Settings,
    uows: UnitOfWorkFactory,
    blobs: BlobStore,
    queue: Callable[[], JobQueue],
    tasks: TaskService,
) -> CallComposer:
    opts = rtc_options(settings)
    return CallComposer(
        uows,
        blobs,
        queue,
        tasks,
        functools.partial(_secrets, settings),
        opts.paths.recordings,
        settings.data_dir / "scratch",
    )
