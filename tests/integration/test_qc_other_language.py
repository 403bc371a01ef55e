"""QC with the real engines on recordings whose sound is not Mandarin: a real face photo on camera
while real English speech or real music plays (tests/data/other). The transcript and script checks
must not pass; the same recording with real Mandarin is the control that they can. A short English
phrase (1.45 s, too short for its language to be detected) spliced between two real Mandarin
clips is not passed silently: REVIEW with its times; the same splice with silence instead is clean."""

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


# Mandarin (asr_example.wav, 5.5 s), 0.4 s pause, then 1.45 s of "Front Left" (english_speech.wav
# 0–1.45 s) or as long a pause, 0.4 s pause, Mandarin again (question.wav, 6 s)
SPLICES = {"spliced_english": "other/english_speech.wav", "spliced_silence": None}


def sound_file(media: mf.MediaFactory, sound: str) -> Path:
    if sound in SOUNDS:
        return SOUNDS[sound]
    out = media.dir / f"{sound}.wav"
    if not out.exists():
        middle = SPLICES[sound]
        inputs = ["-i", str(mf.DATA / "speech" / "asr_example.wav")]
        inputs += ["-f", "lavfi", "-t", "0.4", "-i", "anullsrc=r=16000:cl=mono"]
        if middle is None:
            inputs += ["-f", "lavfi", "-t", "1.45", "-i", "anullsrc=r=16000:cl=mono"]
        else:
            inputs += ["-t", "1.45", "-i", str(mf.DATA / middle)]
        inputs += ["-f", "lavfi", "-t", "0.4", "-i", "anullsrc=r=16000:cl=mono"]
        inputs += ["-i", str(mf.DATA / "speech" / "question.wav")]
        graph = "".join(f"[{i}:a]aresample=16000,aformat=channel_layouts=mono[a{i}];" for i in range(5))
        graph += "".join(f"[a{i}]" for i in range(5)) + "concat=n=5:v=0:a=1[a]"
        mf._ffmpeg(*inputs, "-filter_complex", graph, "-map", "[a]", str(out))
    return out


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
            str(sound_file(media, sound)),
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
    assert res["transcript"].metrics["unheard_seconds"] == 0.0  # all of it is in the transcript
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


def test_a_short_english_phrase_between_mandarin_answers_is_not_passed_silently(
    media: mf.MediaFactory, engines: QcEngines
) -> None:
    report, res = qc(media, engines, "spliced_english")
    transcript = res["transcript"]
    print(f"\n[measure] Mandarin + 1.45 s English + Mandarin: {_said(transcript)}")
    said = "".join(s.text for s in report.context.transcript or ())
    assert "front" not in said.lower()  # nothing of it is taken for Mandarin
    assert transcript.status is CheckStatus.FAILED
    holes = [f for f in transcript.findings if "逐字稿中没有" in f.message or "语音不是普通话" in f.message]
    assert len(holes) == 1, transcript.findings
    hole = holes[0]
    # the English phrase lies at 5.9–7.35 s (after 5.5 s of Mandarin and a 0.4 s pause)
    assert hole.start is not None and hole.end is not None
    assert 5.3 <= hole.start <= 6.3 and 6.9 <= hole.end <= 7.9, (hole.start, hole.end)
    assert report.verdict.verdict is Verdict.REVIEW
    assert any(
        r.startswith("transcript:") and ("请试听" in r or "语音不是普通话" in r)
        for r in report.verdict.reasons
    )


def test_voice_missing_from_the_transcript_is_always_reported(
    media: mf.MediaFactory, engines: QcEngines
) -> None:
    """Mandarin, a 1.45 s pause, Mandarin: every stretch of voice of 1 s or more is either in the
    transcript or reported with its times (Whisper base drops the second clip here in some runs
    (its window starts with the pause): then that is reported, never a silently shorter transcript)."""
    report, res = qc(media, engines, "spliced_silence")
    transcript = res["transcript"]
    print(f"\n[measure] Mandarin + 1.45 s pause + Mandarin: {_said(transcript)}")
    said = [(s.start, s.end) for s in report.context.transcript or ()]
    reported = [(f.start or 0.0, f.end or 0.0) for f in transcript.findings if "逐字稿中没有" in f.message]
    for a, b in report.context.speech:
        if b - a < 1.0:
            continue
        in_transcript = any(s0 - 0.3 < b and a < s1 + 0.3 for s0, s1 in said)
        assert in_transcript or any(r0 <= a + 0.01 and b - 0.01 <= r1 for r0, r1 in reported), (a, b)
    assert not any(r1 <= 7.75 for _, r1 in reported)  # the first clip is transcribed (its statement)
    assert report.context.other_language == ()
