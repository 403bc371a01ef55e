"""``dualrec doctor``: what this machine has and lacks to run dualrec, without loading heavy models."""

from __future__ import annotations

import ipaddress
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from dualrec.settings import Settings

__all__ = ["Finding", "is_loopback_host", "public_url_finding", "public_url_warning", "run_doctor"]


@dataclass(frozen=True)
class Finding:
    area: str
    name: str
    ok: bool
    detail: str
    required: bool = True


def _binary(name: str, args: list[str], area: str, required: bool, hint: str) -> Finding:
    path = shutil.which(name)
    if not path:
        return Finding(area, name, False, f"not found on PATH — {hint}", required)
    try:
        out = subprocess.run([path, *args], capture_output=True, text=True, timeout=20, check=False)
        # the version line wherever the tool writes it (janus-pp-rec: its version on one stream,
        # "Unknown option --version" on the other, exit status 1)
        lines = [line.strip() for line in f"{out.stdout}\n{out.stderr}".splitlines() if line.strip()]
        first = next((line for line in lines if "version" in line.lower()), lines[0] if lines else path)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Finding(area, name, False, f"{path} does not run: {exc}", required)
    return Finding(area, name, True, first[:120], required)


def _data_dir(settings: Settings) -> Finding:
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=settings.data_dir):
            pass
    except OSError as exc:
        return Finding("storage", "data dir", False, f"{settings.data_dir}: not writable ({exc})")
    usage = shutil.disk_usage(settings.data_dir)
    free_gb = usage.free / 1024**3
    return Finding(
        "storage", "data dir", free_gb > 1, f"{settings.data_dir.resolve()} ({free_gb:.1f} GiB free)"
    )


def _database(settings: Settings) -> Finding:
    from sqlalchemy import text

    from dualrec.db.engine import make_engine
    from dualrec.db.migrate import current_heads

    url = settings.resolved_database_url
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            try:
                rev = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            except Exception:
                rev = None
    except Exception as exc:
        return Finding(
            "database", "connection", False, f"{settings.masked()['database_url'] or url}: {exc}"[:300]
        )
    finally:
        engine.dispose()
    heads = current_heads(url)
    if rev not in heads:
        return Finding(
            "database", "schema", False, f"at {rev or 'empty'}, latest {heads}: run `dualrec db upgrade`"
        )
    return Finding("database", "schema", True, f"{engine.dialect.name} at revision {rev}")


def _engines(settings: Settings) -> list[Finding]:
    from dualrec.media.models.availability import engine_statuses

    return [
        Finding("ai", st.name, st.ok, st.detail)
        for st in engine_statuses(whisper_model_dir=settings.asr_model_dir)
    ]


def _jobs(settings: Settings) -> Finding:
    from dualrec.bootstrap.jobs import check_job_backend
    from dualrec.db.engine import make_engine

    engine = make_engine(settings.resolved_database_url)
    try:
        result = check_job_backend(settings, engine=engine)
    except Exception as exc:
        return Finding("jobs", settings.job_backend, False, f"{type(exc).__name__}: {exc}"[:300])
    finally:
        engine.dispose()
    return Finding("jobs", settings.job_backend, result.ok, result.detail)


def _frontend() -> Finding:
    dist = Path(__file__).resolve().parent.parent / "web" / "dist" / "index.html"
    return Finding(
        "web", "front end", dist.is_file(), str(dist) if dist.is_file() else "not built: run `make web`"
    )


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1): only this machine reaches them."""
    name = host.strip().strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def public_url_warning(public_url: str, bind_host: str) -> str | None:
    """Why customer links would not open, or None: the server listens beyond this machine
    (``bind_host`` not loopback) but the links are built on a loopback public URL (the default
    ``http://127.0.0.1:8000`` included), which a customer's phone cannot reach."""
    if is_loopback_host(bind_host):
        return None
    link_host = urlsplit(public_url).hostname or ""
    if link_host and not is_loopback_host(link_host):
        return None
    return (
        f"客户链接基于 DUALREC_PUBLIC_URL={public_url}（本机回环地址），而服务监听在 {bind_host}："
        "客户手机无法打开链接，请将 DUALREC_PUBLIC_URL 设为客户能访问的地址 / "
        f"customer links are built on DUALREC_PUBLIC_URL={public_url}, a loopback address, while the "
        f"server listens on {bind_host}: a customer's phone cannot open them. Set DUALREC_PUBLIC_URL to "
        "the address customers reach (e.g. https://dualrec.bank.example)."
    )


def public_url_finding(settings: Settings, bind_host: str | None = None) -> Finding:
    """The doctor's line about the public URL customer links are built on (not required)."""
    problem = public_url_warning(settings.public_url, bind_host or settings.host)
    if problem:
        return Finding("web", "public URL", False, problem, False)
    return Finding("web", "public URL", True, f"customer links use {settings.public_url}", False)


def _janus(settings: Settings) -> list[Finding]:
    """The media server of remote interviews: binaries, and (when enabled) Janus answering with the
    VideoRoom plugin and token authentication on (docs/remote-interview.md)."""
    needed = settings.rtc_enabled
    hint = "apt-get install janus janus-tools (remote interviews, DUALREC_RTC_ENABLED)"
    found = [
        _binary(settings.rtc_janus_binary, ["--version"], "rtc", needed, hint),
        _binary("janus-pp-rec", ["--version"], "rtc", needed, hint),
    ]
    if not needed:
        return found
    from dualrec.bootstrap.rtc import janus_api, media_nodes

    try:
        nodes = media_nodes(settings)
    except Exception as exc:
        return [*found, Finding("rtc", "janus api", False, f"DUALREC_RTC_NODES: {exc}"[:300])]
    for node in nodes:
        # one line per media node (DUALREC_RTC_NODES); the single local node keeps its old name
        name = "janus api" if len(nodes) == 1 else f"janus api {node.name}"
        try:
            with janus_api(settings, node.name) as api:
                info = api.info()
        except Exception as exc:
            found.append(Finding("rtc", name, False, f"not reachable at {node.url}: {exc}"[:300]))
            continue
        plugins = sorted((info.get("plugins") or {}).keys())
        transports = sorted((info.get("transports") or {}).keys())
        ok = "janus.plugin.videoroom" in plugins and bool(info.get("auth_token"))
        detail = (
            f"{info.get('name', 'Janus')} {info.get('version_string', '?')} at {node.url}; "
            f"plugins {', '.join(plugins) or 'none'}; transports {', '.join(transports) or 'none'}; "
            f"token auth {'on' if info.get('auth_token') else 'OFF'}"
        )
        found.append(Finding("rtc", name, ok, detail))
    return found


def run_doctor(settings: Settings) -> list[Finding]:
    findings = [
        Finding(
            "media",
            "CJK font",
            Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc").is_file(),
            "fonts-wqy-zenhei for PDF reports",
            True,
        ),
        _data_dir(settings),
        _database(settings),
        *_engines(settings),
        _frontend(),
        public_url_finding(settings),
        _binary(
            "soffice", ["--version"], "documents", False, "optional: LibreOffice converts Word/PowerPoint"
        ),
    ]
    findings += _janus(settings)
    database = next(f for f in findings if f.area == "database")
    if database.ok:  # the job check writes a job row: it needs a migrated database
        findings.append(_jobs(settings))
    if os.environ.get("DUALREC_ENV", settings.env) == "production" and settings.database_url.startswith(
        "sqlite"
    ):
        findings.append(
            Finding("database", "production", False, "SQLite in production: use PostgreSQL or MySQL", False)
        )
    return findings
