"""The media nodes (Janus instances) of remote interviews and where a new call's room goes.

``DUALREC_RTC_NODES`` lists them as ``name=url,…`` (unset: one node, ``local``, the Janus that
``DUALREC_RTC_BIND``/``_HTTP_PORT`` name). Each task attempt's room is placed on one node when it is
created — the healthy node with the fewest open rooms — and stays there (the placement is stored,
``rtc_rooms``); the participants' tokens name that node, and the Janus proxy forwards each request
only to the node its token names (docs/remote-interview.md, "Scaling out").

Health is the node answering ``info``, remembered for a few seconds so that a burst of joins does
not ask every node each time.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from dualrec.errors import ConfigurationError
from dualrec.i18n import msg
from dualrec.services.rtc.janus_api import JanusApi, JanusUnavailableError

__all__ = ["DEFAULT_NODE", "MediaNode", "NodePool", "parse_nodes"]

DEFAULT_NODE = "local"
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")  # goes into Janus tokens: no ',' ':' '='
URL = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+(/[A-Za-z0-9._~/\-]*)?$")
MAX_NODES = 64


@dataclass(frozen=True)
class MediaNode:
    name: str
    url: str  # its Janus API, e.g. http://10.0.0.5:8088/janus


def parse_nodes(text: str, default_url: str) -> tuple[MediaNode, ...]:
    """``name=url,…`` → the nodes, in the given order (the first one also serves tokens that name
    no node: those handed out before the setting existed). Empty: the one local node."""
    if not text.strip():
        return (MediaNode(DEFAULT_NODE, default_url.rstrip("/")),)
    nodes: list[MediaNode] = []
    for item in text.split(","):
        name, sep, url = item.strip().partition("=")
        name, url = name.strip(), url.strip().rstrip("/")
        if not sep or not NAME.match(name):
            raise ConfigurationError(
                f"DUALREC_RTC_NODES: {item.strip()[:40]!r} is not name=url (name: a-z 0-9 _ -, ≤ 32)"
            )
        if not URL.match(url):
            raise ConfigurationError(f"DUALREC_RTC_NODES: node {name}: {url[:80]!r} is not an http(s) URL")
        if any(n.name == name for n in nodes):
            raise ConfigurationError(f"DUALREC_RTC_NODES: node {name} listed twice")
        nodes.append(MediaNode(name, url))
    if len(nodes) > MAX_NODES:
        raise ConfigurationError(f"DUALREC_RTC_NODES: more than {MAX_NODES} nodes")
    return tuple(nodes)


class NodePool:
    """The configured nodes, their Janus APIs (dualrec's own calls, with the API secret) and health."""

    def __init__(
        self,
        nodes: tuple[MediaNode, ...],
        api_secret: Callable[[], str],
        *,
        health_ttl: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not nodes:
            raise ConfigurationError("no media node configured")
        self.nodes = nodes
        self._by_name = {n.name: n for n in nodes}
        self._secret = api_secret
        self._ttl = health_ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._health: dict[str, tuple[float, bool]] = {}
        self._apis: dict[tuple[str, str], JanusApi] = {}  # kept: each holds a pooled client and a session

    @property
    def default(self) -> MediaNode:
        return self.nodes[0]

    def get(self, name: str | None) -> MediaNode | None:
        """The node a token or a placement names (no name: the first node); None when unknown."""
        return self._by_name.get(name) if name else self.default

    def api(self, name: str) -> JanusApi:
        node = self._by_name.get(name)
        if node is None:
            raise JanusUnavailableError(msg("rtc.media_node_unknown", node=name[:40]))
        key = (name, self._secret())
        with self._lock:
            api = self._apis.get(key)
            if api is None:
                api = self._apis[key] = JanusApi(node.url, key[1])
        return api

    def close(self) -> None:
        """Closes the kept APIs (their connections and shared Janus sessions)."""
        with self._lock:
            apis, self._apis = list(self._apis.values()), {}
        for api in apis:
            api.close()

    def healthy(self, name: str) -> bool:
        """Whether the node answered ``info`` (asked again after ``health_ttl`` seconds)."""
        now = self._clock()
        with self._lock:
            known = self._health.get(name)
            if known is not None and now - known[0] < self._ttl:
                return known[1]
        try:
            ok = self.api(name).info().get("janus") == "server_info"
        except JanusUnavailableError:
            ok = False
        with self._lock:
            self._health[name] = (self._clock(), ok)
        return ok

    def forget_health(self, name: str) -> None:
        """A request to the node failed: ask it again at the next placement."""
        with self._lock:
            self._health.pop(name, None)

    def choose(self, open_rooms: Mapping[str, int]) -> str:
        """The node for a new room: among the healthy ones, the one with the fewest open rooms
        (ties: the order of DUALREC_RTC_NODES). None healthy: 503."""
        if len(self.nodes) == 1:  # nothing to choose: a node that is down fails the room's creation
            return self.default.name
        healthy = [n for n in self.nodes if self.healthy(n.name)]
        if not healthy:
            raise JanusUnavailableError(msg("rtc.no_media_node_available"))
        return min(healthy, key=lambda n: (open_rooms.get(n.name, 0), self.nodes.index(n))).name
