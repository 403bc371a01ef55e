"""A self-service session's live proof as the identity node's result: QC reports liveness, the ID card
and the face comparison from the session (source live_session, with the time), checks the recording
against the face verified live, and keeps looking for the card in the video when there is no proof."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from dualrec.core.flow import parse_flow
from dualrec.core.live_proof import Captured, CardProof, FaceMatchProof, LivenessProof, LiveProof
from dualrec.core.qc import CheckStatus, Severity, Verdict
from dualrec.media.fakes import (
    FakeAudioSource,
    FakeFaceAnalyzer,
    FakeProbe,
    FakeScene,
    FakeSpeechRecognizer,
    FakeTextRecognizer,
    FakeVoiceActivityDetector,
)
from dualrec.pipeline.qc import QcReport, run_qc
from dualrec.pipeline.report import native_report
from dualrec.pipeline.request import QcEngines, QcRequest
from dualrec.services.sessions.proof import live_proof

from .test_checks_defects import CARD, FLOW, TASK, TRANSCRIPT, run_scene
from .test_qc_identity_evidence import ListSink

AT = "2026-03-01T10:00:05+00:00"
PROOF = LiveProof(
    session_id="s-1",
    node_id="id",
    liveness=LivenessProof(True, ("shake", "nod"), Captured(AT, 1.5), frame_key="k-live"),
    front=CardProof(
        "front",
        True,
        Captured(AT, 2.5),
        name_matches=True,
        number_matches=True,
        number_valid=True,
        name="张*",
        id_number="110105********002X",
        image_key="k-front",
    ),
    back=CardProof("back", True, Captured(AT, 3.0), image_key="k-back"),
    face_match=FaceMatchProof(True, 0.41, 0.6, Captured(AT, 2.5)),
)


def _run(scene: FakeScene, proof: LiveProof | None, live_person: int | None = None) -> QcReport:
    """QC of ``scene`` (the fake engines) with the session's proof; the liveness frame shows
    ``live_person`` (the recording's customer when None)."""
    images = {"liveness": scene.id_photo(live_person), "front": scene.id_photo(), "back": scene.id_photo()}
    engines = QcEngines(
        probe=FakeProbe(scene.media_info()),
        frames=scene.frame_source(),
        audio=FakeAudioSource(scene.samples()),
        asr=FakeSpeechRecognizer(TRANSCRIPT, track=scene.samples()),
        vad=FakeVoiceActivityDetector(),
        faces=FakeFaceAnalyzer(),
        ocr=FakeTextRecognizer({1: CARD}),
    )
    request = QcRequest(
        Path("scene.mp4"),
        task=TASK,
        flow=FLOW,
        live_proof=proof,
        live_images=images if proof is not None else {},
    )
    return run_qc(request, engines, sink=ListSink())


def _by_id(report: QcReport) -> dict[str, Any]:
    return {r.check_id: r for r in report.results}


def test_the_session_proof_is_the_identity_nodes_result() -> None:
    scene = FakeScene(duration=20.0)  # the card is never shown to the camera: it was read live
    report = _run(scene, PROOF)
    checks = _by_id(report)
    assert checks["liveness"].status is CheckStatus.PASSED
    assert checks["liveness"].metrics == {
        "source": "live_session",
        "captured_at": AT,
        "time": 1.5,
        "actions": ["shake", "nod"],
        "passed": True,
    }
    assert checks["id_card"].status is CheckStatus.PASSED, checks["id_card"]
    assert checks["id_card"].metrics["source"] == "live_session"
    assert checks["id_card"].metrics["id_number"] == "110105********002X"
    match = checks["identity_match"]
    assert match.status is CheckStatus.PASSED
    assert match.metrics["live_distance"] == 0.41 and match.metrics["video_samples"] > 5
    assert report.verdict.verdict is Verdict.PASS, report.verdict.reasons

    identity = native_report(report)["identity"]
    assert identity["liveness"]["frame"] == "evidence/live_liveness.jpg"
    assert identity["liveness"]["actions"] == ["shake", "nod"] and identity["liveness"]["captured_at"] == AT
    sides = {c["side"]: c for c in identity["id_card"]}
    assert sides["front"]["frame"] == "evidence/idcard_front_live.jpg"  # protected like every card frame
    assert sides["front"]["source"] == "live_session" and sides["back"]["passed"] is True
    faces = identity["face_comparison"]
    assert faces["reference"] == "live_session" and faces["live"]["distance"] == 0.41
    assert all(s["match"] for s in faces["samples"])


def test_a_recording_of_someone_else_than_the_face_verified_live_fails() -> None:
    scene = FakeScene(duration=20.0)
    report = _run(scene, PROOF, live_person=7)  # the liveness face is person 7, the recording person 1
    match = _by_id(report)["identity_match"]
    assert match.status is CheckStatus.FAILED
    (f,) = match.findings
    assert f.severity is Severity.CRITICAL and "活体核验" in f.message
    assert report.verdict.verdict is Verdict.FAIL


def test_failed_proofs_are_findings_at_their_time() -> None:
    proof = replace(
        PROOF,
        liveness=LivenessProof(False, ("blink", "nod"), Captured(AT, 1.0), reason="超时 / timed out"),
        front=replace(PROOF.front, passed=False, number_matches=False),  # type: ignore[arg-type]
        back=None,
        face_match=FaceMatchProof(False, 0.82, 0.6, Captured(AT, 2.5)),
    )
    checks = _by_id(_run(FakeScene(duration=20.0), proof))
    live = checks["liveness"].findings[0]
    assert live.severity is Severity.CRITICAL and "超时" in live.message and live.start == 1.0
    messages = {f.message.split(" /")[0]: f.severity for f in checks["id_card"].findings}
    assert messages == {
        "证件号码与任务信息不符": Severity.CRITICAL,
        "会话中未识别到身份证国徽面": Severity.MAJOR,
    }
    assert any("0.82 > 0.60" in f.message for f in checks["identity_match"].findings)


def test_without_a_session_proof_the_card_is_looked_for_in_the_video() -> None:
    checks = _by_id(_run(FakeScene(duration=20.0), None))
    assert checks["liveness"].status is CheckStatus.NOT_RUN and "未做活体检测" in checks["liveness"].reason
    assert checks["id_card"].status is CheckStatus.FAILED
    assert "未在画面中识别到身份证正面" in checks["id_card"].findings[0].message


def test_liveness_only_identity_and_no_face_engine() -> None:
    proof = replace(PROOF, id_card_required=False, front=None, back=None)
    checks = _by_id(_run(FakeScene(duration=20.0), proof))
    assert checks["id_card"].status is CheckStatus.NOT_RUN and "未要求" in checks["id_card"].reason
    # the recording cannot be compared with the face verified live: not passed, said why
    bare = run_scene(FakeScene(duration=20.0), live_proof=PROOF, live_images={})
    match = _by_id(bare)["identity_match"]
    assert match.status is CheckStatus.NOT_RUN and "没有保存活体检测画面" in match.reason
    assert match.metrics["live_distance"] == 0.41
    assert bare.verdict.verdict is Verdict.REVIEW


def test_the_session_identity_becomes_the_proof_on_the_recordings_timeline() -> None:
    flow = parse_flow(
        {"mode": "self_service", "nodes": [{"id": "who", "type": "identity", "title": "身份核实"}]}
    )

    def captured(segment: int, t: float) -> dict[str, Any]:
        return {"captured": {"at": AT, "segment": segment, "t": t}}

    identity = {
        "liveness": {"passed": True, "actions": ["nod", "blink"], "blob_key": "kl", **captured(0, 4.0)},
        "id_card_front": {
            "passed": True,
            "name_matches": True,
            "number_matches": True,
            "number_valid": True,
            "name_masked": "张*",
            "id_number_masked": "110105********002X",
            "blob_key": "kf",
            **captured(1, 2.0),
        },
        "id_card_back": {"passed": True, "blob_key": "kb", **captured(1, 99.0)},
        "face_match": {"passed": True, "distance": 0.33, "threshold": 0.55, **captured(1, 2.0)},
        "pages_read": {},
    }
    proof = LiveProof.from_dict(live_proof(identity, "s-9", flow, {0: 10.0, 1: 5.0}) or {})
    assert proof.node_id == "who" and proof.liveness is not None and proof.liveness.frame_key == "kl"
    assert proof.liveness.captured == Captured(AT, 4.0)
    assert proof.front is not None and proof.front.captured.time == 12.0  # segment 1 starts at 10 s
    assert proof.back is not None and proof.back.captured.time == 15.0  # clipped to its segment's end
    assert proof.face_match == FaceMatchProof(True, 0.33, 0.55, Captured(AT, 12.0))
    assert proof.front.id_number == "110105********002X" and proof.front.image_key == "kf"
    # a session that never reached its identity node proved nothing live
    assert live_proof({"pages_read": {}}, "s-9", flow, {0: 10.0}) is None


def test_the_proofs_images_are_kept_with_the_recording_and_deleted_with_it() -> None:
    from dualrec.services.archive.deletion import _recording_keys

    assert PROOF.image_keys() == {"liveness": "k-live", "front": "k-front", "back": "k-back"}
    inputs = {"id_photo_key": "k-front", "live_proof": PROOF.to_dict()}
    keys = _recording_keys("k-video", inputs, {"report": "k-report"})
    assert sorted(keys) == ["k-back", "k-front", "k-live", "k-report", "k-video"]  # each once
