"""Upload a recording → QC (in-process queue, AI engines off) → `dualrec evidence export` → offline verify.

Then every kind of tampering with the package (or the blob store) must make `verify` fail and name
what failed.
"""

from __future__ import annotations

import base64
import json
import os
import random
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from dualrec.api.app import create_app
from dualrec.bootstrap.container import Container, build_container, job_handlers
from dualrec.bootstrap.evidence import checkpoint_log
from dualrec.bootstrap.jobs import build_job_queue
from dualrec.cli.evidence import app as evidence_app
from dualrec.errors import DualrecError
from dualrec.services.evidence.ledger import Notary
from dualrec.services.evidence.signing_key import Signer, generate_key_file
from dualrec.services.identity.seed import seed_demo
from tests.conftest import ADMIN_PASSWORD, login, make_settings

Members = dict[str, bytes]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from dualrec.bootstrap.engines import build_qc_engines

    root = tmp_path_factory.mktemp("evidence")
    clip = root / "clip.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=15:duration=4",
         "-f", "lavfi", "-i", "sine=frequency=440:duration=4", "-c:v", "libx264", "-preset", "ultrafast",
         "-c:a", "aac", "-shortest", str(clip)],
        check=True,
    )  # fmt: skip
    settings = make_settings(root / "data", job_workers=1, evidence_checkpoint_every=2)
    container: Container = build_container(settings, migrate=True)
    seed_demo(container.uows, admin_username="admin", admin_password=ADMIN_PASSWORD)
    engines = build_qc_engines(data_dir=settings.data_dir, asr=False, faces=False, ocr=False)
    container.engines = lambda: engines
    container.jobs = build_job_queue(settings, job_handlers(container), engine=container.engine)
    with TestClient(create_app(settings, container=container)) as client:
        login(client, "admin", ADMIN_PASSWORD)
        task = {"running_no": "RN-EVID-0001", "customer_name": "张三", "id_number": "110101199003077777"}
        with clip.open("rb") as fh:
            r = client.post(
                "/api/v1/recordings",
                files={"file": ("张三-双录.mp4", fh, "video/mp4")},
                data={"task": json.dumps(task, ensure_ascii=False)},
            )
        assert r.status_code == 202, r.text
        rid = r.json()["id"]
        deadline = time.monotonic() + 120
        while client.get(f"/api/v1/recordings/{rid}").json()["status"] not in ("done", "failed"):
            assert time.monotonic() < deadline, "QC did not finish"
            time.sleep(0.3)
        deadline = time.monotonic() + 15  # signed by the QC job itself (every 2 events here), just after
        while True:  # it commits the final status, so wait for it a little
            with container.uows() as uow:
                auto = uow.evidence.latest_checkpoint()
                auto_seq, head = (auto.seq if auto else None), uow.evidence.head()
            if auto_seq == head[0] or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        env = {"DUALREC_ENV": "test", "DUALREC_DATA_DIR": str(settings.data_dir), "DUALREC_LOG_JSON": "false"}
        pkg = root / "pkg.zip"
        result = CliRunner().invoke(evidence_app, ["export", rid, "--out", str(pkg)], env=env)
        assert result.exit_code == 0, result.output
        yield {
            "container": container, "rid": rid, "pkg": pkg, "env": env, "root": root, "clip": clip,
            "auto_checkpoint": auto_seq, "head_after_qc": head[0],
        }  # fmt: skip
    container.close()


def _notary(container: Container, signer: Signer) -> Notary:
    """The signer with the container's outside checkpoint log (as the server and the CLI use it)."""
    return Notary(signer, checkpoint_log(container.settings))


