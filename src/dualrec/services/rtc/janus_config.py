"""Janus' configuration, written by dualrec into its data dir: what runs, where it listens, its secrets.

Everything Janus reads comes from here (``janus -F <data dir>/rtc/janus``), never from /etc/janus:
only the VideoRoom plugin and the HTTP transport are loaded; the Janus API listens on one address
(loopback unless configured); the Admin API listens on 127.0.0.1 only, with an ACL of 127.; token
authentication is on with HMAC-signed tokens that only dualrec can make; rooms can only be created
with the VideoRoom admin key; recordings go to a folder inside the data dir.

The secrets are generated once and kept in ``<data dir>/rtc/secrets.json`` (mode 0600), so that the
server process (which creates rooms and signs tokens) and the ``dualrec rtc`` process (which runs
Janus) agree without any setting.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from dualrec.errors import ConfigurationError
from dualrec.i18n import msg

__all__ = [
    "JanusSecrets",
    "RtcOptions",
    "RtcPaths",
    "find_janus_lib_dir",
    "load_or_create_secrets",
    "write_janus_config",
]

ENABLED_PLUGIN = "libjanus_videoroom.so"
ENABLED_TRANSPORT = "libjanus_http.so"
_SAFE = re.compile(r"^[A-Za-z0-9_.:/,\- ]*$")  # what we ever write inside a quoted jcfg string


@dataclass(frozen=True)
class RtcOptions:
    """What the operator chose (``DUALREC_RTC_*``, docs/configuration.md), as plain values."""

    data_dir: Path
    janus_binary: str = "janus"
    janus_lib_dir: Path | None = None  # plugins/, transports/ …; None: found under /usr/lib
    bind: str = "127.0.0.1"  # the Janus API's HTTP listener (dualrec proxies browsers to it)
    http_port: int = 8088
    admin_port: int = 7088  # always on 127.0.0.1
    rtp_ports: str = "20000-40000"
    ice_enforce_list: str = ""  # interfaces/addresses Janus gathers candidates on; empty: all
    nat_1_1: str = ""  # the public address of a NATed server
    stun_server: str = ""  # host:port, for Janus' own srflx candidates
    public_origin: str = ""  # CORS allow_origin of the Janus API when exposed directly
    log_level: int = 4
    token_ttl_seconds: int = 4 * 3600

    @property
    def janus_url(self) -> str:
        host = f"[{self.bind}]" if ":" in self.bind else self.bind
        return f"http://{host}:{self.http_port}/janus"

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}/admin"

    @property
    def paths(self) -> RtcPaths:
        return RtcPaths.under(self.data_dir)


@dataclass(frozen=True)
class RtcPaths:
    root: Path
    config_dir: Path
    recordings: Path
    secrets_file: Path
    log_file: Path

    @classmethod
    def under(cls, data_dir: Path) -> RtcPaths:
        root = data_dir.resolve() / "rtc"
        return cls(root, root / "janus", root / "recordings", root / "secrets.json", root / "janus.log")


@dataclass(frozen=True)
class JanusSecrets:
    api_secret: str  # server-side Janus API calls (room creation); never sent to a browser
    admin_secret: str  # the Admin API (loopback only)
    token_secret: str  # HMAC key of the participants' signed tokens
    room_admin_key: str  # VideoRoom admin_key: needed to create rooms
    room_key: str = field(repr=False, default="")  # derives room ids, room secrets and feed ids

    def as_dict(self) -> dict[str, str]:
        return {
            "api_secret": self.api_secret,
            "admin_secret": self.admin_secret,
            "token_secret": self.token_secret,
            "room_admin_key": self.room_admin_key,
            "room_key": self.room_key,
        }


def _new_secret() -> str:
    return secrets.token_hex(24)  # hex: safe inside a jcfg string and an HTTP header


def load_or_create_secrets(path: Path) -> JanusSecrets:
    """The secrets in ``path`` (0600), created on first use; a file readable by others is refused."""
    names = ("api_secret", "admin_secret", "token_secret", "room_admin_key", "room_key")
    if path.exists():
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise ConfigurationError(msg("rtc.readable_others_chmod_600", path=path, oct_mode=oct(mode)))
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigurationError(f"{path}: unreadable Janus secrets ({exc})") from exc
        if not all(isinstance(raw.get(n), str) and re.fullmatch(r"[0-9a-f]{32,}", raw[n]) for n in names):
            raise ConfigurationError(f"{path}: Janus secrets incomplete or malformed")
        return JanusSecrets(**{n: raw[n] for n in names})
    path.parent.mkdir(parents=True, exist_ok=True)
    made = JanusSecrets(**{n: _new_secret() for n in names})
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(made.as_dict(), fh)
    try:  # the first process to link wins; a racing one reads the winner's secrets below
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return load_or_create_secrets(path)


def find_janus_lib_dir(configured: Path | None = None) -> Path:
    """The folder holding Janus' plugins/ and transports/ (Debian: /usr/lib/<multiarch>/janus)."""
    if configured is not None:
        if not (configured / "plugins" / ENABLED_PLUGIN).is_file():
            raise ConfigurationError(f"{configured}/plugins/{ENABLED_PLUGIN} not found")
        return configured
    patterns = ("usr/lib/*/janus/plugins", "usr/lib/janus/plugins", "opt/janus/lib/janus/plugins")
    for pattern in patterns:
        for found in sorted(Path("/").glob(f"{pattern}/{ENABLED_PLUGIN}")):
            return found.parent.parent
    raise ConfigurationError(msg("rtc.janus_plugins_found_install_janus"))


