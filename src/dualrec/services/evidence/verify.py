"""Offline verification of an evidence package: no server, no database, no settings.

Imports only the stdlib, ``core.evidence`` and the signature helpers (``cryptography`` / ``gmssl``
loaded on use). Every check is reported, passed or failed, with the file/event it concerns.

Given the outside checkpoint log (a folder holding its ``checkpoint-*.json`` entries: the server's
log folder, or a copy of its S3 prefix), every checkpoint the package carries must be in it,
byte-for-byte the same ("checkpoint N missing/rewritten" otherwise), and the log's own chain intact.
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
    CHECKPOINT_FORMATS,
    STATEMENT_FORMAT,
    EvidenceEvent,
    MerkleTree,
    canonical_json,
    checkpoint_chain_problems,
    is_hash,
    log_entry_name,
    log_entry_number,
    verify_chain,
    verify_inclusion,
)
from dualrec.services.evidence.signing_key import public_key_id, verify_signature

__all__ = [
    "CHAIN_DOCUMENT",
    "SIGNED_DOCUMENTS",
    "Finding",
    "VerifyReport",
    "document_bytes",
    "read_log_folder",
    "verify_package",
]

CHAIN_DOCUMENT = "ledger/checkpoints.json"  # package format 2: the checkpoint chain up to the covering one
SIGNED_DOCUMENTS = (  # the statement signs the SHA-256 of each of these
    "README.txt",
    "manifest.json",
    "SHA256SUMS",
    "ledger/events.json",
    "ledger/proofs.json",
    "ledger/checkpoint.json",
    "ledger/checkpoint.payload",
    "ledger/checkpoint.sig",
    CHAIN_DOCUMENT,
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


def _check_signed(
    report: VerifyReport, what: str, doc: Any, formats: tuple[str, ...], public_key: str
) -> dict[str, Any]:
    if not isinstance(doc, dict) or not isinstance(doc.get("payload"), dict):
        report.add(False, what, "has no payload")
        raise _Stop
    payload: dict[str, Any] = doc["payload"]
    if payload.get("format") not in formats:
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


def read_log_folder(folder: Path) -> dict[int, bytes]:
    """The entries of an outside checkpoint log copied to (or kept in) a folder, by number."""
    entries: dict[int, bytes] = {}
    for path in folder.iterdir():
        number = log_entry_number(path.name)
        if number is not None and path.is_file():
            entries[number] = path.read_bytes()
    return entries


def verify_package(
    path: Path, *, trusted_keys: list[str] | None = None, checkpoint_log: Path | None = None
) -> VerifyReport:
    """Check everything in the package; ``trusted_keys``: the institution's published public keys
    (PEM / SM2 blocks) — when given, the checkpoint and the statement must be signed by one of them;
    ``checkpoint_log``: a folder with the outside checkpoint log — when given, the package's
    checkpoints must be the log's."""
    report = VerifyReport()
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        report.add(False, "package", f"cannot open {path}: {exc}")
        return report
    with zf:
        try:
            chain = _verify(zf, report, trusted_keys or [])
        except _Stop:
            chain = None
        except Exception as exc:  # a corrupt member or a malformed document: a failure, never a crash
            report.add(False, "package", f"damaged: {type(exc).__name__}: {exc}")
            chain = None
    if checkpoint_log is not None:
        try:
            _check_against_log(report, chain, read_log_folder(checkpoint_log), str(checkpoint_log))
        except OSError as exc:
            report.add(False, "checkpoint log", f"cannot read {checkpoint_log}: {exc}")
        except Exception as exc:  # a malformed log entry: a failure, never a crash
            report.add(False, "checkpoint log", f"damaged: {type(exc).__name__}: {exc}")
    return report


def _same_checkpoint(a: Any, b: Any) -> bool:
    keys = ("payload", "signature", "public_key")
    return isinstance(a, dict) and isinstance(b, dict) and all(a.get(k) == b.get(k) for k in keys)