def _members(pkg: Path) -> Members:
    with zipfile.ZipFile(pkg) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _write(path: Path, members: Members) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _verify(pkg: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(evidence_app, ["verify", str(pkg), "--quiet", *extra])
    return result.exit_code, result.output


def _flip(data: bytes, pos: int) -> bytes:
    return data[:pos] + bytes([data[pos] ^ 0x5A]) + data[pos + 1 :]


def test_package_is_complete_and_verifies_offline_in_a_bare_process(world: dict[str, Any]) -> None:
    members = _members(world["pkg"])
    manifest = json.loads(members["manifest.json"])
    events = json.loads(members["ledger/events.json"])
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "blob.stored" and kinds[-1] == "status.changed"
    assert events[-1]["payload"]["status"] == "done" and events[-1]["payload"]["verdict"] in (
        "PASS",
        "REVIEW",
        "FAIL",
    )
    paths = {f["path"] for f in manifest["files"]}
    assert {"files/recording.mp4", "files/report.json", "files/patent.json"} <= paths
    assert members["files/recording.mp4"] == world["clip"].read_bytes()
    ledger_text = members["ledger/events.json"].decode() + members["manifest.json"].decode()
    assert (
        "张三" not in ledger_text and "110101199003077777" not in ledger_text
    )  # no personal data in the ledger
    assert (
        "sha256sum -c SHA256SUMS" in members["README.txt"].decode()
        and "校验" in members["README.txt"].decode()
    )

    # Offline: another directory, no DUALREC_* settings, nothing but the package and the module.
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUALREC_")}
    probe = (
        "import runpy, sys\n"
        f"sys.argv = ['verify', 'verify', {str(world['pkg'])!r}]\n"
        "try:\n    runpy.run_module('dualrec.cli.evidence', run_name='__main__')\n"
        "except SystemExit as e:\n    code = e.code\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'fastapi', 'numpy', 'av')"
        " or m.startswith(('dualrec.db', 'dualrec.settings', 'dualrec.storage')))\n"
        "print('EXIT', code, 'HEAVY', heavy)\n"
    )
    t0 = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=world["root"], env=env, capture_output=True, text=True, timeout=60
    )
    elapsed = time.monotonic() - t0
    assert "EXIT 0 HEAVY []" in done.stdout, done.stdout + done.stderr
    assert "PASSED" in done.stdout and "FAIL " not in done.stdout
    assert elapsed < 10, elapsed
    code = subprocess.run(
        [sys.executable, "-m", "dualrec.cli.evidence", "verify", str(world["pkg"])],
        cwd=world["root"],
        env=env,
    ).returncode
    assert code == 0


def test_the_qc_job_signs_a_checkpoint_every_n_events(world: dict[str, Any]) -> None:
    assert world["auto_checkpoint"] == world["head_after_qc"] >= 4
    cp = json.loads(_members(world["pkg"])["ledger/checkpoint.json"])
    assert cp["payload"]["seq"] == world["auto_checkpoint"]  # the export used it, no extra one needed


def _drop_event(index: int) -> Callable[[Members], None]:
    def tamper(m: Members) -> None:
        events = json.loads(m["ledger/events.json"])
        del events[index]
        m["ledger/events.json"] = json.dumps(events).encode()

    return tamper


def _reorder(m: Members) -> None:
    events = json.loads(m["ledger/events.json"])
    events[0], events[1] = events[1], events[0]
    m["ledger/events.json"] = json.dumps(events).encode()


def _alter_verdict(m: Members) -> None:
    events = json.loads(m["ledger/events.json"])
    events[-1]["payload"]["verdict"] = "PASS" if events[-1]["payload"]["verdict"] != "PASS" else "FAIL"
    m["ledger/events.json"] = json.dumps(events).encode()


def _swap_public_key(m: Members) -> None:
    other = generate_key_file(Path(os.environ["EVIDENCE_TMP"]) / "other.pem", "ed25519")
    m["keys/public_key.pem"] = other.public_key.encode()
    cp = json.loads(m["ledger/checkpoint.json"])
    cp["public_key"] = other.public_key
    m["ledger/checkpoint.json"] = json.dumps(cp).encode()


def _corrupt_checkpoint_signature(m: Members) -> None:
    cp = json.loads(m["ledger/checkpoint.json"])
    raw = bytearray(base64.b64decode(cp["signature"]))
    raw[10] ^= 1
    cp["signature"] = base64.b64encode(bytes(raw)).decode()
    m["ledger/checkpoint.json"] = json.dumps(cp).encode()


def _replace_file_and_manifest(m: Members) -> None:
    import hashlib

    new = m["files/report.json"].replace(b'"FAIL"', b'"PASS"').replace(b'"REVIEW"', b'"PASS"') + b" "
    m["files/report.json"] = new
    manifest = json.loads(m["manifest.json"])
    for f in manifest["files"]:
        if f["path"] == "files/report.json":
            f["sha256"], f["size"] = hashlib.sha256(new).hexdigest(), len(new)
    m["manifest.json"] = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode() + b"\n"
    m["SHA256SUMS"] = "".join(f"{f['sha256']}  {f['path']}\n" for f in manifest["files"]).encode()


def _add_unlisted(m: Members) -> None:
    m["files/extra.txt"] = b"planted"