def _q(value: str) -> str:
    if not _SAFE.match(value):
        raise ConfigurationError(f"refusing to write {value!r} into Janus' configuration")
    return f'"{value}"'


def _others(folder: Path, keep: str) -> str:
    """Every shared object in ``folder`` except ``keep``: Janus' ``disable`` list."""
    names = sorted(p.name for p in folder.glob("*.so") if p.name != keep) if folder.is_dir() else []
    return ",".join(names)


def _check(opts: RtcOptions) -> None:
    try:
        ipaddress.ip_address(opts.bind)
    except ValueError as exc:
        raise ConfigurationError(f"DUALREC_RTC_BIND must be an IP address, not {opts.bind!r}") from exc
    if not re.fullmatch(r"\d{1,5}-\d{1,5}", opts.rtp_ports):
        raise ConfigurationError(f"DUALREC_RTC_RTP_PORTS must look like 20000-40000, not {opts.rtp_ports!r}")
    if opts.nat_1_1:
        ipaddress.ip_address(opts.nat_1_1)


# folders Janus must never write recordings into (its own default list without /var and /opt: the
# data dir may well live under /var/lib)
_PROTECTED = (
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/initrd",
    "/lib",
    "/lib32",
    "/lib64",
    "/proc",
    "/sbin",
    "/sys",
    "/usr",
)


def write_janus_config(opts: RtcOptions) -> Path:
    """Writes the three files Janus reads into ``<data dir>/rtc/janus`` (0600) and returns that folder."""
    _check(opts)
    paths = opts.paths
    secrets_ = load_or_create_secrets(paths.secrets_file)
    lib = find_janus_lib_dir(opts.janus_lib_dir)
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    paths.config_dir.chmod(0o700)
    paths.recordings.mkdir(parents=True, exist_ok=True)
    nat = [f"\tice_enforce_list = {_q(opts.ice_enforce_list)}"] if opts.ice_enforce_list else []
    if opts.nat_1_1:
        nat.append(f"\tnat_1_1_mapping = {_q(opts.nat_1_1)}")
    if opts.stun_server:
        host, _, port = opts.stun_server.rpartition(":")
        nat += [f"\tstun_server = {_q(host or opts.stun_server)}", f"\tstun_port = {int(port or 3478)}"]
    protected = ",\n".join(f"\t\t{_q(p)}" for p in _PROTECTED)
    core = f"""# written by dualrec (services/rtc/janus_config.py); edits are overwritten at the next start
general: {{
\tconfigs_folder = {_q(str(paths.config_dir))}
\tplugins_folder = {_q(str(lib / "plugins"))}
\ttransports_folder = {_q(str(lib / "transports"))}
\tevents_folder = {_q(str(lib / "events"))}
\tloggers_folder = {_q(str(lib / "loggers"))}
\tlog_to_stdout = true
\tdebug_level = {int(opts.log_level)}
\tdebug_timestamps = true
\tserver_name = "dualrec"
\tsession_timeout = 60
\thide_dependencies = true
\tapi_secret = {_q(secrets_.api_secret)}
\ttoken_auth = true
\ttoken_auth_secret = {_q(secrets_.token_secret)}
\tadmin_secret = {_q(secrets_.admin_secret)}
\tprotected_folders = [
{protected}
\t]
}}
media: {{
\trtp_port_range = {_q(opts.rtp_ports)}
}}
nat: {{
\tignore_mdns = true
{chr(10).join(nat)}
}}
plugins: {{
\tdisable = {_q(_others(lib / "plugins", ENABLED_PLUGIN))}
}}
transports: {{
\tdisable = {_q(_others(lib / "transports", ENABLED_TRANSPORT))}
}}
loggers: {{
\tdisable = {_q(_others(lib / "loggers", ""))}
}}
events: {{
\tbroadcast = false
}}
"""
    cors = f"\tallow_origin = {_q(opts.public_origin)}\n" if opts.public_origin else ""
    http = f"""# written by dualrec: the Janus API on {opts.bind}, the Admin API on loopback only
general: {{
\tjson = "compact"
\tbase_path = "/janus"
\thttp = true
\tip = {_q(opts.bind)}
\tport = {int(opts.http_port)}
\thttps = false
}}
admin: {{
\tadmin_base_path = "/admin"
\tadmin_http = true
\tadmin_ip = "127.0.0.1"
\tadmin_port = {int(opts.admin_port)}
\tadmin_acl = "127."
\tadmin_https = false
}}
cors: {{
{cors}}}
"""
    videoroom = f"""# written by dualrec: rooms exist only when dualrec creates them (admin_key)
general: {{
\tadmin_key = {_q(secrets_.room_admin_key)}
\tlock_rtp_forward = true
\tstring_ids = false
}}
"""
    for name, text in (
        ("janus.jcfg", core),
        ("janus.transport.http.jcfg", http),
        ("janus.plugin.videoroom.jcfg", videoroom),
    ):
        target = paths.config_dir / name
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        target.chmod(0o600)
    return paths.config_dir
