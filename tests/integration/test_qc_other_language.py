"""QC with the real engines on recordings whose sound is not Mandarin: a real face photo on camera
while real English speech or real music plays (tests/data/other). The transcript and script checks
must not pass; the same recording with real Mandarin is the control that they can."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from dualrec.bootstrap.engines import build_qc_engines
from dualrec.core.flow import parse_flow
from dualrec.core.qc import CheckResult, CheckStatus, Verdict
from dualrec.pipeline.qc import QcReport, run_qc
from dualrec.pipeline.report import native_report
from dualrec.pipeline.request import QcEngines, QcRequest
from tests import media_factory as mf

pytestmark = pytest.mark.slow  # three short recordings through the real engines, ~30 s

FLOW = parse_flow(
    {
        "id": "demo",
        "nodes": [
            {"id": "open", "type": "risk_disclosure", "title": "开场", "required_statements": [mf.OPENING]}
        ],
    }
)
SOUNDS = {
    "mandarin": mf.DATA / "speech" / "asr_example.wav",
    "english": mf.DATA / "other" / "english_speech.wav",
    "music": mf.DATA / "other" / "music.wav",
}


def _cache() -> Path:
    digest = hashlib.sha256(Path(__file__).read_bytes() + Path(mf.__file__).read_bytes()).hexdigest()[:10]
    return Path(tempfile.gettempdir()) / f"dualrec-qc-language-{os.getuid()}-{digest}"


@pytest.fixture(scope="module")
def media() -> mf.MediaFactory:
    why = mf.available()
    if why is not None:
        pytest.fail(why)
    return mf.MediaFactory(_cache())


@pytest.fixture(scope="module")
def engines() -> Iterator[QcEngines]:
    eng = build_qc_engines(data_dir=_cache() / "data", cpu_threads=2, ocr=False)
    assert eng.unavailable == {}, eng.unavailable
    yield eng


def recording(media: mf.MediaFactory, sound: str) -> Path:
    """A real face photo moving over a textured room for as long as the sound lasts (H.264/AAC)."""
    out = media.dir / f"on_camera_{sound}.mp4"
    if not out.exists():
        mf._ffmpeg(
            "-loop",
            "1",
            "-framerate",
            str(mf.FPS),
            "-i",
            str(media.room()),
            "-loop",
            "1",
            "-framerate",
            str(mf.FPS),
            "-i",
            str(media.scaled("obama.jpg", 320)),
            "-i",
            str(SOUNDS[sound]),
            "-filter_complex",
            "[0:v][1:v]overlay=x='60+30*sin(t)':y=20,noise=alls=8:allf=t[v]",
            "-map",
            "[v]",
            "-map",
            "2:a",
            "-shortest",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-b:a",
            "96k",
            str(out),
        )
    return out


def qc(media: mf.MediaFactory, engines: QcEngines, sound: str) -> tuple[QcReport, dict[str, CheckResult]]:
    photo = mf.load_rgb(mf.DATA / "faces" / "obama1.jpg")
    report = run_qc(QcRequest(recording(media, sound), flow=FLOW, id_photo=photo), engines)
    return report, {r.check_id: r for r in report.results}


def _said(result: CheckResult) -> list[tuple[str, str | None]]:
    return [(f.message, f.evidence.quote) for f in result.findings]


def test_mandarin_on_camera_passes_the_transcript_and_script_checks(
    media: mf.MediaFactory, engines: QcEngines
) -> None:
    report, res = qc(media, engines, "mandarin")
    assert res["transcript"].status is CheckStatus.PASSED, res["transcript"].findings
    assert res["script_coverage"].status is CheckStatus.PASSED, res["script_coverage"].findings
    assert report.context.other_language == ()


def test_english_speech_does_not_pass_as_a_mandarin_transcript(
    media: mf.MediaFactory, engines: QcEngines
) -> None:
    report, res = qc(media, engines, "english")
    print(f"\n[measure] English on camera: {_said(res['transcript'])}")
    assert not "".join(s.text for s in report.context.transcript or ())  # nothing taken as Mandarin
    transcript = res["transcript"]
    assert transcript.status is CheckStatus.FAILED
    [f] = transcript.findings
    assert "语音不是普通话" in f.message and "英语" in f.message
    assert f.evidence.quote and "front" in f.evidence.quote.lower()
    assert f.confidence is not None and f.confidence > 0.9  # 1 − the engine's probability of Mandarin
    assert res["script_coverage"].status is CheckStatus.FAILED
    assert report.verdict.verdict is not Verdict.PASS
    reported = {c["id"]: c for c in native_report(report)["checks"]}["transcript"]
    assert reported["status"] == "failed" and "语音不是普通话" in reported["findings"][0]["message"]


def test_music_does_not_pass_as_a_mandarin_transcript(media: mf.MediaFactory, engines: QcEngines) -> None:
    report, res = qc(media, engines, "music")
    print(f"\n[measure] music on camera: {_said(res['transcript'])}")
    assert not "".join(s.text for s in report.context.transcript or ())
    transcript = res["transcript"]
    assert transcript.status is CheckStatus.FAILED
    assert any("语音不是普通话" in f.message or "没有识别出普通话" in f.message for f in transcript.findings)
    assert res["script_coverage"].status is CheckStatus.FAILED
    assert report.verdict.verdict is not Verdict.PASS