def _remove_report(m: Members) -> None:
    del m["files/report.json"]


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (_drop_event(1), ["FAIL [event chain]", "chain broken", "FAIL [statement] events in package"]),
        (_drop_event(-1), ["FAIL [statement] events in package", "last event hash"]),
        (_reorder, ["out of order", "FAIL [statement] ledger/events.json: CHANGED since signing"]),
        (_alter_verdict, ["(seq", "status.changed): content does not match its hash (altered event)"]),
        (_swap_public_key, ["FAIL [checkpoint] SIGNATURE INVALID", "FAIL [statement] SIGNATURE INVALID"]),
        (_corrupt_checkpoint_signature, ["FAIL [checkpoint] SIGNATURE INVALID"]),
        (_replace_file_and_manifest,
         ["FAIL [statement] manifest.json: CHANGED", "files/report.json: does not match ledger event"]),
        (_add_unlisted, ["FAIL [file] files/extra.txt: in the package but not in the manifest"]),
        (_remove_report, ["FAIL [file] files/report.json: listed in the manifest but missing"]),
    ],
)  # fmt: skip
def test_tampered_package_fails_and_names_the_problem(
    world: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tamper: Any, expected: list[str]
) -> None:
    monkeypatch.setenv("EVIDENCE_TMP", str(tmp_path))
    members = _members(world["pkg"])
    tamper(members)
    code, out = _verify(_write(tmp_path / "t.zip", members))
    assert code == 1, out
    for text in expected:
        assert text in out, out


@pytest.mark.parametrize(
    "member",
    [
        "files/recording.mp4",
        "files/report.json",
        "ledger/events.json",
        "ledger/proofs.json",
        "ledger/checkpoint.json",
        "ledger/statement.json",
        "manifest.json",
        "keys/public_key.pem",
        "README.txt",
        "SHA256SUMS",
    ],
)
def test_any_single_byte_change_is_detected(world: dict[str, Any], tmp_path: Path, member: str) -> None:
    original = _members(world["pkg"])
    rng = random.Random(f"{member}-2026")
    for trial in range(12):
        members = dict(original)
        pos = rng.randrange(len(original[member]))
        members[member] = _flip(original[member], pos)
        code, out = _verify(_write(tmp_path / f"t{trial}.zip", members))
        assert code == 1, f"byte {pos} of {member} changed and not detected:\n{out}"
        assert "FAIL [" in out, out
        assert "damaged" not in out, out  # a precise finding, not a crash caught at the top


def test_wrong_institution_key_and_a_broken_zip_fail(world: dict[str, Any], tmp_path: Path) -> None:
    other = generate_key_file(tmp_path / "other.pem", "ed25519")
    (tmp_path / "other.pub").write_text(other.public_key)
    code, out = _verify(world["pkg"], "--public-key", str(tmp_path / "other.pub"))
    assert code == 1, out
    assert "FAIL [public key] checkpoint key" in out and "FAIL [public key] statement key" in out
    assert "is NOT an institution key given" in out
    own = _members(world["pkg"])["keys/public_key.pem"]
    (tmp_path / "own.pub").write_bytes(own)
    assert _verify(world["pkg"], "--public-key", str(tmp_path / "own.pub"))[0] == 0
    (tmp_path / "broken.zip").write_bytes(world["pkg"].read_bytes()[:-200])
    code, out = _verify(tmp_path / "broken.zip")
    assert code == 1 and "FAIL [package]" in out


