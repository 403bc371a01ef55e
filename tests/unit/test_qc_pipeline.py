"""The QC pipeline: robustness (a broken check/engine never aborts the report), not-run reasons,
one decode pass, progress, evidence sink, report formats, plugin registry, generated docs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dualrec.checks import registry as registry_mod
from dualrec.checks.base import CheckContext, FunctionCheck
from dualrec.checks.catalog import CATALOG, render_markdown
from dualrec.checks.registry import CheckRegistry
from dualrec.core.qc import CheckResult, CheckStatus, Verdict
from dualrec.media.fakes import (
    FakeAudioSource,
    FakeFaceAnalyzer,
    FakeProbe,
    FakeProgress,
    FakeScene,
    FakeSpeechRecognizer,
    FakeTextRecognizer,
    FakeVoiceActivityDetector,
)
from dualrec.media.ports import Image
from dualrec.media.ports import TranscriptSegment as Seg
from dualrec.pipeline.qc import run_qc
from dualrec.pipeline.report import native_report, patent_report
from dualrec.pipeline.request import QcEngines, QcRequest

ROOT = Path(__file__).resolve().parents[2]


def engines(scene: FakeScene, **over: Any) -> QcEngines:
    parts: dict[str, Any] = {
        "probe": FakeProbe(scene.media_info()),
        "frames": scene.frame_source(),
        "audio": FakeAudioSource(scene.samples()),
        "asr": FakeSpeechRecognizer([Seg(1.0, 3.0, "您好")], track=scene.samples()),
        "vad": FakeVoiceActivityDetector(),
        "faces": FakeFaceAnalyzer(),
        "ocr": FakeTextRecognizer(),
    }
    parts.update(over)
    return QcEngines(**parts)


def by_id(results: tuple[CheckResult, ...]) -> dict[str, CheckResult]:
    return {r.check_id: r for r in results}


class ListSink:
    def __init__(self) -> None:
        self.images: dict[str, Image] = {}

    def put(self, name: str, image: Image) -> str:
        self.images[name] = image
        return f"evidence/{name}"


def test_one_decode_pass_and_face_detection_on_a_subsample() -> None:
    scene = FakeScene(duration=30.0)
    eng = engines(scene)
    report = run_qc(QcRequest(Path("a.mp4")), eng)
    assert eng.frames.scans == 1  # type: ignore[attr-defined]
    faces = eng.faces
    assert isinstance(faces, FakeFaceAnalyzer)
    samples = sum(1 for f in report.context.frames if f.faces is not None)
    assert 25 <= samples <= 32  # ~1 per second of a 30 s recording at 25 fps
    # at most two searches a sample (the faces' scale, and where the picture changed: any size)
    assert samples <= faces.detect_calls <= 2 * samples
    assert faces.embed_calls <= 10


def test_unopenable_file_still_gives_a_failing_report() -> None:
    scene = FakeScene(duration=5.0)
    report = run_qc(QcRequest(Path("t.mp4")), engines(scene, probe=FakeProbe(error="Invalid data found")))
    res = by_id(report.results)
    assert res["file_integrity"].status is CheckStatus.FAILED
    assert "Invalid data found" in res["file_integrity"].findings[0].message
    assert res["black_screen"].status is CheckStatus.NOT_RUN and res["silence"].status is CheckStatus.NOT_RUN
    assert report.verdict.verdict is Verdict.FAIL


def test_truncated_stream_is_reported_at_its_time() -> None:
    scene = FakeScene(duration=20.0)
    report = run_qc(QcRequest(Path("t.mp4")), engines(scene, frames=scene.frame_source(stop_at=12.0)))
    f = by_id(report.results)["file_integrity"].findings[0]
    assert f.start == pytest.approx(12.0, abs=0.1) and "截断" in f.message
    assert report.verdict.verdict is Verdict.FAIL


def test_audio_only_and_video_only() -> None:
    scene = FakeScene(duration=10.0)
    audio_only = run_qc(
        QcRequest(Path("a.m4a")), engines(scene, probe=FakeProbe(scene.media_info(video=False)))
    )
    res = by_id(audio_only.results)
    assert (
        "无视频流" in res["file_integrity"].findings[0].message
        or "no video" in res["file_integrity"].findings[0].message
    )
    assert res["face_presence"].status is CheckStatus.NOT_RUN and res["silence"].status is CheckStatus.PASSED
    video_only = run_qc(
        QcRequest(Path("v.mp4")),
        engines(scene, probe=FakeProbe(scene.media_info(audio=False)), audio=FakeAudioSource(None)),
    )
    res = by_id(video_only.results)
    assert "no audio stream" in res["file_integrity"].findings[0].message
    assert (
        res["transcript"].status is CheckStatus.NOT_RUN and res["black_screen"].status is CheckStatus.PASSED
    )


def test_missing_inputs_say_why_and_never_pass() -> None:
    scene = FakeScene(duration=10.0)
    report = run_qc(
        QcRequest(Path("a.mp4")), engines(scene, faces=None, asr=None, unavailable={"asr": "no model"})
    )
    res = by_id(report.results)
    assert res["identity_match"].status is CheckStatus.NOT_RUN
    assert res["identity_match"].reason == "未提供身份证照片 / no ID photo supplied"
    assert res["transcript"].reason == "no model"
    assert res["face_presence"].status is CheckStatus.NOT_RUN and "人脸" in (
        res["face_presence"].reason or ""
    )
    assert report.verdict.verdict is not Verdict.PASS
    assert any("identity_match" in r for r in report.verdict.reasons)


def test_id_photo_without_a_face_says_so() -> None:
    scene = FakeScene(duration=5.0)
    blank = np.full((200, 200, 3), 128, dtype=np.uint8)
    report = run_qc(QcRequest(Path("a.mp4"), id_photo=blank), engines(scene))
    assert "未检测到人脸" in (by_id(report.results)["identity_match"].reason or "")


def test_a_crashing_check_or_engine_does_not_abort_the_others() -> None:
    def boom(ctx: CheckContext) -> CheckResult:
        raise RuntimeError("kaput")

    reg = CheckRegistry(load_plugins=False)
    reg.register(FunctionCheck("boom", boom))

    class BrokenFaces(FakeFaceAnalyzer):
        def detect(self, image: Image, *, min_face: int | None = None) -> list[Any]:
            raise RuntimeError("dlib exploded")

    scene = FakeScene(duration=10.0)
    report = run_qc(QcRequest(Path("a.mp4")), engines(scene, faces=BrokenFaces()), registry=reg)
    res = by_id(report.results)
    assert res["boom"].status is CheckStatus.ERROR and "kaput" in (res["boom"].reason or "")
    # an engine error, named, on every face check (not a defect of the recording, not "not run")
    for check_id in ("face_presence", "people_count", "identity_consistency", "portrait"):
        assert res[check_id].status is CheckStatus.ERROR
        assert "dlib exploded" in (res[check_id].reason or "")
    assert res["file_integrity"].status is CheckStatus.PASSED
    assert res["black_screen"].status is CheckStatus.PASSED
    assert report.verdict.verdict is Verdict.REVIEW


def test_progress_is_monotonic_and_ends_at_one() -> None:
    progress = FakeProgress()
    run_qc(QcRequest(Path("a.mp4")), engines(FakeScene(duration=30.0)), progress=progress)
    fractions = [f for _, f in progress.updates]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(fractions) > 6
    assert {"visual", "audio", "ocr"} <= {s for s, _ in progress.updates}


def test_evidence_frames_go_through_the_sink_and_reports_point_at_them() -> None:
    scene = FakeScene(duration=20.0, black=[(8.0, 11.0)])
    sink = ListSink()
    report = run_qc(QcRequest(Path("dir/rec.mp4")), engines(scene), sink=sink)
    black = by_id(report.results)["black_screen"].findings[0]
    assert black.evidence.frame_ref in {f"evidence/{n}" for n in sink.images}
    assert "portrait.jpg" in sink.images and report.portrait_ref == "evidence/portrait.jpg"
    assert len(report.keyframes) == 6
    native = json.loads(json.dumps(native_report(report), ensure_ascii=False))
    assert native["verdict"] == "REVIEW" and native["video_info"]["name"] == "rec.mp4"
    item = next(c for c in native["checks"] if c["id"] == "black_screen")
    assert item["findings"][0]["evidence"]["frame"] == black.evidence.frame_ref


def test_patent_report_fields_are_byte_compatible() -> None:
    scene = FakeScene(duration=20.0, black=[(8.0, 11.0)])
    report = run_qc(QcRequest(Path("rec.mp4")), engines(scene), sink=ListSink())
    doc = patent_report(report)
    assert set(doc) == {"runningNo", "video_info", "audio_recg", "check_list"}
    assert set(doc["video_info"]) == {"name", "width", "height", "video_time", "audio_time", "fps"}
    assert doc["audio_recg"] == "您好"
    for item in doc["check_list"]:
        assert set(item) == {"check_items", "check_comment", "result", "conf", "extra_info"}
        assert item["result"] in ("通过", "不通过")
        assert set(item["extra_info"]) == {"image", "audio", "text"}
        assert set(item["extra_info"]["image"]) == {"image_time", "image_path"}
        assert set(item["extra_info"]["audio"]) == {"audio_time", "audio_content"}
    black = next(i for i in doc["check_list"] if i["check_items"] == "黑屏/遮挡")
    assert black["result"] == "不通过" and black["extra_info"]["image"]["image_path"].endswith(".jpg")
    not_run = next(i for i in doc["check_list"] if i["check_items"] == "人证比对")
    assert not_run["result"] == "不通过" and "未检查" in not_run["check_comment"]


def test_registry_skips_a_broken_plugin(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    class EP:
        def __init__(self, name: str, obj: Any) -> None:
            self.name, self.obj = name, obj

        def load(self) -> Any:
            if isinstance(self.obj, Exception):
                raise self.obj
            return self.obj

    good = FunctionCheck("vendor_llm", lambda ctx: CheckResult("vendor_llm", CheckStatus.PASSED))
    monkeypatch.setattr(
        registry_mod,
        "entry_points",
        lambda group: [EP("bad", ImportError("no module")), EP("good", good), EP("junk", 42)],
    )
    registry_mod.reset_registry()
    try:
        reg = registry_mod.get_registry()
        ids = [c.id for c in reg.checks()]
        assert ids[-1] == "vendor_llm" and len(ids) == len(CATALOG) + 1
        assert "skipping broken QC check plugin bad" in caplog.text
    finally:
        registry_mod.reset_registry()


def test_thresholds_are_configurable() -> None:
    scene = FakeScene(duration=20.0, silence=[(8.0, 11.0)])
    strict = run_qc(QcRequest(Path("a.mp4")), engines(scene))
    lenient = run_qc(QcRequest(Path("a.mp4"), thresholds={"silence": {"min_duration": 5.0}}), engines(scene))
    assert by_id(strict.results)["silence"].status is CheckStatus.PASSED  # 3 s < default 4 s
    short = run_qc(QcRequest(Path("a.mp4"), thresholds={"silence": {"min_duration": 2.0}}), engines(scene))
    assert by_id(short.results)["silence"].status is CheckStatus.FAILED
    assert by_id(lenient.results)["silence"].status is CheckStatus.PASSED
    with pytest.raises(KeyError):
        run_qc(QcRequest(Path("a.mp4"), thresholds={"silence": {"nope": 1.0}}), engines(scene))


def test_checks_doc_is_generated_from_the_catalog() -> None:
    doc = (ROOT / "docs" / "checks.md").read_text(encoding="utf-8")
    assert doc == render_markdown(), "docs/checks.md is stale: regenerate with render_markdown()"


def test_ocr_runs_only_when_the_flow_may_show_a_card() -> None:
    from dualrec.core.flow import parse_flow

    scene = FakeScene(duration=10.0)
    no_card = parse_flow(
        {"nodes": [{"id": "r", "type": "risk_disclosure", "required_statements": ["不保本"]}]}
    )
    eng = engines(scene)
    report = run_qc(QcRequest(Path("a.mp4"), flow=no_card), eng)
    assert isinstance(eng.ocr, FakeTextRecognizer) and eng.ocr.calls == 0
    assert "没有出示证件的节点" in (by_id(report.results)["id_card"].reason or "")
    with_card = parse_flow({"nodes": [{"id": "i", "type": "identity", "script": "请出示身份证"}]})
    eng = engines(scene)
    run_qc(QcRequest(Path("a.mp4"), flow=with_card), eng)
    assert isinstance(eng.ocr, FakeTextRecognizer) and eng.ocr.calls == 6


def test_the_audio_pass_runs_while_the_video_is_decoded() -> None:
    import threading

    from dualrec.media.ports import AudioBlocks

    scene = FakeScene(duration=10.0)
    audio_started = threading.Event()

    class WaitingFrames:
        """Decodes only once the audio pass has begun: run one after the other, this would stall."""

        def __init__(self) -> None:
            self.inner = scene.frame_source()

        def scan(self, path: Path, **kw: Any) -> Any:
            assert audio_started.wait(10.0), "the audio pass did not start during the visual pass"
            return self.inner.scan(path, **kw)

    class SignallingAudio(FakeAudioSource):
        def stream(self, path: Path, *, sample_rate: int = 16000, block_seconds: float = 10.0) -> AudioBlocks:
            audio_started.set()
            return super().stream(path, sample_rate=sample_rate, block_seconds=block_seconds)

    progress = FakeProgress()
    eng = engines(scene, frames=WaitingFrames(), audio=SignallingAudio(scene.samples()))
    report = run_qc(QcRequest(Path("a.mp4")), eng, progress=progress)
    assert report.stage_errors == {}
    assert {"visual", "audio", "visual+audio"} <= set(report.stage_seconds)
    assert "visual" not in report.stage_cpu_seconds and "visual+audio" in report.stage_cpu_seconds
    assert by_id(report.results)["transcript"].status is CheckStatus.PASSED
    assert by_id(report.results)["black_screen"].status is CheckStatus.PASSED
    fractions = [f for _, f in progress.updates]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
