"""The upload package of the local QC agent (SPEC §7 store-and-forward), shared by agent and server.

A package is a *manifest* (JSON: the business serial number, the agent's QC verdict and one entry
per file with its size and SHA-256) plus the *content*: the files' bytes one after another, in
manifest order. The package id is the SHA-256 of the manifest's canonical JSON, so it names the
exact bytes to be uploaded (every file hash is inside it): the server stores each package once,
however often a device retries.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dualrec.errors import InvalidInputError
from dualrec.i18n import msg

__all__ = [
    "MANIFEST_SCHEMA",
    "MAX_EVIDENCE_FILES",
    "RUNNING_NO",
    "UPLOAD_STATUSES",
    "AgentUpload",
    "PackageFile",
    "PackageManifest",
    "canonical_json",
    "package_id",
    "parse_manifest",
]

MANIFEST_SCHEMA = "dualrec.agent.package/1"
RUNNING_NO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")  # also a safe folder name
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_NAME = re.compile(r"^(evidence/)?[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
MAX_EVIDENCE_FILES = 200
MAX_JSON_BYTES = 16 * 1024 * 1024  # a report, however long the transcript
MAX_IMAGE_BYTES = 4 * 1024 * 1024
ROLES = ("recording", "report", "check_data", "evidence")
_KEYS = frozenset({"schema", "runningNo", "businessType", "operator", "device", "created_at", "qc", "files"})


@dataclass(frozen=True)
class PackageFile:
    name: str
    role: str  # recording | report (native JSON) | check_data (SPEC §5 JSON) | evidence (JPEG)
    size: int
    sha256: str


@dataclass(frozen=True)
class PackageManifest:
    running_no: str
    business_type: str
    operator: str
    device: str
    created_at: str
    verdict: str
    risk_score: int | None
    files: tuple[PackageFile, ...]

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def recording(self) -> PackageFile:
        return next(f for f in self.files if f.role == "recording")

    def ranges(self) -> list[tuple[PackageFile, int, int]]:
        """(file, start, end) of each file inside the content stream, half-open."""
        out, pos = [], 0
        for f in self.files:
            out.append((f, pos, pos + f.size))
            pos += f.size
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": MANIFEST_SCHEMA,
            "runningNo": self.running_no,
            "businessType": self.business_type,
            "operator": self.operator,
            "device": self.device,
            "created_at": self.created_at,
            "qc": {"verdict": self.verdict, "risk_score": self.risk_score},
            "files": [
                {"name": f.name, "role": f.role, "size": f.size, "sha256": f.sha256} for f in self.files
            ],
        }


def canonical_json(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def package_id(manifest: PackageManifest) -> str:
    return hashlib.sha256(canonical_json(manifest.to_dict())).hexdigest()


def _bad(message: str, where: str) -> InvalidInputError:
    return InvalidInputError(
        msg("agent_package.invalid_package_manifest", message=message),
        details={"errors": [{"loc": ["manifest", *(where.split(".") if where else [])], "msg": message}]},
    )


def _text(data: dict[str, Any], key: str, limit: int) -> str:
    value = data.get(key, "")
    if not isinstance(value, str) or len(value) > limit:
        raise _bad(f"{key} must be a string of at most {limit} characters", key)
    return value


def _file(raw: Any, i: int) -> PackageFile:
    where = f"files.{i}"
    if not isinstance(raw, dict) or set(raw) != {"name", "role", "size", "sha256"}:
        raise _bad("each file needs exactly name, role, size, sha256", where)
    name, role, size, digest = raw["name"], raw["role"], raw["size"], raw["sha256"]
    if not isinstance(name, str) or not _NAME.match(name) or ".." in name:
        raise _bad("file name must be a plain name (or evidence/<name>)", f"{where}.name")
    if role not in ROLES:
        raise _bad(f"role must be one of {ROLES}", f"{where}.role")
    if type(size) is not int or size < 0:
        raise _bad("size must be a non-negative integer", f"{where}.size")
    if not isinstance(digest, str) or not _SHA256.match(digest):
        raise _bad("sha256 must be 64 lowercase hex digits", f"{where}.sha256")
    limit = {"report": MAX_JSON_BYTES, "check_data": MAX_JSON_BYTES, "evidence": MAX_IMAGE_BYTES}.get(role)
    if limit is not None and size > limit:
        raise _bad(f"a {role} file may be at most {limit} bytes", f"{where}.size")
    if (role == "evidence") != name.startswith("evidence/"):
        raise _bad("evidence files (and only they) are named evidence/<name>", f"{where}.name")
    return PackageFile(name, role, size, digest)


def parse_manifest(raw: Any) -> PackageManifest:
    """Validates a manifest received from a device; raises InvalidInputError naming the field."""
    if not isinstance(raw, dict):
        raise _bad("the manifest must be a JSON object", "")
    if set(raw) != _KEYS:  # exactly these, so that the package id is the hash of what was sent
        raise _bad(f"the manifest has exactly the keys {sorted(_KEYS)}", "")
    if raw.get("schema") != MANIFEST_SCHEMA:
        raise _bad(f"schema must be {MANIFEST_SCHEMA!r}", "schema")
    running_no = raw.get("runningNo")
    if not isinstance(running_no, str) or not RUNNING_NO.match(running_no):
        raise _bad("runningNo must be 1-64 letters, digits, '_', '.', '-'", "runningNo")
    qc = raw.get("qc")
    if (
        not isinstance(qc, dict)
        or set(qc) != {"verdict", "risk_score"}
        or qc.get("verdict") not in ("PASS", "REVIEW", "FAIL")
    ):
        raise _bad("qc.verdict must be PASS, REVIEW or FAIL", "qc.verdict")
    risk = qc.get("risk_score")
    if risk is not None and type(risk) is not int:
        raise _bad("qc.risk_score must be an integer", "qc.risk_score")
    files_raw = raw.get("files")
    if not isinstance(files_raw, list) or not files_raw or len(files_raw) > MAX_EVIDENCE_FILES + 3:
        raise _bad("files must be a non-empty list", "files")
    files = tuple(_file(f, i) for i, f in enumerate(files_raw))
    if [f.role for f in files].count("recording") != 1 or files[0].role != "recording":
        raise _bad("the first file, and only it, is the recording", "files")
    if files[0].size == 0:
        raise _bad("the recording is empty", "files.0.size")
    if len({f.name for f in files}) != len(files):
        raise _bad("file names must be unique", "files")
    for role in ("report", "check_data"):
        if [f.role for f in files].count(role) > 1:
            raise _bad(f"at most one {role} file", "files")
    return PackageManifest(
        running_no=running_no,
        business_type=_text(raw, "businessType", 64),
        operator=_text(raw, "operator", 64),
        device=_text(raw, "device", 100),
        created_at=_text(raw, "created_at", 40),
        verdict=str(qc["verdict"]),
        risk_score=risk,
        files=files,
    )


UPLOAD_STATUSES = ("receiving", "finalizing", "complete")


@dataclass(frozen=True)
class AgentUpload:
    """A package upload as the server keeps it (``received``: bytes stored so far, the resume offset)."""

    id: str
    package_id: str
    branch_id: int
    branch_path: str
    created_by: str
    running_no: str
    business_type: str
    manifest: dict[str, Any]
    size: int
    received: int
    status: str
    created_at: datetime
    updated_at: datetime
    task_id: str | None = None
    recording_id: str | None = None
    artifacts: dict[str, Any] | None = None
    error: str | None = None
    completed_at: datetime | None = None
