"""Every check on synthetic recordings (fakes): a clean one passes; each defect injected alone makes
only its own check fail, at the right time (±1 s)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dualrec.core.flow import Flow, parse_flow
from dualrec.core.qc import CheckStatus, QcTask, Verdict
from dualrec.media.fakes import (
    FakeAudioSource,
    FakeFaceAnalyzer,
    FakeProbe,
    FakeScene,
    FakeSpeechRecognizer,
    FakeTextRecognizer,
    FakeVoiceActivityDetector,
)
from dualrec.media.ports import TranscriptSegment as Seg
from dualrec.pipeline.qc import QcReport, run_qc
from dualrec.pipeline.request import QcEngines, QcRequest

VALID_ID = "11010519491231002X"
CARD = [
    "姓名 张三",
    "性别男 民族汉",
    "出生1949年12月31日",
    "住址北京市朝阳区某某街道1号",
    f"公民身份号码{VALID_ID}",
]
FLOW: Flow = parse_flow(
    {
        "id": "demo",
        "mode": "self_service",
        "nodes": [
            {"id": "id", "type": "identity", "script": "请出示您的身份证"},
            {
                "id": "risk",
                "type": "risk_disclosure",
                "title": "风险揭示",
                "required_statements": ["本产品不保本，投资有风险，请您谨慎选择"],
            },
            {"id": "will", "type": "willingness", "title": "购买意愿", "script": "您是否同意购买本产品"},
            {"id": "end", "type": "end", "script": "感谢您的配合"},
        ],
    }
)
TRANSCRIPT = [
    Seg(0.5, 3.0, "您好，请出示您的身份证。"),
    Seg(4.0, 9.0, "本产品不保本，投资有风险，请您谨慎选择。"),
    Seg(10.0, 12.5, "您是否同意购买本产品？"),
    Seg(13.0, 14.0, "同意。"),
    Seg(16.0, 18.0, "感谢您的配合，再见。"),
]
TASK = QcTask(running_no="R-1", customer_name="张三", id_number=VALID_ID)


def run_scene(
    scene: FakeScene,
    *,
    transcript: list[Seg] | None = None,
    id_photo_person: int | None = None,
    **request: Any,
) -> QcReport:
    engines = QcEngines(
        probe=FakeProbe(scene.media_info()),
        frames=scene.frame_source(),
        audio=FakeAudioSource(scene.samples()),
        asr=FakeSpeechRecognizer(TRANSCRIPT if transcript is None else transcript, track=scene.samples()),
        vad=FakeVoiceActivityDetector(),
        faces=FakeFaceAnalyzer(),
        ocr=FakeTextRecognizer({1: CARD}),
    )
    request.setdefault("flow", FLOW)
    request.setdefault("task", TASK)
    return run_qc(QcRequest(Path("scene.mp4"), id_photo=scene.id_photo(id_photo_person), **request), engines)


def failed(report: QcReport) -> dict[str, Any]:
    """The checks that did not pass; liveness is proved only by a live session, so an upload's
    ``not_run`` liveness is expected here."""
    return {
        r.check_id: r
        for r in report.results
        if r.status is not CheckStatus.PASSED
        and not (r.check_id == "liveness" and r.status is CheckStatus.NOT_RUN)
    }


def clean(**defect: Any) -> FakeScene:
    defect.setdefault("duration", 20.0)
    return FakeScene(card=[(1.0, 6.0)], **defect)


def test_clean_recording_passes_every_check() -> None:
    report = run_scene(clean())
    assert failed(report) == {}
    assert report.verdict.verdict is Verdict.PASS and report.verdict.risk_score == 0
    nodes = {n.node_id: (n.start, n.end) for n in report.nodes}
    assert nodes["risk"][0] == pytest.approx(4.0, abs=0.5) and nodes["will"][0] == pytest.approx(
        10.0, abs=0.5
    )


@pytest.mark.parametrize(
    ("defect", "check_id", "start", "end"),
    [
        ({"black": [(8.0, 11.0)]}, "black_screen", 8.0, 11.0),
        ({"frozen": [(8.0, 12.0)]}, "frozen_picture", 8.0, 12.0),
        # silence after the last words: the ASR transcribes speech regions only, like a real one
        # (the fake's tone after it lasts 0.7 s: 1 s of sound that nothing in the transcript covers
        # would be the transcript check's finding)
        ({"duration": 25.2, "silence": [(19.5, 24.5)]}, "silence", 19.5, 24.5),
        ({"no_face": [(8.0, 12.0)]}, "face_presence", 8.0, 12.0),
        ({"extra_face": [(8.0, 11.0)]}, "people_count", 8.0, 11.0),
        ({"swap": [(12.0, 20.0)]}, "identity_consistency", 12.0, 20.0),
    ],
)
def test_each_defect_fails_only_its_check_at_the_right_time(
    defect: dict[str, Any], check_id: str, start: float, end: float
) -> None:
    report = run_scene(clean(**defect))
    bad = failed(report)
    # the stand-in does not match the ID photo either: that stretch fails identity_match too
    assert set(bad) == ({check_id, "identity_match"} if "swap" in defect else {check_id})
    finding = bad[check_id].findings[0]
    assert finding.start == pytest.approx(start, abs=1.0)
    assert finding.end == pytest.approx(end, abs=1.0)
    assert finding.evidence.frame_time is not None and start - 1 <= finding.evidence.frame_time <= end + 1
    assert report.verdict.verdict is not Verdict.PASS


def test_different_person_than_id_photo_fails_identity_only() -> None:
    report = run_scene(clean(), id_photo_person=7)
    bad = failed(report)
    assert set(bad) == {"identity_match"}
    assert report.verdict.verdict is Verdict.FAIL
    assert bad["identity_match"].metrics["median_distance"] > 0.6


def test_missing_second_person_in_a_human_interview() -> None:
    both = run_scene(
        clean(second_person=[(0.0, 20.0)]), task=QcTask(TASK.running_no, "张三", VALID_ID, "human")
    )
    assert failed(both) == {}
    alone = run_scene(
        clean(second_person=[(0.0, 9.0)]), task=QcTask(TASK.running_no, "张三", VALID_ID, "human")
    )
    assert set(failed(alone)) == {"people_count"}
    assert failed(alone)["people_count"].findings[0].start == pytest.approx(9.0, abs=1.0)


def test_id_card_number_mismatch_and_unseen_card() -> None:
    wrong = run_scene(clean(), task=QcTask("R-1", "张三", "110101199003074514"))
    assert set(failed(wrong)) == {"id_card"}
    assert failed(wrong)["id_card"].findings[0].start == pytest.approx(1.7, abs=1.0)
    unseen = run_scene(FakeScene(duration=20.0))
    assert set(failed(unseen)) == {"id_card"}
    assert "未在画面中识别到身份证" in failed(unseen)["id_card"].findings[0].message


def test_required_statement_missing_fails_script_coverage_at_its_node() -> None:
    transcript = [s for s in TRANSCRIPT if "保本" not in s.text]
    report = run_scene(clean(), transcript=transcript)
    assert set(failed(report)) == {"script_coverage"}
    f = failed(report)["script_coverage"].findings[0]
    assert f.node_id == "risk" and "覆盖率" in f.message


def test_sensitive_word_is_found_with_its_time() -> None:
    transcript = [*TRANSCRIPT, Seg(18.5, 19.8, "放心，这个稳赚不赔")]
    report = run_scene(clean(), transcript=transcript)
    assert set(failed(report)) == {"sensitive_words"}
    f = failed(report)["sensitive_words"].findings[0]
    assert "稳赚不赔" in f.message and f.start == pytest.approx(19.0, abs=1.0)
    assert f.evidence.quote is not None and "稳赚不赔" in f.evidence.quote


@pytest.mark.parametrize(
    ("answer", "severity"), [("不同意。", "critical"), ("", "major"), ("我再想想", "major")]
)
def test_customer_answer_that_is_not_yes_fails_answers(answer: str, severity: str) -> None:
    transcript = [s if s.text != "同意。" else Seg(13.0, 14.0, answer) for s in TRANSCRIPT]
    report = run_scene(clean(), transcript=[s for s in transcript if s.text])
    assert set(failed(report)) == {"answers"}
    f = failed(report)["answers"].findings[0]
    assert f.node_id == "will" and f.severity.value == severity
