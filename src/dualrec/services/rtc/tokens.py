"""Participants' credentials for Janus, all derived from the secrets in the data dir.

- The *core* token (``<expiry>,janus,janus.plugin.videoroom:<HMAC-SHA1>``) lets a browser open a
  Janus session and attach the VideoRoom plugin (Janus' ``token_auth_secret`` scheme).
- The *room* token (``<expiry>,janus.plugin.videoroom,room=<id>:<HMAC-SHA1>``) lets it join (publish
  in or subscribe to) that one room: rooms are created with ``signed_tokens: true``.
- Room ids, room secrets and the participants' feed ids are HMACs of the task attempt under the
  ``room_key``, so any dualrec process finds the same room again (after a Janus restart too) and a
  customer cannot guess another attempt's room or the agent's feed id.
- TURN credentials in coturn's ``use-auth-secret`` (TURN REST) form: ``<expiry>:<name>`` and
  base64(HMAC-SHA1(secret, username)).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

__all__ = [
    "core_token",
    "feed_id",
    "room_id",
    "room_secret",
    "room_token",
    "room_token_node",
    "turn_credentials",
    "verify_core_token",
    "verify_room_token",
]

VIDEOROOM = "janus.plugin.videoroom"


def _sign(secret: str, data: str) -> str:
    mac = hmac.new(secret.encode(), data.encode(), hashlib.sha1).digest()
    return f"{data}:{base64.b64encode(mac).decode()}"


def core_token(secret: str, expires_at: int, node: str | None = None) -> str:
    """``node=<name>`` is dualrec's descriptor (Janus looks only for the plugin's): the proxy
    forwards the holder's requests to that media node only."""
    where = f",node={node}" if node else ""
    return _sign(secret, f"{int(expires_at)},janus,{VIDEOROOM}{where}")


def room_token(
    secret: str, expires_at: int, room: int, feed: int | None = None, node: str | None = None
) -> str:
    """Janus checks the signature, the expiry and ``room=<id>`` among the descriptors; ``feed=<id>``
    is dualrec's own descriptor: the proxy lets the holder publish only as that feed; ``node=``
    names the media node of the room (the proxy refuses it on a session of another node)."""
    bound = f",feed={int(feed)}" if feed is not None else ""
    where = f",node={node}" if node else ""
    return _sign(secret, f"{int(expires_at)},{VIDEOROOM},room={int(room)}{bound}{where}")


def _verified(secret: str, token: object, realm: str, now: int) -> dict[str, str] | None:
    """The ``key=value`` descriptors of a genuine, unexpired token of ``realm``; None otherwise."""
    if not isinstance(token, str) or len(token) > 400 or ":" not in token:
        return None
    data, _, _sig = token.rpartition(":")
    if not hmac.compare_digest(_sign(secret, data), token):
        return None
    parts = data.split(",")
    if len(parts) < 3 or parts[1] != realm or not parts[0].isdigit() or int(parts[0]) <= now:
        return None
    return dict(p.split("=", 1) for p in parts[2:] if "=" in p)


def verify_core_token(secret: str, token: object, *, now: int) -> str | None:
    """The media node a genuine, unexpired core token names ("" when it names none: the first
    node); None for anything else."""
    fields = _verified(secret, token, "janus", now)
    return None if fields is None else fields.get("node", "")


def room_token_node(secret: str, token: object, *, now: int) -> str | None:
    """The media node a genuine, unexpired room token names ("" when none); None otherwise."""
    fields = _verified(secret, token, VIDEOROOM, now)
    return None if fields is None else fields.get("node", "")


def verify_room_token(secret: str, token: object, *, now: int) -> tuple[int, int | None] | None:
    """(room, feed or None) of a genuine, unexpired room token; None for anything else."""
    fields = _verified(secret, token, VIDEOROOM, now)
    if fields is None:
        return None
    try:
        room = int(fields["room"])
        feed = int(fields["feed"]) if "feed" in fields else None
    except (KeyError, ValueError):
        return None
    return room, feed


def _derive(key: str, label: str, task_id: str, attempt: int) -> bytes:
    return hmac.new(key.encode(), f"{label}\x00{task_id}\x00{attempt}".encode(), hashlib.sha256).digest()


def room_id(key: str, task_id: str, attempt: int) -> int:
    """A positive id below 2**52 (exact in JavaScript numbers and in Janus' guint64)."""
    return int.from_bytes(_derive(key, "room", task_id, attempt)[:7], "big") % (2**52 - 1) + 1


def room_secret(key: str, task_id: str, attempt: int) -> str:
    return _derive(key, "secret", task_id, attempt).hex()


def feed_id(key: str, task_id: str, attempt: int, role: str) -> int:
    """The publisher id a participant joins with (it names that party's recording files)."""
    return int.from_bytes(_derive(key, f"feed:{role}", task_id, attempt)[:6], "big") % (2**47 - 1) + 1


def turn_credentials(secret: str, expires_at: int, name: str) -> tuple[str, str]:
    username = f"{int(expires_at)}:{name}"
    mac = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(mac).decode()
