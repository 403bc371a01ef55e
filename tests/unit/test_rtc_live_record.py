"""The call's live analysis on the composite recording's timeline, and the ``live_call`` QC check.

The mapping is checked against the worker's own segmenter fed in (simulated) real time: a party
whose forward started 7.3 s into the recording, speaking 2 s on its audio clock, must land where
the recording has that speech — not at its audio-clock time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from dualrec.checks.base import CheckContext
from dualrec.checks.builtin import live_call
from dualrec.checks.catalog import default_thresholds
from dualrec.core.live_record import LiveCallRecord, LiveItem, live_record, speech_span
from dualrec.core.qc import CheckResult, CheckStatus, Finding, Severity
from dualrec.i18n import render
from dualrec.services.rtc.live_rules import FRAME_BYTES, FRAME_MS, Segmenter

T0 = datetime(2026, 12, 6, 1, 0, 0, tzinfo=UTC)
LOUD = b"\x10\x27" * (FRAME_BYTES // 2)
QUIET = b"\x00\x00" * (FRAME_BYTES // 2)


def _segments(plan: list[tuple[str, float]], wall0: float) -> list[Any]:
    """Feed (kind, seconds) of audio — "speech", "silence", or "lost" (packets that never arrived:
    wall time passes, the party's audio clock does not) — 30 ms at a time, stamped with the wall
    clock the frame would arrive at."""
    seg = Segmenter(is_speech=lambda f: f == LOUD)
    wall = wall0
    out = []
    for kind, seconds in plan:
        for _ in range(round(seconds * 1000 / FRAME_MS)):
            wall += FRAME_MS / 1000
            if kind == "lost":
                continue
            out += seg.push(LOUD if kind == "speech" else QUIET, wall)
    return out


def test_speech_lands_where_the_recording_has_it_not_at_its_audio_clock_time() -> None:
    # the worker's forward of this party started 7.3 s after the recording's first packet
    wall0 = (T0 + timedelta(seconds=7.3)).timestamp()
    [seg] = _segments([("silence", 2.0), ("speech", 2.0), ("silence", 1.5)], wall0)
    assert abs(seg.start - 2.0) < 0.2  # the party's audio clock: seconds since its forward began
    start, end = speech_span(seg.start, seg.end, datetime.fromtimestamp(seg.ended_at, UTC), T0, cut=seg.cut)
    assert abs(start - 9.3) < 0.1 and abs(end - 11.3) < 0.1


def test_lost_packets_shift_the_audio_clock_but_not_the_mapped_time() -> None:
    wall0 = (T0 + timedelta(seconds=3.0)).timestamp()
    [seg] = _segments(
        [("silence", 1.0), ("lost", 1.5), ("silence", 0.5), ("speech", 1.2), ("silence", 1)], wall0
    )
    assert abs(seg.start - 1.5) < 0.2  # 1.5 s behind the truth (3 + 1 + 1.5 + 0.5 = 6.0 s)
    start, end = speech_span(seg.start, seg.end, datetime.fromtimestamp(seg.ended_at, UTC), T0, cut=seg.cut)
    assert abs(start - 6.0) < 0.1 and abs(end - 7.2) < 0.1


def test_a_segment_cut_at_its_length_limit_ends_where_it_was_cut() -> None:
    wall0 = T0.timestamp()
    segs = _segments([("speech", 10.0), ("silence", 1.0)], wall0)
    first = segs[0]
    assert first.cut
    start, end = speech_span(
        first.start, first.end, datetime.fromtimestamp(first.ended_at, UTC), T0, cut=True
    )
    assert abs(start - 0.0) < 0.1 and abs(end - 8.0) < 0.1


@dataclass
class Row:
    id: int
    kind: str
    created_at: datetime
    speaker: str = "customer"
    code: str = ""
    node_id: str = ""
    text: str = ""
    reason: str = ""
    t_start: float | None = None
    t_end: float | None = None
    spoken_until: datetime | None = None
    details: dict[str, Any] = field(default_factory=dict)
    acked_at: datetime | None = None
    acked_by: str = ""


def _at(s: float) -> datetime:
    return T0 + timedelta(seconds=s)


def test_stored_rows_become_the_record_on_the_recording_timeline() -> None:
    rows = [
        Row(1, "status", _at(1), code="identity_unverified"),
        Row(2, "subtitle", _at(13), text="我确认", t_start=0.4, t_end=1.4, spoken_until=_at(12.6)),
        Row(
            3,
            "alert",
            _at(13.1),
            code="sensitive_word",
            text="这个保本吗",
            t_start=3.0,
            t_end=4.0,
            spoken_until=_at(20.6),
            details={"words": ["保本"], "cut": False},
            acked_at=_at(25),
            acked_by="agent1",
        ),
        # a segment cut at its length limit: no closing silence; its alert (stored without the flag
        # by older workers) takes the subtitle's
        Row(
            8,
            "subtitle",
            _at(31),
            text="长句",
            t_start=5.0,
            t_end=13.0,
            spoken_until=_at(30.0),
            details={"cut": True},
        ),
        Row(
            9,
            "alert",
            _at(31),
            code="sensitive_word",
            text="长句",
            t_start=5.0,
            t_end=13.0,
            spoken_until=_at(30.0),
            details={"words": ["长句"]},
        ),
        Row(4, "alert", _at(40.5), code="no_face"),
        Row(5, "status", _at(50), code="stats", details={"segments_dropped": 3}),
        Row(6, "alert", _at(-5), code="dark"),  # before the recording: clamped to its start
        Row(7, "alert", _at(500), code="dark"),  # after its end: clamped to its end
    ]
    rec = live_record(rows, T0, 60.0)
    assert [i.id for i in rec.items] == [6, 2, 3, 8, 9, 4, 7]
    assert [(i.start, i.end) for i in rec.items[3:5]] == [(22.0, 30.0), (22.0, 30.0)]
    sub = rec.items[1]
    assert (sub.kind, sub.start, sub.end, sub.text) == ("subtitle", 11.0, 12.0, "我确认")
    alert = rec.items[2]
    assert (alert.start, alert.end, alert.words, alert.acked_t, alert.acked_by) == (
        19.0,
        20.0,
        ("保本",),
        25.0,
        "agent1",
    )
    assert (rec.items[5].start, rec.items[5].end) == (40.5, None)
    assert rec.items[0].start == 0.0 and rec.items[6].start == 60.0
    assert rec.segments_dropped == 3 and rec.status_seen and not rec.identity_reference
    assert LiveCallRecord.from_dict(rec.to_dict()) == rec


# ---- the live_call QC check -------------------------------------------------------------------------


def _run(items: list[LiveItem], prior: tuple[CheckResult, ...] = (), **flags: Any) -> CheckResult:
    ctx = CheckContext(
        path="x.mp4",
        thresholds=default_thresholds(),
        live_call=LiveCallRecord(items=tuple(items), duration=120, status_seen=True, **flags),
        prior_results=prior,
    )
    return live_call.run(ctx)


def _en(f: Finding) -> str:
    assert f.key is not None
    return render(f.key, f.params, "en")


def test_an_unacknowledged_sensitive_word_makes_a_review_finding_with_time_words_and_subtitle() -> None:
    item = LiveItem(
        1, "alert", "customer", 19.0, 20.5, text="这个产品保本吗", code="sensitive_word", words=("保本",)
    )
    res = _run([item])
    assert res.status is CheckStatus.FAILED
    [f] = res.findings
    assert f.severity is Severity.MAJOR and (f.start, f.end) == (19.0, 20.5)
    assert f.evidence.quote == "这个产品保本吗"
    assert "not acknowledged" in _en(f) and "保本" in _en(f)
    assert "坐席未处理" in render(f.key or "", f.params, "zh-CN")
    assert res.metrics["unacknowledged"] == 1


def test_an_acknowledged_alert_is_info_with_who_and_when() -> None:
    item = LiveItem(
        1,
        "alert",
        "customer",
        30.0,
        31.0,
        text="我不同意",
        code="contradiction",
        node_id="risk",
        acked_t=33.0,
        acked_by="agent1",
    )
    res = _run([item])
    assert res.status is CheckStatus.PASSED
    [f] = res.findings
    assert f.severity is Severity.INFO and f.node_id == "risk"
    assert "acknowledged by agent1 at 33 s" in _en(f) and "node risk" in _en(f)


def _people_count(start: float, end: float) -> CheckResult:
    f = Finding("people_count", Severity.MAJOR, "同框人数不足 / fewer than two", start=start, end=end)
    return CheckResult("people_count", CheckStatus.FAILED, (f,))


def test_a_live_face_alert_the_recording_confirms_is_not_counted_twice() -> None:
    item = LiveItem(1, "alert", "customer", 42.0, code="no_face")
    res = _run([item], prior=(_people_count(38.0, 50.0),))
    assert res.status is CheckStatus.PASSED  # the people_count finding already makes the REVIEW
    [f] = res.findings
    assert f.severity is Severity.INFO and "people in frame" in _en(f) and "38–50 s" in _en(f)


def test_a_live_face_alert_the_recording_does_not_confirm_asks_for_review() -> None:
    item = LiveItem(1, "alert", "customer", 42.0, code="multiple_faces")
    # a people_count finding elsewhere in the call, and one of another kind at the time, confirm nothing
    res = _run([item], prior=(_people_count(80.0, 90.0),))
    assert res.status is CheckStatus.FAILED
    [f] = res.findings
    assert f.severity is Severity.MINOR and "found nothing" in _en(f) and f.evidence.frame_time == 42.0


def test_not_the_verified_customer_is_always_a_finding_and_worker_limits_are_stated() -> None:
    item = LiveItem(1, "alert", "customer", 5.0, code="not_customer")
    res = _run([item], asr_available=False, segments_dropped=4, identity_reference=True)
    severities = sorted(f.severity for f in res.findings)
    assert Severity.MAJOR in severities and res.status is CheckStatus.FAILED
    texts = " ".join(_en(f) for f in res.findings)
    assert "speech recognition was unavailable" in texts and "skipped 4 speech segments" in texts


def test_a_call_without_alerts_passes_and_other_recordings_leave_the_check_out() -> None:
    sub = LiveItem(1, "subtitle", "agent", 1.0, 3.0, text="您好")
    res = _run([sub])
    assert res.status is CheckStatus.PASSED and res.findings == () and res.metrics["subtitles"] == 1
    plain = CheckContext(path="x.mp4", thresholds=default_thresholds())
    assert not live_call.CHECK.enabled(plain)
    assert live_call.run(plain).status is CheckStatus.NOT_RUN


def test_video_the_worker_could_not_decode_is_said_on_the_record_and_in_qc() -> None:
    """A publisher whose video the live decoder cannot read (neither VP8 nor H.264) gets no live face
    checks; the worker says so once, and QC states it instead of passing the call silently."""
    from dualrec.services.rtc.live_worker import _UndecodableVideo

    watch = _UndecodableVideo()
    said = [watch.check(107, 100.0 + i * 0.04, decoded=0) for i in range(300)]  # 12 s of packets
    assert said.count(True) == 1 and said.index(True) >= _UndecodableVideo.PACKETS
    decoding = _UndecodableVideo()
    assert not any(decoding.check(96, 100.0 + i * 0.04, decoded=5) for i in range(300))

    record = live_record([Row(1, "status", _at(1), code="video_undecodable")], T0, 60.0)
    assert not record.video_decoded and record.faces_available
    res = _run([], video_decoded=False)
    [f] = res.findings
    assert f.severity is Severity.INFO and "could not be decoded live" in _en(f)
    assert res.status is CheckStatus.PASSED  # the recording's own face checks still judge the call
