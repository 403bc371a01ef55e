"""The call_quality QC check: stretches under the SPEC §8 minimum, recording gaps and silent
reporters become findings with their times; other recordings are not checked."""

from __future__ import annotations

from dualrec.checks.base import CheckContext
from dualrec.checks.builtin import call_quality
from dualrec.checks.catalog import default_thresholds
from dualrec.core.call_quality import CallQuality, QualitySample, RecordingGap
from dualrec.core.qc import CheckStatus, Severity


def _good(t: float, role: str) -> QualitySample:
    return QualitySample(t=t, role=role, width=1280, height=720, fps=30, loss_pct=0.5, mos=4.3, grade="A")


def _weak(t: float, role: str) -> QualitySample:
    return QualitySample(
        t=t,
        role=role,
        width=320,
        height=180,
        fps=7,
        loss_pct=30,
        jitter_ms=300,
        rtt_ms=500,
        mos=1.9,
        grade="D",
    )


def _ctx(q: CallQuality | None) -> CheckContext:
    return CheckContext(path="x.mp4", thresholds=default_thresholds(), call_quality=q)


def test_a_good_call_passes_and_keeps_its_series() -> None:
    samples = tuple(_good(t, r) for t in range(2, 31, 2) for r in ("customer", "agent"))
    res = call_quality.run(_ctx(CallQuality(samples=samples, duration=30)))
    assert res.status is CheckStatus.PASSED and res.findings == ()
    assert res.metrics["customer"]["mos_min"] == 4.3  # type: ignore[index]
    assert len(res.metrics["series"]) == 30  # type: ignore[arg-type]


def test_a_weak_stretch_is_a_finding_with_its_times_and_the_worst_figures() -> None:
    # the customer's side receives a weak call from 10 s to 20 s (samples at 12..20 describe 10..20)
    samples = tuple(
        (_weak(t, "customer") if 12 <= t <= 20 else _good(t, "customer")) for t in range(2, 41, 2)
    ) + tuple(_good(t, "agent") for t in range(2, 41, 2))
    res = call_quality.run(_ctx(CallQuality(samples=samples, duration=40)))
    assert res.status is CheckStatus.FAILED
    [f] = res.findings
    assert (f.start, f.end, f.severity) == (10.0, 20.0, Severity.MAJOR)
    assert "客户端" in f.message and "音频、视频" in f.message and "MOS 1.90" in f.message
    assert "320×180 7fps" in f.message and "loss 30%" in f.message
    assert res.metrics["customer"]["below_minimum_ratio"] == 0.25  # type: ignore[index]


def test_a_short_dip_is_not_a_finding() -> None:
    samples = tuple((_weak(t, "agent") if t in (10, 12) else _good(t, "agent")) for t in range(2, 31, 2))
    res = call_quality.run(_ctx(CallQuality(samples=samples, duration=30, parties=("agent",))))
    assert res.findings == ()  # 4 s < min_duration 6 s


def test_recording_gaps_and_silent_reporters_are_findings() -> None:
    samples = tuple(_good(t, "customer") for t in (*range(2, 11, 2), *range(30, 41, 2)))
    q = CallQuality(
        samples=samples,
        gaps=(RecordingGap("customer", "video", 12.0, 28.0),),
        duration=40,
        parties=("customer",),
    )
    res = call_quality.run(_ctx(q))
    assert res.status is CheckStatus.FAILED
    by_start = {(f.start, f.severity): f.message for f in res.findings}
    assert "录制缺失：客户视频 16s" in by_start[(12.0, Severity.MAJOR)]
    assert "no quality reports from the customer's side for 20 s" in by_start[(10.0, Severity.MINOR)]


def test_no_reports_at_all_is_said_and_other_recordings_are_not_checked() -> None:
    res = call_quality.run(_ctx(CallQuality(duration=20)))
    assert [f.severity for f in res.findings] == [Severity.MINOR]
    assert "no call-quality reports" in res.findings[0].message
    assert call_quality.run(_ctx(None)).status is CheckStatus.NOT_RUN
    # a recording that is no remote-interview call does not list the check at all (not a not_run line)
    assert call_quality.CHECK.enabled(_ctx(None)) is False
    assert call_quality.CHECK.enabled(_ctx(CallQuality(duration=20))) is True


def _janus(t: float, party: str, *, loss: float, jitter: float = 20.0, rtt: float = 80.0) -> QualitySample:
    """Janus' view of what it received from ``party`` over the 5 s before ``t`` (no MOS of its own)."""
    return QualitySample(
        t=t, role=f"janus-{party}", audio_kbps=32, video_kbps=600, loss_pct=loss, jitter_ms=jitter, rtt_ms=rtt
    )


def test_audio_the_server_received_degraded_is_a_finding_even_when_the_browsers_said_it_was_fine() -> None:
    # both browsers report a good call throughout, but Janus lost 35 % of the customer's audio
    # packets from 15 s to 30 s: the recording itself carries that stretch degraded
    browsers = tuple(_good(t, r) for t in range(2, 41, 2) for r in ("customer", "agent"))
    server = tuple(
        _janus(t, "customer", loss=35 if 20 <= t <= 30 else 0.5, jitter=120 if 20 <= t <= 30 else 10)
        for t in range(5, 41, 5)
    ) + tuple(_janus(t, "agent", loss=0.2) for t in range(5, 41, 5))
    res = call_quality.run(_ctx(CallQuality(samples=browsers + server, duration=40)))
    assert res.status is CheckStatus.FAILED
    [f] = res.findings
    assert (f.start, f.end, f.severity) == (15.0, 30.0, Severity.MAJOR)
    assert "服务器收到的客户音频低于最低要求 15s" in f.message and "丢包 35%" in f.message
    assert res.metrics["server"]["customer"]["audio_mos_min"] <= 3.0  # type: ignore[index]
    assert res.metrics["server"]["agent"]["audio_mos_min"] > 4.0  # type: ignore[index]


def test_one_bad_server_interval_is_not_a_finding_and_video_loss_alone_is_not_judged() -> None:
    # a single 5 s interval of loss (< min_duration 6 s); video packets Janus missed before NACKs
    # repaired them say nothing about the recording
    server = tuple(_janus(t, "customer", loss=40 if t == 15 else 0.5) for t in range(5, 31, 5))
    server += tuple(
        QualitySample(t=t, role="janus-agent", loss_pct=0.1, video_loss_pct=25.0, rtt_ms=50)
        for t in range(5, 31, 5)
    )
    browsers = tuple(_good(t, r) for t in range(2, 31, 2) for r in ("customer", "agent"))
    res = call_quality.run(_ctx(CallQuality(samples=browsers + server, duration=30)))
    assert res.status is CheckStatus.PASSED and res.findings == ()