def test_a_byte_changed_in_the_blob_store_is_caught(world: dict[str, Any], tmp_path: Path) -> None:
    container: Container = world["container"]
    with container.uows() as uow:
        rec = uow.recordings.get(world["rid"])
    assert rec is not None
    blob = next(p for p in container.settings.data_dir.joinpath("blobs").rglob(rec.blob_key))
    original = blob.read_bytes()
    blob.write_bytes(_flip(original, len(original) // 2))
    try:
        result = CliRunner().invoke(
            evidence_app, ["export", world["rid"], "--out", str(tmp_path / "p.zip")], env=world["env"]
        )
    finally:
        blob.write_bytes(original)
    if result.exit_code == 0:  # a plain store hands out the changed bytes: the package says so
        code, out = _verify(tmp_path / "p.zip")
        assert code == 1
        assert "FAIL [file] files/recording.mp4: does not match ledger event seq" in out, out
    else:  # authenticated encryption at rest refuses to read it: the export names the file
        assert "files/recording.mp4" in result.output and "ledger event seq 1" in result.output, result.output
        assert not (tmp_path / "p.zip").exists()


def test_export_of_unknown_subject_is_a_clear_error(world: dict[str, Any], tmp_path: Path) -> None:
    result = CliRunner().invoke(
        evidence_app, ["export", "no-such-recording", "--out", str(tmp_path / "x.zip")], env=world["env"]
    )
    assert result.exit_code == 1 and "no evidence events" in result.output
    assert not (tmp_path / "x.zip").exists()


def test_resigned_by_another_key_passes_alone_but_not_against_the_institution_key(
    world: dict[str, Any], tmp_path: Path
) -> None:
    """A forger who re-signs everything with their own key is caught only by --public-key: say so."""
    import hashlib

    from dualrec.core.evidence import canonical_json
    from dualrec.services.evidence.verify import SIGNED_DOCUMENTS, document_bytes

    forger = generate_key_file(tmp_path / "forger.pem", "ed25519")
    members = _members(world["pkg"])
    institution = members["keys/public_key.pem"]
    cp = json.loads(members["ledger/checkpoint.json"])
    cp["payload"]["key_id"], cp["public_key"] = forger.key_id, forger.public_key
    cp["signature"] = forger.sign(canonical_json(cp["payload"]))
    members["ledger/checkpoint.json"] = json.dumps(cp).encode()
    members["ledger/checkpoint.payload"] = canonical_json(cp["payload"])
    members["ledger/checkpoint.sig"] = base64.b64decode(cp["signature"])
    chain = json.loads(members["ledger/checkpoints.json"])  # the chain ends at the re-signed checkpoint
    members["ledger/checkpoints.json"] = document_bytes([*chain[:-1], cp])
    members["keys/public_key.pem"] = forger.public_key.encode()
    statement = json.loads(members["ledger/statement.json"])
    statement["payload"]["key_id"] = forger.key_id
    statement["payload"]["documents"] = {n: hashlib.sha256(members[n]).hexdigest() for n in SIGNED_DOCUMENTS}
    statement["signature"] = forger.sign(canonical_json(statement["payload"]))
    members["ledger/statement.json"] = document_bytes(statement)
    forged = _write(tmp_path / "forged.zip", members)
    result = CliRunner().invoke(evidence_app, ["verify", str(forged)])
    assert result.exit_code == 0 and "--public-key" in result.output  # all consistent, but unanchored
    (tmp_path / "inst.pub").write_bytes(institution)
    code, out = _verify(forged, "--public-key", str(tmp_path / "inst.pub"))
    assert code == 1 and f"FAIL [public key] checkpoint key {forger.key_id} is NOT" in out


def test_sm2_export_and_key_rotation(world: dict[str, Any], tmp_path: Path) -> None:
    from dualrec.services.evidence import ledger
    from dualrec.services.evidence.package import export_package

    container: Container = world["container"]
    sm2 = generate_key_file(tmp_path / "sm2.pem", "sm2")
    # The recording's nearest checkpoint was signed with the old Ed25519 key; the statement now with SM2.
    old = export_package(
        container.uows,
        container.blobs,
        _notary(container, sm2),
        subject_type="recording",
        subject_id=world["rid"],
        out=tmp_path / "a.zip",
    )
    # A new subject after the rotation gets a checkpoint signed with SM2.
    with container.uows() as uow:
        key = container.blobs.put(b"contract scan", content_type="application/pdf").key
        ledger.record_blob(uow, container.blobs, subject_type="task", subject_id="T-1",
                             kind="blob.stored", name="contract.pdf", key=key)  # fmt: skip
        uow.commit()
    new = export_package(
        container.uows,
        container.blobs,
        _notary(container, sm2),
        subject_type="task",
        subject_id="T-1",
        out=tmp_path / "b.zip",
    )
    assert new.checkpoint_seq > old.checkpoint_seq
    assert json.loads(_members(new.path)["ledger/checkpoint.json"])["payload"]["algorithm"] == "sm2"
    (tmp_path / "sm2.pub").write_text(sm2.public_key)
    (tmp_path / "ed.pub").write_bytes(_members(world["pkg"])["keys/public_key.pem"])
    both = ["--public-key", str(tmp_path / "ed.pub"), "--public-key", str(tmp_path / "sm2.pub")]
    assert _verify(new.path, "--public-key", str(tmp_path / "sm2.pub"))[0] == 0
    assert _verify(old.path, *both)[0] == 0
    code, out = _verify(old.path, "--public-key", str(tmp_path / "sm2.pub"))
    assert code == 1 and "FAIL [public key] checkpoint key" in out
    members = _members(new.path)
    members["files/contract.pdf"] = b"contract scan, edited"
    code, out = _verify(_write(tmp_path / "c.zip", members))
    assert code == 1 and "FAIL [file] files/contract.pdf: CHANGED" in out


def test_export_reads_through_the_encrypted_blob_store(world: dict[str, Any], tmp_path: Path) -> None:
    from dualrec.bootstrap.storage import build_encrypted_blob_store
    from dualrec.services.evidence import ledger
    from dualrec.services.evidence.package import export_package

    container: Container = world["container"]
    store = build_encrypted_blob_store(make_settings(tmp_path / "enc"))
    secret = b"frame bytes that must not be stored in clear " * 100
    key = store.put(secret, content_type="image/jpeg").key
    with container.uows() as uow:
        ledger.record_blob(uow, store, subject_type="task", subject_id="T-enc",
                             kind="report.stored", name="evidence/face.jpg", key=key)  # fmt: skip
        uow.commit()
    on_disk = next((tmp_path / "enc" / "blobs").rglob(key)).read_bytes()
    assert secret[:40] not in on_disk  # encrypted at rest ...
    signer = generate_key_file(tmp_path / "k.pem", "ed25519")
    out = export_package(
        container.uows,
        store,
        _notary(container, signer),
        subject_type="task",
        subject_id="T-enc",
        out=tmp_path / "e.zip",
    )
    assert (
        _members(out.path)["files/evidence/face.jpg"] == secret
    )  # ... and exported as the recorded plaintext
    code, output = _verify(out.path)
    assert code == 0, output
    blob = next((tmp_path / "enc" / "blobs").rglob(key))
    blob.write_bytes(_flip(on_disk, len(on_disk) // 2))
    with pytest.raises(DualrecError, match=r"files/evidence/face\.jpg") as caught:
        export_package(
            container.uows,
            store,
            _notary(container, signer),
            subject_type="task",
            subject_id="T-enc",
            out=tmp_path / "f.zip",
        )
    assert "integrity" in caught.value.message and not (tmp_path / "f.zip").exists()


def test_a_checkpoint_failure_is_logged_not_raised_into_the_job(
    world: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    from dualrec.errors import ConfigurationError
    from dualrec.services.evidence import ledger

    def no_key() -> Any:
        raise ConfigurationError("DUALREC_SIGNING_KEY_FILE must name the institution's key")

    container: Container = world["container"]
    with container.uows() as uow:
        ledger.record_event(uow, subject_type="task", subject_id="T-log", kind="status.changed", payload={})
        uow.commit()
    assert ledger.PeriodicCheckpointer(container.uows, no_key, 1)() is None
    assert "evidence checkpoint failed" in caplog.text and "DUALREC_SIGNING_KEY_FILE" in caplog.text


def test_periodic_checkpoints_keep_coming_every_n_events(world: dict[str, Any], tmp_path: Path) -> None:
    from dualrec.services.evidence import ledger

    container: Container = world["container"]
    signer = generate_key_file(tmp_path / "k.pem", "ed25519")
    ledger.make_checkpoint(container.uows, _notary(container, signer))  # start from a checkpointed head
    checkpointer = ledger.PeriodicCheckpointer(container.uows, lambda: _notary(container, signer), 3)
    signed = []
    for i in range(7):
        with container.uows() as uow:
            ledger.record_event(
                uow, subject_type="task", subject_id="T-n", kind="status.changed", payload={"i": i}
            )
            uow.commit()
        cp = checkpointer()
        signed.append(cp.payload["seq"] if cp else None)
    with container.uows() as uow:
        head = uow.evidence.head()[0]
    assert [s for s in signed if s is not None] == [head - 4, head - 1]  # the 3rd and the 6th event


def test_checkpoint_command_signs_now_if_due_and_refuses_a_tsa(world: dict[str, Any]) -> None:
    from dualrec.services.evidence import ledger

    container: Container = world["container"]
    with container.uows() as uow:
        ledger.record_event(uow, subject_type="task", subject_id="T-cli", kind="status.changed", payload={})
        uow.commit()
        head = uow.evidence.head()[0]
    env = world["env"]
    due = CliRunner().invoke(evidence_app, ["checkpoint", "--if-due"], env=env)  # 1 event < 100
    assert due.exit_code == 0 and "no new checkpoint needed" in due.output, due.output
    now = CliRunner().invoke(evidence_app, ["checkpoint"], env=env)
    assert now.exit_code == 0 and f"checkpoint seq {head} " in now.output, now.output
    again = CliRunner().invoke(evidence_app, ["checkpoint"], env=env)
    assert again.exit_code == 0 and "no new checkpoint needed" in again.output
    tsa = CliRunner().invoke(
        evidence_app, ["checkpoint"], env={**env, "DUALREC_TSA_URL": "http://tsa.example"}
    )
    assert tsa.exit_code == 2 and "not implemented" in tsa.output
