"""Offline verification of an evidence package: no server, no database, no settings.

Imports only the stdlib, ``core.evidence`` and the signature helpers (``cryptography`` / ``gmssl``
loaded on use). Every check is reported, passed or failed, with the file/event it concerns.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dualrec.core.evidence import (
    CHECKPOINT_FORMAT,
    STATEMENT_FORMAT,
    EvidenceEvent,
    MerkleTree,
    canonical_json,
    is_hash,
    verify_chain,
    verify_inclusion,
)
from dualrec.services.evidence.signing_key import public_key_id, verify_signature

__all__ = ["SIGNED_DOCUMENTS", "Finding", "VerifyReport", "document_bytes", "verify_package"]

SIGNED_DOCUMENTS = (  # the statement signs the SHA-256 of each of these
    "README.txt",
    "manifest.json",
    "SHA256SUMS",
    "ledger/events.json",
    "ledger/proofs.json",
    "ledger/checkpoint.json",
    "ledger/checkpoint.payload",
    "ledger/checkpoint.sig",
    "keys/public_key.pem",
)
KNOWN_MEMBERS = {*SIGNED_DOCUMENTS, "ledger/statement.json"}


@dataclass(frozen=True)
class Finding:
    ok: bool
    check: str
    detail: str


@dataclass
class VerifyReport:
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.findings) and all(f.ok for f in self.findings)

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if not f.ok]

    def add(self, ok: bool, check: str, detail: str) -> bool:
        self.findings.append(Finding(ok, check, detail))
        return ok


def document_bytes(value: Any) -> bytes:
    """How the exporter writes every JSON document of a package (sorted, indented, UTF-8, newline)."""
    return (json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


class _Stop(Exception):
    """A required part is missing or unreadable: later checks would only repeat the same failure."""


def _read(zf: zipfile.ZipFile, name: str, report: VerifyReport) -> bytes:
    try:
        return zf.read(name)
    except KeyError:
        report.add(False, "package", f"{name}: missing from the package")
        raise _Stop from None


def _json(zf: zipfile.ZipFile, name: str, report: VerifyReport) -> Any:
    raw = _read(zf, name, report)
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        report.add(False, "package", f"{name}: not valid JSON ({exc})")
        raise _Stop from None


def _file_digest(zf: zipfile.ZipFile, name: str) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with zf.open(name) as fh:
        while chunk := fh.read(1024 * 1024):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _check_signed(report: VerifyReport, what: str, doc: Any, fmt: str, public_key: str) -> dict[str, Any]:
    if not isinstance(doc, dict) or not isinstance(doc.get("payload"), dict):
        report.add(False, what, "has no payload")
        raise _Stop
    payload: dict[str, Any] = doc["payload"]
    if payload.get("format") != fmt:
        report.add(False, what, f"unknown format {payload.get('format')!r}")
    alg = str(payload.get("algorithm", ""))
    try:
        kid = public_key_id(alg, public_key)
    except ValueError as exc:
        report.add(False, what, f"public key unusable for {alg!r}: {exc}")
        raise _Stop from None
    report.add(kid == payload.get("key_id"), what, f"key id {payload.get('key_id')} vs public key {kid}")
    good = verify_signature(alg, public_key, canonical_json(payload), str(doc.get("signature", "")))
    report.add(
        good, what, f"{alg} signature valid" if good else "SIGNATURE INVALID (payload altered or wrong key)"
    )
    return payload


def _trusted_ids(report: VerifyReport, trusted: list[str]) -> set[str]:
    ids: set[str] = set()
    for i, text in enumerate(trusted):
        found = False
        for alg in ("ed25519", "sm2"):
            try:
                ids.add(public_key_id(alg, text))
                found = True
            except ValueError:
                continue
        if not found:
            report.add(
                False, "public key", f"--public-key #{i + 1} is neither an Ed25519 nor an SM2 public key"
            )
    return ids


def _check_trusted(report: VerifyReport, what: str, payload: dict[str, Any], trusted_ids: set[str]) -> None:
    kid = payload.get("key_id")
    ok = kid in trusted_ids
    report.add(
        ok, "public key", f"{what} key {kid} " + ("is" if ok else "is NOT") + " an institution key given"
    )


def _check_events(
    report: VerifyReport,
    events: list[EvidenceEvent],
    statement: dict[str, Any],
    proofs: Any,
    cp: dict[str, Any],
) -> None:
    chain_problems = verify_chain(events, subject_chain=True)
    for p in chain_problems:
        report.add(False, "event chain", p)
    if not chain_problems:
        report.add(True, "event chain", f"{len(events)} events, hashes and links intact")
    subject = (statement.get("subject_type"), statement.get("subject_id"))
    for ev in events:
        if (ev.subject_type, ev.subject_id) != subject:
            report.add(False, "event chain", f"event seq {ev.seq} belongs to another subject")
    seqs = [e.seq for e in events]
    report.add(
        seqs == statement.get("event_seqs"),
        "statement",
        f"events in package {seqs} vs signed {statement.get('event_seqs')}",
    )
    last = events[-1].hash if events else None
    report.add(
        last == statement.get("last_event_hash"), "statement", "last event hash matches the signed one"
    )
    if all(is_hash(e.hash) for e in events):
        root = MerkleTree([e.hash for e in events]).root()
        report.add(root == statement.get("subject_merkle_root"), "statement", f"subject Merkle root {root}")
    else:
        report.add(False, "statement", "subject Merkle root cannot be computed (malformed event hash)")
    size = cp.get("seq")
    report.add(statement.get("checkpoint_seq") == size, "statement", f"refers to checkpoint seq {size}")
    entries = proofs.get("proofs") if isinstance(proofs, dict) else None
    if not isinstance(entries, list) or proofs.get("tree_size") != size:
        report.add(False, "merkle proof", "ledger/proofs.json does not match the checkpoint")
        return
    by_seq = {p.get("seq"): p.get("path") for p in entries if isinstance(p, dict)}
    for ev in events:
        path = by_seq.get(ev.seq)
        ok = isinstance(path, list) and isinstance(size, int)
        ok = ok and verify_inclusion(ev.hash, ev.seq - 1, size, path, str(cp.get("merkle_root")))  # type: ignore[arg-type]
        report.add(
            ok, "merkle proof", f"event seq {ev.seq} ({ev.kind}) {'in' if ok else 'NOT PROVEN in'} checkpoint"
        )
        if ok and ev.seq == size:
            report.add(ev.hash == cp.get("head_hash"), "checkpoint", "head hash is the last event's hash")


def _check_files(
    report: VerifyReport, zf: zipfile.ZipFile, manifest: Any, events: list[EvidenceEvent]
) -> None:
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, list):
        report.add(False, "manifest", "manifest.json has no file list")
        return
    names = set(zf.namelist())
    by_seq = {e.seq: e for e in events}
    listed: set[str] = set()
    sums: list[str] = []
    for entry in files:
        path = str(entry.get("path"))
        listed.add(path)
        sums.append(f"{entry.get('sha256')}  {path}")
        if path not in names:
            report.add(False, "file", f"{path}: listed in the manifest but missing from the package")
            continue
        sha, size = _file_digest(zf, path)
        ok = sha == entry.get("sha256") and size == entry.get("size")
        report.add(
            ok,
            "file",
            f"{path}: "
            + ("SHA-256 and size match the manifest" if ok else f"CHANGED (sha256 {sha}, {size} bytes)"),
        )
        ev = by_seq.get(entry.get("event_seq"))
        if ev is None:
            report.add(
                False, "file", f"{path}: its ledger event seq {entry.get('event_seq')} is not in the package"
            )
        elif ev.payload.get("sha256") != sha or ev.payload.get("size") != size:
            report.add(
                False,
                "file",
                f"{path}: does not match ledger event seq {ev.seq} ({ev.payload.get('sha256')})",
            )
        else:
            report.add(True, "file", f"{path}: matches ledger event seq {ev.seq}")
    recorded = {e.seq for e in events if "sha256" in e.payload and "blob_key" in e.payload}
    for seq in sorted(recorded - {f.get("event_seq") for f in files}):
        report.add(
            False,
            "file",
            f"ledger event seq {seq} ({by_seq[seq].payload.get('name')}) has no file in the package",
        )
    for extra in sorted(names - listed - KNOWN_MEMBERS):
        if not extra.endswith("/"):
            report.add(False, "file", f"{extra}: in the package but not in the manifest")
    if "SHA256SUMS" in names:
        same = zf.read("SHA256SUMS").decode("utf-8", "replace").splitlines() == sums
        report.add(same, "manifest", "SHA256SUMS agrees with manifest.json")


def verify_package(path: Path, *, trusted_keys: list[str] | None = None) -> VerifyReport:
    """Check everything in the package; ``trusted_keys``: the institution's published public keys
    (PEM / SM2 blocks) — when given, the checkpoint and the statement must be signed by one of them."""
    report = VerifyReport()
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        report.add(False, "package", f"cannot open {path}: {exc}")
        return report
    with zf:
        try:
            _verify(zf, report, trusted_keys or [])
        except _Stop:
            pass
        except Exception as exc:  # a corrupt member or a malformed document: a failure, never a crash
            report.add(False, "package", f"damaged: {type(exc).__name__}: {exc}")
    return report


def _verify(zf: zipfile.ZipFile, report: VerifyReport, trusted: list[str]) -> None:
    package_key = _read(zf, "keys/public_key.pem", report).decode("utf-8", "replace")
    cp_doc = _json(zf, "ledger/checkpoint.json", report)
    cp_key = str(cp_doc.get("public_key", "")) if isinstance(cp_doc, dict) else ""
    cp = _check_signed(report, "checkpoint", cp_doc, CHECKPOINT_FORMAT, cp_key)
    if "ledger/checkpoint.payload" in zf.namelist():
        try:
            raw_sig = base64.b64decode(str(cp_doc.get("signature")), validate=True)
            same = zf.read("ledger/checkpoint.payload") == canonical_json(cp)
            same = same and zf.read("ledger/checkpoint.sig") == raw_sig
        except (ValueError, KeyError):
            same = False
        report.add(same, "checkpoint", "checkpoint.payload/.sig are the signed bytes of checkpoint.json")
    statement_doc = _json(zf, "ledger/statement.json", report)
    statement = _check_signed(report, "statement", statement_doc, STATEMENT_FORMAT, package_key)
    # The one document whose hash nobody signs: require the exact bytes the exporter writes, so
    # that even a whitespace change in it is reported.
    exact = zf.read("ledger/statement.json") == document_bytes(statement_doc)
    report.add(exact, "statement", "ledger/statement.json is byte-for-byte as exported" if exact
               else "ledger/statement.json was reformatted or altered after export")  # fmt: skip
    if trusted:
        ids = _trusted_ids(report, trusted)
        _check_trusted(report, "checkpoint", cp, ids)
        _check_trusted(report, "statement", statement, ids)
    signed_docs = statement.get("documents")
    if not isinstance(signed_docs, dict):
        signed_docs = {}
    names = set(zf.namelist())
    for name in SIGNED_DOCUMENTS:
        if name not in names:
            report.add(False, "package", f"{name}: missing from the package")
            continue
        digest = hashlib.sha256(zf.read(name)).hexdigest()
        same = digest == signed_docs.get(name)
        report.add(
            same,
            "statement",
            f"{name}: " + ("SHA-256 is the signed one" if same else "CHANGED since signing"),
        )
    manifest = _json(zf, "manifest.json", report)
    raw_events = _json(zf, "ledger/events.json", report)
    try:
        events = [EvidenceEvent.from_json(e) for e in raw_events]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        report.add(False, "event chain", f"ledger/events.json is malformed: {exc}")
        raise _Stop from None
    _check_events(report, events, statement, _json(zf, "ledger/proofs.json", report), cp)
    _check_files(report, zf, manifest, events)
