"""The local agent's use cases with fake engines: paths restricted to the recording folders, one QC
per runningNo, the report stored once, recovery after a kill, QC items, the package built once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dualrec.core.agent_package import package_id, parse_manifest
from dualrec.db.agent_local import AgentStore
from dualrec.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from dualrec.media.fakes import (
    FakeAudioSource,
    FakeFaceAnalyzer,
    FakeProbe,
    FakeScene,
    FakeSpeechRecognizer,
    FakeTextRecognizer,
    FakeVoiceActivityDetector,
)
from dualrec.media.ports import TranscriptSegment
from dualrec.pipeline.request import QcEngines
from dualrec.services.device.agent import DeviceAgent, DeviceConfig, PackageChangedError


class CountingEngines:
    def __init__(self, scene: FakeScene) -> None:
        self.scene, self.calls = scene, 0

    def __call__(self) -> QcEngines:
        self.calls += 1
        s = self.scene
        return QcEngines(
            probe=FakeProbe(s.media_info()),
            frames=s.frame_source(),
            audio=FakeAudioSource(s.samples()),
            asr=FakeSpeechRecognizer([TranscriptSegment(1.0, 3.0, "您好，欢迎办理", 0.9)], track=s.samples()),
            vad=FakeVoiceActivityDetector(),
            faces=FakeFaceAnalyzer(),
            ocr=FakeTextRecognizer(),
        )


@pytest.fixture
def rec_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "recordings"
    folder.mkdir()
    (folder / "a.mp4").write_bytes(b"fake video bytes " * 1000)
    return folder


def make_agent(
    tmp_path: Path, rec_dir: Path, scene: FakeScene | None = None
) -> tuple[DeviceAgent, CountingEngines]:
    engines = CountingEngines(scene or FakeScene(duration=12.0, black=[(4.0, 8.0)]))
    agent = DeviceAgent(
        AgentStore(tmp_path / "agent" / "agent.sqlite3"),
        DeviceConfig(recording_dirs=(rec_dir,), work_dir=tmp_path / "agent", device_name="BJ-01"),
        engines,
    )
    return agent, engines


def test_file_paths_must_resolve_inside_the_recording_folders(tmp_path: Path, rec_dir: Path) -> None:
    agent, _ = make_agent(tmp_path, rec_dir)
    outside = tmp_path / "secret.mp4"
    outside.write_bytes(b"x")
    (rec_dir / "link.mp4").symlink_to(outside)
    assert agent.resolve_recording(str(rec_dir / "a.mp4")) == (rec_dir / "a.mp4").resolve()
    for path, error in [
        (str(outside), PermissionDeniedError),
        (str(rec_dir / "link.mp4"), PermissionDeniedError),  # a symlink pointing out
        (str(rec_dir / ".." / "secret.mp4"), PermissionDeniedError),
        ("recordings/a.mp4", InvalidInputError),  # relative
        (str(rec_dir / "missing.mp4"), NotFoundError),
        (str(rec_dir), NotFoundError),  # a folder, not a file
    ]:
        with pytest.raises(error):
            agent.resolve_recording(path)
    nowhere = DeviceAgent(agent.store, DeviceConfig((), tmp_path), agent._engines)
    with pytest.raises(PermissionDeniedError, match="no recording folder"):
        nowhere.resolve_recording(str(rec_dir / "a.mp4"))


def test_one_qc_per_running_no_and_the_report_is_stored_once(tmp_path: Path, rec_dir: Path) -> None:
    agent, engines = make_agent(tmp_path, rec_dir)
    task, started = agent.start_qc(running_no="R1", file_path=str(rec_dir / "a.mp4"), business_type="wealth")
    assert started and task.state == "queued"
    again, started = agent.start_qc(running_no="R1", file_path=str(rec_dir / "a.mp4"))
    assert not started and again.state == "queued"
    done = agent.run_next()
    assert done is not None and done.state == "done" and done.attempt == 1
    assert agent.run_next() is None and engines.calls == 1  # nothing left: not run twice
    assert done.check_data is not None and done.check_data["runningNo"] == "R1"
    black = next(i for i in done.check_data["check_list"] if i["check_items"] == "黑屏/遮挡")
    assert black["result"] == "不通过" and black["extra_info"]["image"]["image_path"].startswith("evidence/")
    frame = agent.evidence_path("R1", black["extra_info"]["image"]["image_path"])
    assert frame.is_file() and frame.read_bytes()[:2] == b"\xff\xd8"
    assert done.file_sha256 is not None and done.file_size == 17_000
    _, started = agent.start_qc(running_no="R1", file_path=str(rec_dir / "a.mp4"))
    assert not started and engines.calls == 1


def test_a_qc_killed_midway_runs_again_from_scratch(tmp_path: Path, rec_dir: Path) -> None:
    agent, _ = make_agent(tmp_path, rec_dir)
    agent.start_qc(running_no="R2", file_path=str(rec_dir / "a.mp4"))
    with agent.store.unit() as unit:  # what a kill -9 during QC leaves behind
        unit.update_task("R2", state="running", attempt=1, progress=0.4)
        unit.commit()
    stale = agent.evidence_dir("R2")
    stale.mkdir(parents=True)
    (stale / "old_frame.jpg").write_bytes(b"half-written")
    restarted, _ = make_agent(tmp_path, rec_dir)
    assert restarted.recover() == 1 and restarted.task("R2").state == "queued"
    done = restarted.run_next()
    assert done is not None and done.state == "done" and done.attempt == 2
    assert not (stale / "old_frame.jpg").exists()  # frames of the killed attempt are gone


def test_qc_items_restrict_the_report_and_its_verdict(tmp_path: Path, rec_dir: Path) -> None:
    agent, _ = make_agent(tmp_path, rec_dir)
    agent.start_qc(
        running_no="R3", file_path=str(rec_dir / "a.mp4"), check_items=["file_integrity", "黑屏/遮挡"]
    )
    done = agent.run_next()
    assert done is not None and done.check_data is not None and done.report is not None
    assert [i["check_items"] for i in done.check_data["check_list"]] == ["文件完整性", "黑屏/遮挡"]
    assert {c["id"] for c in done.report["checks"]} == {"file_integrity", "black_screen"}
    with pytest.raises(InvalidInputError, match="no_such_check") as err:
        agent.start_qc(running_no="R4", file_path=str(rec_dir / "a.mp4"), check_items=["no_such_check"])
    assert "black_screen" in err.value.details["known"]


def test_a_failed_qc_can_be_started_again(tmp_path: Path, rec_dir: Path) -> None:
    agent, _ = make_agent(tmp_path, rec_dir)
    agent.start_qc(running_no="R5", file_path=str(rec_dir / "a.mp4"))
    (rec_dir / "a.mp4").unlink()  # gone before its turn
    failed = agent.run_next()
    assert failed is not None and failed.state == "error" and "does not exist" in (failed.error or "")
    (rec_dir / "a.mp4").write_bytes(b"back again")
    task, started = agent.start_qc(running_no="R5", file_path=str(rec_dir / "a.mp4"))
    assert started and task.state == "queued" and task.error is None


def test_confirmation_and_the_package(tmp_path: Path, rec_dir: Path) -> None:
    agent, _ = make_agent(tmp_path, rec_dir)
    agent.start_qc(running_no="R6", file_path=str(rec_dir / "a.mp4"), business_type="wealth")
    with pytest.raises(ConflictError, match="QC is queued"):
        agent.confirm(running_no="R6", operator="E1")
    with pytest.raises(NotFoundError):
        agent.confirm(running_no="nope")
    agent.run_next()
    upload, added = agent.confirm(running_no="R6", operator="E1")
    assert added and upload.state == "queued"
    assert agent.confirm(running_no="R6", operator="E2") == (upload, False)
    manifest, paths = agent.package("R6")
    assert [f.role for f in manifest.files][:3] == ["recording", "report", "check_data"]
    assert {f.role for f in manifest.files[3:]} == {"evidence"} and len(manifest.files) > 3
    assert manifest.operator == "E1" and manifest.device == "BJ-01" and manifest.business_type == "wealth"
    assert all(p.is_file() and p.stat().st_size == f.size for f, p in zip(manifest.files, paths, strict=True))
    assert json.loads(paths[2].read_bytes())["runningNo"] == "R6"
    stored = agent.upload("R6")
    assert stored is not None and stored.package_id == package_id(manifest) and stored.size == manifest.size
    assert parse_manifest(stored.manifest) == manifest
    again, _ = agent.package("R6")  # a restarted agent resumes the very same package
    assert package_id(again) == package_id(manifest)


def test_a_recording_changed_after_its_qc_is_not_packaged(tmp_path: Path, rec_dir: Path) -> None:
    agent, _ = make_agent(tmp_path, rec_dir)
    agent.start_qc(running_no="R7", file_path=str(rec_dir / "a.mp4"))
    agent.run_next()
    agent.confirm(running_no="R7")
    (rec_dir / "a.mp4").write_bytes(b"edited afterwards")
    with pytest.raises(PackageChangedError, match="changed after its QC"):
        agent.package("R7")
