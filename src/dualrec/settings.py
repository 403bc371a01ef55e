"""Settings: ``DUALREC_*`` environment variables, an optional TOML/env config file, safe defaults.

Read only at the edges (app factory, CLI root, worker boot) and passed down as values.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from dualrec.core.node_params import COPY_ACCURACY, READ_ALONG_ACCURACY
from dualrec.core.outbound import AllowList, url_problem

__all__ = ["DEV_SECRET", "Settings", "load_settings"]

DEV_SECRET = "dev-insecure-secret-change-me"  # refused outside development

Environment = Literal["development", "test", "production"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="DUALREC_",
        env_file=None,
        extra="forbid",
        validate_default=True,
    )

    env: Environment = "development"
    data_dir: Path = Path("var")
    database_url: str = ""  # empty: SQLite file under data_dir
    secret_key: SecretStr = SecretStr(DEV_SECRET)

    # web
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = "http://127.0.0.1:8000"
    task_link_ttl_hours: int = Field(default=72, ge=1, le=24 * 30)  # customer entry links expire
    # self-service sessions (docs/self-service.md)
    session_tts_voice: Literal["female", "male"] = "female"  # the server's speech when the browser has none
    session_tts_rate: int = Field(default=170, ge=80, le=400)  # words per minute
    # share of syllables read (跟读) / characters copied (抄录): the live session's and server QC's
    session_read_along_threshold: float = Field(default=READ_ALONG_ACCURACY, ge=0.1, le=1.0)
    session_copy_accuracy: float = Field(default=COPY_ACCURACY, ge=0.1, le=1.0)
    session_copy_min_confidence: float = Field(default=0.6, ge=0.0, le=1.0)  # OCR confidence to trust a copy
    session_page_min_seconds: float = Field(
        default=5.0, ge=0.0, le=600.0
    )  # each document page shown this long
    session_sweep_seconds: float = Field(default=60.0, gt=0)  # how often dropped sessions are expired
    # live frame analysis of sessions (docs/live.md "Worker pool"): worker processes, None = one per
    # core, 0 = in the API process; a frame that waited longer than live_max_wait_s is dropped
    live_workers: int | None = Field(default=None, ge=0, le=64)
    live_max_wait_s: float = Field(default=1.0, gt=0, le=30)
    archive_h265: bool = False  # also keep an H.265 archive copy of every self-service recording
    # upload quota of one attempt: floor + bytes per minute of the flow's estimated duration (413 past it)
    session_upload_bytes_per_minute: int = Field(default=24 * 1024**2, ge=1024**2)
    session_upload_floor_bytes: int = Field(default=128 * 1024**2, ge=8 * 1024**2)
    session_chunk_retention_hours: float = Field(default=24.0, gt=0)  # chunks of ended attempts, then swept
    cookie_secure: bool = False  # set true behind HTTPS (required in production)
    session_ttl_minutes: int = 8 * 60
    session_idle_minutes: int = 30
    max_request_bytes: int = 1_048_576  # JSON bodies; uploads have their own limit
    max_upload_bytes: int = 4 * 1024**3
    login_max_failures: int = 5
    login_lockout_minutes: int = 15
    login_ip_max_failures: int = Field(default=30, ge=0)  # failed logins per source address per window
    login_ip_window_minutes: int = Field(default=15, ge=1)
    api_signature_max_skew_seconds: int = 300
    # Argon2id cost of stored passwords (RFC 9106 low-memory profile by default); below the OWASP floor
    # (2 passes over 19 MiB) only with DUALREC_ENV=test. Existing hashes are re-hashed at their next login.
    password_hash_time_cost: int = Field(default=3, ge=1, le=20)
    password_hash_memory_kib: int = Field(default=65536, ge=8, le=4 * 1024**2)

    # jobs
    job_backend: Literal["inprocess", "celery"] = "inprocess"
    job_workers: int = 2
    celery_broker_url: str = "redis://127.0.0.1:6379/0"
    celery_result_backend: str = "redis://127.0.0.1:6379/1"

    # webhooks to business systems (docs/integration.md)
    webhook_enabled: bool = True  # run the webhook dispatcher in serve and worker processes
    webhook_poll_seconds: float = Field(default=2.0, gt=0)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    webhook_max_attempts: int = Field(default=8, ge=1)
    webhook_backoff_seconds: float = Field(default=10.0, ge=0)
    webhook_backoff_cap_seconds: float = Field(default=3600.0, ge=0)
    # webhooks and the archive push never go to loopback/private/link-local/metadata addresses unless
    # listed here: host names, addresses or CIDR networks, comma separated (docs/configuration.md)
    outbound_allow: Annotated[list[str], NoDecode] = []

    # archive retention reminders (docs/archive.md): a daily notice of entries expiring within N days
    archive_reminder_enabled: bool = True  # run the reminder in serve and worker processes
    archive_expiry_notice_days: int = Field(default=30, ge=0, le=3650)
    archive_reminder_check_seconds: float = Field(default=3600.0, gt=0)  # the notice is made once a day

    # QC operations (docs/review.md): sampling, human review, appeals
    review_sampling_enabled: bool = True  # run the daily sampling rules in serve processes
    review_sampling_check_seconds: float = Field(default=600.0, gt=0)  # how often the thread looks
    review_sampling_hour: int = Field(default=1, ge=0, le=23)  # local hour from which yesterday is sampled
    review_utc_offset_hours: float = Field(default=8.0, ge=-12, le=14)  # the bank's local time
    review_final_for_fail: bool = True  # four eyes: a FAIL waits for a second reviewer (终审)
    review_appeal_days: int = Field(default=15, ge=0, le=3650)  # appeal window after a FAIL; 0: none
    review_appeal_max_files: int = Field(default=5, ge=0, le=20)
    review_appeal_max_file_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, le=100 * 1024 * 1024)
    review_sampling_in_worker: bool = True  # also run the daily sampling rules in `dualrec worker`

    # notices by e-mail (high-risk rules, docs/review.md): off while smtp_host is empty
    smtp_host: str = ""
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_username: str = ""
    smtp_password: SecretStr | None = None
    smtp_sender: str = "dualrec@localhost"
    smtp_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    notify_email_to: dict[str, list[str]] = Field(default_factory=dict)  # role → addresses (JSON)

    # the LLM checker (docs/checks.md, check llm_review): off while qc_llm_url is empty
    qc_llm_url: str = ""  # an OpenAI-compatible base URL, e.g. http://127.0.0.1:8080/v1
    qc_llm_model: str = ""
    qc_llm_api_key: SecretStr | None = None  # sent as a Bearer token, never logged
    qc_llm_timeout_seconds: float = Field(default=60.0, gt=0, le=600)
    qc_llm_required: bool = False  # true: a recording whose LLM check could not run goes to REVIEW

    # AI engines
    device: Literal["cpu", "cuda", "auto"] = "cpu"
    cpu_threads: int = 0  # 0 = engine default
    asr_model_dir: Path | None = None  # operator-provided CTranslate2 Whisper dir; default: bundled base

    # seed
    admin_username: str = "admin"
    admin_password: SecretStr | None = None

    log_json: bool = True
    log_level: str = "INFO"
    metrics_token: SecretStr | None = None  # /metrics: Bearer token; unset: loopback clients only
    media_server_origin: str = ""  # a media server the pages connect to (CSP connect-src), e.g. wss://m.x

    # remote interviews (远程双录) on the Janus WebRTC server (docs/remote-interview.md)
    rtc_enabled: bool = False  # the join API and the Janus proxy; `dualrec serve` also runs Janus (managed)
    rtc_managed: bool = True  # serve starts and supervises Janus itself; false: `dualrec rtc` runs it
    rtc_janus_binary: str = "janus"
    rtc_janus_lib_dir: Path | None = None  # Janus' plugins/ and transports/; empty: found under /usr/lib
    rtc_bind: str = "127.0.0.1"  # address of the Janus API (HTTP); the Admin API is on 127.0.0.1 only
    rtc_http_port: int = Field(default=8088, ge=1, le=65535)
    rtc_admin_port: int = Field(default=7088, ge=1, le=65535)
    rtc_rtp_ports: str = "20000-40000"  # UDP ports of the media (open them in the firewall)
    rtc_ice_enforce_list: str = ""  # interfaces/addresses Janus offers media on; empty: every one
    rtc_nat_1_1: str = ""  # the public address of a server behind 1:1 NAT
    rtc_stun_server: str = ""  # host:port Janus asks for its own public address
    rtc_stun_urls: Annotated[list[str], NoDecode] = []  # ICE servers handed to browsers (stun:host:port)
    rtc_turn_urls: Annotated[list[str], NoDecode] = []  # turn:host:3478?transport=udp, turns:…
    rtc_turn_secret: SecretStr | None = None  # coturn static-auth-secret: browsers get short-lived logins
    rtc_token_ttl_minutes: int = Field(default=240, ge=5, le=24 * 60)  # participants' Janus tokens
    rtc_public_janus_url: str = ""  # browsers use this Janus URL instead of the app's /api/v1/rtc/janus
    # several Janus instances: name=url,… (each its Janus API); empty: the one of RTC_BIND/_HTTP_PORT
    rtc_nodes: str = ""
    rtc_ice_transport_policy: Literal["all", "relay"] = "all"  # relay: browsers send media via TURN only
    rtc_log_level: int = Field(default=4, ge=0, le=7)  # Janus' debug level (its log: DATA_DIR/rtc/janus.log)
    # the human-interviewer queue (SPEC §3.2)
    rtc_queue_timeout_seconds: int = Field(default=900, ge=30, le=24 * 3600)  # waiting longer: timed out
    rtc_queue_abandon_seconds: int = Field(default=45, ge=10, le=3600)  # page silent that long: left
    rtc_queue_default_handling_seconds: int = Field(default=300, ge=10, le=4 * 3600)  # ETA before history
    rtc_queue_skill_map: str = ""  # business_type:skill_group,…; unmapped types are their own group
    # live analysis of calls (subtitles, risk alerts, face checks): a worker process per call that
    # Janus forwards the parties' RTP to (docs/remote-interview.md "Live subtitles and alerts")
    rtc_live_enabled: bool = False
    rtc_live_forward_host: str = ""  # where Janus sends the RTP; empty: derived from DUALREC_RTC_BIND
    rtc_live_face_interval_ms: int = Field(default=1000, ge=200, le=10_000)  # a customer frame per interval
    # Janus' own view of the streams (Admin API handle_info) sampled this often while calls run; 0: off
    rtc_server_stats_seconds: float = Field(default=5.0, ge=0, le=300)

    # evidence ledger (存证): checkpoint signing key, how often to checkpoint, time-stamp authority
    signing_key_file: Path | None = None  # empty: generated under data_dir/keys in development only
    signing_algorithm: Literal["ed25519", "sm2"] = "ed25519"
    evidence_checkpoint_every: int = Field(default=100, ge=1)
    tsa_url: str = ""  # RFC 3161 time-stamping of checkpoints: not implemented yet (refused when set)
    # the outside checkpoint log (docs/evidence.md): every checkpoint written once, outside the database
    checkpoint_log_backend: Literal["auto", "filesystem", "s3", "off"] = "auto"  # auto: the blob backend
    checkpoint_log_dir: Path | None = None  # filesystem; empty: DATA_DIR/checkpoint-log
    checkpoint_log_s3_bucket: str = ""  # s3; empty: DUALREC_S3_BUCKET (same endpoint and credentials)
    checkpoint_log_s3_prefix: str = "checkpoint-log/"
    checkpoint_log_object_lock_days: int = Field(default=0, ge=0, le=36500)  # >0: S3 Object Lock retention
    checkpoint_log_object_lock_mode: Literal["COMPLIANCE", "GOVERNANCE"] = "COMPLIANCE"
    # the integrity audit of the ledger, the audit log and the checkpoint log (serve processes)
    integrity_audit_enabled: bool = True
    integrity_audit_interval_hours: float = Field(default=24.0, gt=0)  # how often it runs
    integrity_audit_check_seconds: float = Field(default=600.0, gt=0)  # how often the thread looks

    # litigation report (诉讼报告, docs/litigation.md): PAdES signature with the institution's certificate
    litigation_pkcs12_file: Path | None = None  # empty: a self-signed demo certificate (not in production)
    litigation_pkcs12_password: SecretStr | None = None
    litigation_tsa_url: str = ""  # RFC 3161 time stamp in the signature (PAdES B-T); off by default
    litigation_tsa_timeout_seconds: float = Field(default=10.0, gt=0)
    # archive-system push (docs/litigation.md): evidence packages POSTed to the archive system
    archive_push_url: str = ""  # empty: pushing is off
    archive_push_secret: SecretStr | None = None  # HMAC key of the X-Dualrec-Signature header
    archive_push_max_attempts: int = Field(default=12, ge=1, le=50)  # queue backoff 2 s doubling, max 5 min
    archive_push_timeout_seconds: float = Field(default=120.0, gt=0)

    # blob storage: backend and encryption at rest (docs/storage.md)
    blob_backend: Literal["filesystem", "s3"] = "filesystem"
    blob_cipher: Literal["aes-256-gcm", "sm4-gcm"] = "aes-256-gcm"
    master_keys: SecretStr | None = None  # JSON {"active": ID, "keys": {ID: base64 of 32 bytes}}
    master_key_file: Path | None = None  # a file with that JSON (e.g. a mounted secret)
    s3_bucket: str = ""
    s3_endpoint_url: str = ""  # empty: AWS; e.g. http://minio:9000
    s3_access_key: str = ""
    s3_secret_key: SecretStr | None = None
    s3_region: str = "us-east-1"
    s3_prefix: str = "blobs/"

    # local QC agent on the recording device (dualrec agent, docs/agent.md)
    agent_host: str = "127.0.0.1"  # loopback only: any other address is refused
    agent_port: int = Field(default=1234, ge=1, le=65535)
    agent_dir: Path | None = None  # its SQLite file, evidence frames, packages; empty: DATA_DIR/agent
    agent_recording_dirs: Annotated[list[Path], NoDecode] = []  # filePath must resolve inside one
    agent_allowed_origins: Annotated[list[str], NoDecode] = []  # web pages allowed to connect
    agent_server_url: str = ""  # the central dualrec server; empty: confirmed packages stay queued
    agent_api_key: str = ""  # the device's API key id (dk_…)
    agent_api_secret: SecretStr | None = None
    agent_upload_bytes_per_second: int = Field(default=0, ge=0)  # 0: unlimited
    agent_upload_chunk_bytes: int = Field(default=512 * 1024, ge=4096, le=16 * 1024 * 1024)
    agent_retry_seconds: float = Field(default=5.0, gt=0)
    agent_retry_cap_seconds: float = Field(default=600.0, gt=0)
    agent_max_message_bytes: int = Field(default=65536, ge=1024, le=8 * 1024 * 1024)
    agent_device_name: str = Field(default="", max_length=100)  # in the package; empty: the host name

    @field_validator(
        "agent_recording_dirs",
        "agent_allowed_origins",
        "outbound_allow",
        "rtc_stun_urls",
        "rtc_turn_urls",
        mode="before",
    )
    @classmethod
    def _split_list(cls, value: Any, info: ValidationInfo) -> Any:
        """A JSON list, or folders separated like PATH (``os.pathsep``) / origins by commas."""
        if not isinstance(value, str):
            return value
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        sep = os.pathsep if info.field_name == "agent_recording_dirs" else ","
        return [part.strip() for part in text.split(sep) if part.strip()]

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get("DUALREC_CONFIG_FILE")
        if config_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config_file)))
        return tuple(sources)

    @field_validator("outbound_allow")
    @classmethod
    def _check_allow_list(cls, value: list[str]) -> list[str]:
        AllowList.parse(value)  # ValueError names the bad entry
        return value

    @field_validator("qc_llm_url")
    @classmethod
    def _check_llm_url(cls, value: str) -> str:
        if value and not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value):
            raise ValueError("DUALREC_QC_LLM_URL must be an http(s) URL such as http://127.0.0.1:8080/v1")
        return value

    @field_validator("archive_push_url")
    @classmethod
    def _check_push_url(cls, value: str) -> str:
        problem = url_problem(value) if value else ""
        if problem:
            raise ValueError(f"DUALREC_ARCHIVE_PUSH_URL: {problem}")
        return value

    @field_validator("media_server_origin")
    @classmethod
    def _check_media_origin(cls, value: str) -> str:
        if value and not re.fullmatch(
            r"(https?|wss?)://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-]+)(:\d{1,5})?", value
        ):
            raise ValueError(
                "DUALREC_MEDIA_SERVER_ORIGIN must be an origin such as wss://media.example.com:8443"
            )
        return value

    @model_validator(mode="after")
    def _refuse_unsafe_defaults(self) -> Settings:
        if self.env == "production":
            problems = []
            if (
                self.secret_key.get_secret_value() == DEV_SECRET
                or len(self.secret_key.get_secret_value()) < 32
            ):
                problems.append("DUALREC_SECRET_KEY must be set to a random value of at least 32 characters")
            if not self.cookie_secure:
                problems.append("DUALREC_COOKIE_SECURE must be true (serve over HTTPS)")
            if problems:
                raise ValueError("refusing to start in production: " + "; ".join(problems))
        if self.env != "test" and (self.password_hash_time_cost < 2 or self.password_hash_memory_kib < 19456):
            raise ValueError(
                "DUALREC_PASSWORD_HASH_TIME_COST must be ≥ 2 and DUALREC_PASSWORD_HASH_MEMORY_KIB ≥ 19456 "
                "(lower costs are for the test suite only, DUALREC_ENV=test)"
            )
        return self

    @model_validator(mode="after")
    def _check_blob_storage(self) -> Settings:
        if self.env == "production" and self.master_keys is None and self.master_key_file is None:
            raise ValueError(
                "refusing to start in production: set DUALREC_MASTER_KEYS or DUALREC_MASTER_KEY_FILE "
                "(blobs are encrypted at rest)"
            )
        if self.blob_backend == "s3" and not self.s3_bucket:
            raise ValueError("DUALREC_BLOB_BACKEND=s3 needs DUALREC_S3_BUCKET")
        if self.resolved_checkpoint_log == "s3" and not (self.checkpoint_log_s3_bucket or self.s3_bucket):
            raise ValueError(
                "the S3 checkpoint log needs DUALREC_CHECKPOINT_LOG_S3_BUCKET or DUALREC_S3_BUCKET"
            )
        return self

    @property
    def resolved_checkpoint_log(self) -> Literal["filesystem", "s3", "off"]:
        if self.checkpoint_log_backend == "auto":
            return self.blob_backend
        return self.checkpoint_log_backend

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'dualrec.sqlite3').resolve()}"

    @property
    def model_dir(self) -> Path:
        return self.data_dir / "models"

    def masked(self) -> dict[str, Any]:
        """Settings as a dict safe to log/show (secrets and passwords in URLs masked)."""
        out = self.model_dump(mode="json")
        for key in ("secret_key", "admin_password", "metrics_token", "rtc_turn_secret"):
            if out.get(key):
                out[key] = "********"
        for key in ("database_url", "celery_broker_url", "celery_result_backend"):
            out[key] = _mask_url(str(out.get(key) or ""))
        return out


def _mask_url(url: str) -> str:
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:****@{host}"


def load_settings(**overrides: Any) -> Settings:
    return Settings(**overrides)


def random_secret() -> str:
    return secrets.token_urlsafe(48)


def answer_thresholds(settings: Settings) -> dict[str, Mapping[str, float]]:
    """QC's ``answers`` thresholds for a read-along / copy without its own ``params.accuracy``: the
    values the live session uses (one setting for both; docs/flows.md)."""
    return {
        "answers": {
            "read_along_accuracy": settings.session_read_along_threshold,
            "copy_accuracy": settings.session_copy_accuracy,
        }
    }