def _check_chain(
    report: VerifyReport, zf: zipfile.ZipFile, cp_doc: dict[str, Any], required: bool
) -> list[dict[str, Any]]:
    """``ledger/checkpoints.json``: signatures and links of the chain ending at the package's
    checkpoint. Returns the chain (just the checkpoint for a format-1 package)."""
    if not required:
        report.add(
            True, "checkpoint chain", "package format 1: no checkpoint chain (only the one checkpoint)"
        )
        return [cp_doc]
    chain = _json(zf, CHAIN_DOCUMENT, report)
    if not isinstance(chain, list) or not chain or not all(isinstance(c, dict) for c in chain):
        report.add(False, "checkpoint chain", f"{CHAIN_DOCUMENT} holds no checkpoints")
        raise _Stop
    bad: list[str] = []
    for doc in chain:
        payload = doc.get("payload")
        number = doc.get("number")
        if not isinstance(payload, dict) or not isinstance(number, int):
            bad.append(f"checkpoint {number}: malformed")
            continue
        alg, key = str(payload.get("algorithm", "")), str(doc.get("public_key", ""))
        try:
            key_ok = public_key_id(alg, key) == payload.get("key_id")
        except ValueError:
            key_ok = False
        signed = key_ok and verify_signature(alg, key, canonical_json(payload), str(doc.get("signature", "")))
        if payload.get("format") not in CHECKPOINT_FORMATS:
            bad.append(f"checkpoint {number}: unknown format {payload.get('format')!r}")
        elif not signed:
            bad.append(f"checkpoint {number}: SIGNATURE INVALID (payload altered or wrong key)")
    for problem in bad:
        report.add(False, "checkpoint chain", problem)
    links = checkpoint_chain_problems(
        [(int(c["number"]), c["payload"]) for c in chain if isinstance(c.get("number"), int)
         and isinstance(c.get("payload"), dict)]
    )  # fmt: skip
    for problem in links:
        report.add(False, "checkpoint chain", problem)
    first, last = chain[0], chain[-1]
    if not bad and not links:
        start = first.get("number")
        why = "the first" if start == 1 else (
            "signed after a clean audit" if first["payload"].get("audited") else "the oldest carried"
        )  # fmt: skip
        report.add(
            True,
            "checkpoint chain",
            f"{len(chain)} checkpoints {start}..{last.get('number')} from {why}: signatures and links intact",
        )
    same = _same_checkpoint(last, cp_doc) and last.get("number") == cp_doc.get("number")
    report.add(same, "checkpoint chain", "ends at ledger/checkpoint.json" if same
               else "does NOT end at ledger/checkpoint.json")  # fmt: skip
    return chain


def _check_against_log(
    report: VerifyReport, chain: list[dict[str, Any]] | None, entries: dict[int, bytes], where: str
) -> None:
    if not entries:
        report.add(False, "checkpoint log", f"{where}: no checkpoint-*.json entries")
        return
    parsed: dict[int, dict[str, Any]] = {}
    for number, raw in sorted(entries.items()):
        doc = json.loads(raw.decode("utf-8"))
        if (
            not isinstance(doc, dict)
            or not isinstance(doc.get("payload"), dict)
            or doc.get("number") != number
        ):
            report.add(False, "checkpoint log", f"{log_entry_name(number)}: not a checkpoint of that number")
            continue
        parsed[number] = doc
    problems = checkpoint_chain_problems([(n, d["payload"]) for n, d in sorted(parsed.items())])
    if parsed and min(parsed) != 1:
        problems.insert(0, f"checkpoint 1..{min(parsed) - 1} missing from the outside log")
    for problem in problems:
        report.add(False, "checkpoint log", problem)
    if not problems and parsed:
        report.add(True, "checkpoint log", f"{len(parsed)} checkpoints 1..{max(parsed)}, links intact")
    for doc in chain or []:
        cp_number = doc.get("number")
        if not isinstance(cp_number, int):  # a format-1 package: find its checkpoint by content
            found = [n for n, d in parsed.items() if _same_checkpoint(d, doc)]
            what = (
                f"the package's checkpoint is checkpoint {found[0]} of the log"
                if found
                else "the package's checkpoint is NOT in the outside log (missing or rewritten)"
            )
            report.add(bool(found), "checkpoint log", what)
            continue
        logged = parsed.get(cp_number)
        if logged is None:
            report.add(False, "checkpoint log", f"checkpoint {cp_number} missing from the outside log")
        elif not _same_checkpoint(logged, doc):
            report.add(
                False,
                "checkpoint log",
                f"checkpoint {cp_number} rewritten: the package's differs from the outside log's",
            )
        else:
            report.add(True, "checkpoint log", f"checkpoint {cp_number} is the outside log's")


def _verify(zf: zipfile.ZipFile, report: VerifyReport, trusted: list[str]) -> list[dict[str, Any]]:
    package_key = _read(zf, "keys/public_key.pem", report).decode("utf-8", "replace")
    cp_doc = _json(zf, "ledger/checkpoint.json", report)
    cp_key = str(cp_doc.get("public_key", "")) if isinstance(cp_doc, dict) else ""
    cp = _check_signed(report, "checkpoint", cp_doc, CHECKPOINT_FORMATS, cp_key)
    if "ledger/checkpoint.payload" in zf.namelist():
        try:
            raw_sig = base64.b64decode(str(cp_doc.get("signature")), validate=True)
            same = zf.read("ledger/checkpoint.payload") == canonical_json(cp)
            same = same and zf.read("ledger/checkpoint.sig") == raw_sig
        except (ValueError, KeyError):
            same = False
        report.add(same, "checkpoint", "checkpoint.payload/.sig are the signed bytes of checkpoint.json")
    statement_doc = _json(zf, "ledger/statement.json", report)
    statement = _check_signed(report, "statement", statement_doc, (STATEMENT_FORMAT,), package_key)
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
    # format 2 (the checkpoint chain) unless the signed statement lists no chain (a format-1 package)
    has_chain = CHAIN_DOCUMENT in signed_docs or cp.get("format") == CHECKPOINT_FORMAT
    for name in SIGNED_DOCUMENTS if has_chain else [d for d in SIGNED_DOCUMENTS if d != CHAIN_DOCUMENT]:
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
    return _check_chain(report, zf, cp_doc, has_chain)
