"""Live subtitles and risk alerts of a remote interview, end to end (issue 17): Janus in a network
namespace and `dualrec serve` with the live analysis on (the module fixture of test_rtc_queue.py),
two Chromium instances whose fake microphones play REAL recorded Mandarin from tests/data/speech
(the customer: asr_example.wav, "欢迎大家来体验达摩院推出的语音识别模型"; the agent:
news_long.wav, "富士康在印度工厂出现大规模感染…") and whose fake camera shows a real face photo.

The server's live worker (a process started with the call) gets both parties' RTP from Janus
(`rtp_forward`), decodes it, cuts the speech by VAD and transcribes it: the desk shows subtitles of
both sides with the expected words, and a pop-up risk alert for a sensitive word the customer says
(the list is edited to hold 体验, a word of the clip), which the interviewer acknowledges. The
identity is shown as not verified (a human-routed task has no face verified before the call). At
the hang-up the worker stops. Prints the subtitle lag (end of speech → on the desk) and the
worker's CPU. A second call whose customer browser offers its camera as H.264 only: the worker
finds the codec from the packets and runs the face checks on H.264 pictures; the recording is
composed and QC'd.

Needs root (ip netns), janus, the front end and the ASR/face models; skipped elsewhere, failing
under CI=true.
"""

from __future__ import annotations

import os
import statistics
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import TEST_DATA
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.h5_support import write_y4m
from tests.e2e.test_rtc_call import _customer_joins, _wait
from tests.e2e.test_rtc_queue import (
    RTC_ARGS,
    RtcSystem,
    _agent,
    _connected,
    _context,
    _task,
    rtc_system,
)
from tests.rtc_support import log_in, recorded

__all__ = ["rtc_system"]

SENSITIVE = "体验"  # said by the customer's clip; added to the list for this test


@pytest.fixture(scope="module")
def live_env() -> Iterator[None]:
    """The live analysis on for the module's `dualrec serve` (requested before rtc_system)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("DUALREC_RTC_LIVE_ENABLED", "true")
    yield
    mp.undo()


@pytest.fixture(scope="module")
def live_system(live_env: None, rtc_system: RtcSystem) -> RtcSystem:
    return rtc_system


def _looped_wav(name: str, out: Path, pause_s: float = 2.0) -> Path:
    """The clip followed by a pause (Chromium loops the file as the microphone)."""
    with wave.open(str(TEST_DATA / "speech" / name), "rb") as w:
        rate, frames = w.getframerate(), w.readframes(w.getnframes())
        assert w.getnchannels() == 1 and w.getsampwidth() == 2
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames + b"\0\0" * int(rate * pause_s))
    return out


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from tests.live_frames import framed, photo

    out = tmp_path_factory.mktemp("rtc-live-media")
    from dualrec.media.models.dlib_faces import DlibFaceAnalyzer

    img = photo("obama.jpg")
    frame = framed(img, DlibFaceAnalyzer().detect(img)[0])
    return {
        "customer_mic": _looped_wav("asr_example.wav", out / "customer.wav"),
        "agent_mic": _looped_wav("news_long.wav", out / "agent.wav"),
        "camera": write_y4m([frame] * 10, out / "face.y4m", fps=10),
    }


def _subtitles(page: Page) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = page.eval_on_selector_all(
        "[data-testid=live-subtitle]",
        """els => els.map(e => ({speaker: e.dataset.speaker, text: e.textContent,
            spoken: Number(e.dataset.spokenUntil), shown: Number(e.dataset.shownAt)}))""",
    )
    return got


def _live_worker_pids(task_id: str) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"dualrec.bootstrap.rtc_live_main" in cmd and task_id.encode() in cmd:
            pids.append(int(proc.name))
    return pids


def _browsers(chromium: Browser, media: dict[str, Path]) -> tuple[Browser, Browser]:
    """The interviewer's Chromium (its microphone plays the agent's clip) and the customer's (the
    face photo as camera, the customer's clip as microphone)."""
    launch = chromium.browser_type.launch
    agent = launch(
        executable_path=str(CHROMIUM),
        args=[*CHROMIUM_ARGS, *RTC_ARGS, f"--use-file-for-fake-audio-capture={media['agent_mic']}"],
    )
    customer = launch(
        executable_path=str(CHROMIUM),
        args=[
            *CHROMIUM_ARGS,
            *RTC_ARGS,
            f"--use-file-for-fake-video-capture={media['camera']}",
            f"--use-file-for-fake-audio-capture={media['customer_mic']}",
        ],
    )
    return agent, customer


def _start_call(
    sys: RtcSystem,
    browsers: tuple[Browser, Browser],
    task_id: str,
    link: str,
    errors: list[str],
    *,
    agent_script: str = "",
    customer_script: str = "",
) -> tuple[Page, Page]:
    """The customer queues, the interviewer takes the next one, both connect: (agent, customer)."""
    agent_browser, customer_browser = browsers
    context = _context(customer_browser, sys)
    if customer_script:
        context.add_init_script(customer_script)
    customer = context.new_page()
    customer.on("pageerror", lambda exc: errors.append(str(exc)))
    customer.goto(f"/h5/{link}")
    expect(customer.get_by_test_id("queue-status")).to_have_attribute("data-position", "1")
    agent = _agent(agent_browser, sys)
    agent.on("pageerror", lambda exc: errors.append(str(exc)))
    if agent_script:
        agent.context.add_init_script(agent_script)
    agent.goto("/rtc/queue")
    agent.get_by_test_id("accept-next").click()
    agent.wait_for_url(f"**/rtc/tasks/{task_id}?join=1")
    _customer_joins(customer)
    _connected({"agent": agent, "customer": customer})
    return agent, customer


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_desk_shows_live_subtitles_of_both_sides_and_a_sensitive_word_alert(
    live_system: RtcSystem, chromium: Browser, media: dict[str, Path]
) -> None:
    sys = live_system
    words = sys.admin.get("/api/v1/sensitive-words").json()["words"]
    r = sys.admin.put("/api/v1/sensitive-words", json={"words": [*words, SENSITIVE]})
    assert r.status_code == 200, r.text
    task_id, link = _task(sys.admin, "WM-LIVE-0001", "wealth", "personal")
    agent_browser, customer_browser = browsers = _browsers(chromium, media)
    errors: list[str] = []
    try:
        agent, _customer = _start_call(sys, browsers, task_id, link, errors)
        # the worker was started with the call (a process of its own, not the server)
        _wait(lambda: _live_worker_pids(task_id), 20, "the call's live worker process")

        panel = agent.get_by_test_id("live-panel")
        expect(panel.get_by_test_id("live-unverified")).to_contain_text("未核验", timeout=60_000)

        def said(speaker: str, *needles: str, any_of: tuple[str, ...] = ()) -> dict[str, Any] | None:
            return next(
                (
                    s
                    for s in _subtitles(agent)
                    if s["speaker"] == speaker
                    and all(n in s["text"] for n in needles)
                    and (not any_of or any(n in s["text"] for n in any_of))
                ),
                None,
            )

        try:
            # the clip's first words (the VAD may cut the rest into a segment of its own)
            first = _wait(lambda: said("customer", "欢迎大家", SENSITIVE), 150, "the customer's subtitle")
            # 富士康在印度工厂出现大规模感染…: the words a small model gets right on a noisy channel
            _wait(lambda: said("agent", any_of=("工厂", "印度", "感染", "产量")), 240, "the agent's subtitle")
        except AssertionError:
            # what CI shows first: the subtitles, the worker's figures and its recogniser's passes
            print(_subtitles(agent))
            feed = sys.admin.get(f"/api/v1/rtc/tasks/{task_id}/live").json()["events"]
            print([e["details"] for e in feed if e["code"] == "stats"][-1:])
            logs = [log.read_text() for log in (sys.data / "rtc" / "live").glob("*.log")]
            print([line[-160:] for log in logs for line in log.splitlines() if "live ASR" in line][-12:])
            print(f"load {os.getloadavg()}")
            print((sys.data / "serve.log").read_text()[-4000:])
            for log in logs:
                print(log[-4000:])
            raise
        # the risk alert pops up with its reason; acknowledging it moves it to the acknowledged list
        alert = agent.get_by_test_id("live-alert")
        expect(alert).to_have_attribute("data-code", "sensitive_word", timeout=30_000)
        expect(alert.get_by_test_id("live-alert-reason")).to_contain_text(SENSITIVE)
        expect(alert.get_by_test_id("live-alert-reason")).to_contain_text("客户说出敏感词")
        alert.get_by_test_id("live-alert-ack").click()
        expect(panel.locator("[data-testid=live-acked][data-code=sensitive_word]")).to_have_count(1)

        # Janus' own view of both parties, sampled by `dualrec rtc` beside Janus (its Admin API is on
        # the namespace's loopback), on the desk's quality panel as 服务器视角
        server = agent.get_by_test_id("quality-server-customer")
        expect(server).to_be_visible(timeout=30_000)
        assert float(server.get_attribute("data-kbps-in") or 0) > 10, server.inner_text()
        expect(agent.get_by_test_id("quality-server-agent")).to_be_visible()
        subs = [s for s in _subtitles(agent) if s["spoken"] and s["shown"]]
        lags = [(s["shown"] - s["spoken"]) / 1000 for s in subs]
        feed = sys.admin.get(f"/api/v1/rtc/tasks/{task_id}/live").json()["events"]
        stats = [e["details"] for e in feed if e["kind"] == "status" and e["code"] == "stats"]
        alerts = [(e["code"], e["reason"]) for e in feed if e["kind"] == "alert"]
        print(
            f"\nfirst customer subtitle: {first['text']!r}, "
            f"lag {(first['shown'] - first['spoken']) / 1000:.2f} s"
        )
        print(
            f"subtitle lag (end of speech → on the desk) over {len(lags)} subtitles: "
            f"median {statistics.median(lags or [0]):.2f} s, max {max(lags, default=0):.2f} s"
        )
        print(f"alerts: {alerts}")
        if stats:
            s = stats[-1]
            print(
                f"worker: cpu {s['cpu_s']} s over {s['wall_s']} s (share {s['cpu_share']}), "
                f"segments {s['segments']} (joined {s.get('segments_joined')}, dropped "
                f"{s['segments_dropped']}), asr p50 {s['asr_ms_p50']} ms, "
                f"frames decoded {s['frames_decoded']} analysed {s['frames_analyzed']}, "
                f"cpu by thread {s.get('cpu_s_threads')}, "
                f"load {os.getloadavg()}"
            )
        # what waited for the recogniser is transcribed together, the oldest dropped beyond 24 s of
        # speech: subtitles arrive late on a loaded machine (a 2-core VM shared by several test
        # runs: ~10 s per pass), never minutes late
        assert all(lag < 60 for lag in lags), lags
        assert not any(code in ("no_face", "multiple_faces") for code, _ in alerts), alerts

        agent.get_by_test_id("hangup").click()
        agent.get_by_test_id("call-finished").wait_for()
        # the worker leaves with the call and writes its last figures
        _wait(lambda: not _live_worker_pids(task_id), 30, "the live worker stopped at the hang-up")
        final = [
            e
            for e in sys.admin.get(f"/api/v1/rtc/tasks/{task_id}/live").json()["events"]
            if e["code"] == "stats" and e["details"].get("final")
        ]
        assert final, "the worker's final figures"
        assert final[0]["details"]["packets"]["customer-audio"] > 100
        assert final[0]["details"]["frames_analyzed"] > 5
        assert not errors, errors
    finally:
        agent_browser.close()
        customer_browser.close()

    # after the call: its live analysis on the recording's timeline, in QC and on the playback page
    _t, rec = recorded(sys, task_id, 500)
    live = sys.admin.get(f"/api/v1/recordings/{rec['id']}/live-events").json()
    assert live["available"], live
    subtitles = [i for i in live["items"] if i["kind"] == "subtitle"]
    assert {i["speaker"] for i in subtitles} == {"customer", "agent"}, subtitles
    assert all(0 <= i["start"] <= (i["end"] or i["start"]) <= live["duration"] for i in subtitles), subtitles
    [word] = [i for i in live["items"] if i["kind"] == "alert" and i["code"] == "sensitive_word"][:1]
    assert word["acked"] and word["acked_t"] >= word["start"], word
    report = sys.admin.get(f"/api/v1/recordings/{rec['id']}/report", params={"lang": "en"}).json()
    check = next(c for c in report["checks"] if c["id"] == "live_call")
    acked = [f for f in check["findings"] if "acknowledged by" in f["message_localized"]]
    assert acked and acked[0]["severity"] == "info", check
    quality = next(c for c in report["checks"] if c["id"] == "call_quality")
    assert quality["metrics"]["server"]["customer"]["samples"] > 0, quality["metrics"].get("server")
    print(
        f"live events on the recording ({live['duration']} s): "
        + "; ".join(f"{i['speaker']} {i['start']}-{i['end']} {i['text'][:12]}" for i in subtitles[:6])
        + f"; server view {quality['metrics']['server']}"
    )
    viewer = chromium.new_context(base_url=sys.base, locale="zh-CN")
    try:
        page = log_in(viewer.new_page())
        page.goto(f"/recordings/{rec['id']}")
        panel = page.get_by_test_id("live-record")
        expect(panel.locator(".live-subtitles li[data-speaker=customer]").first).to_be_visible(timeout=30_000)
        expect(panel.locator(".live-alerts li[data-code=sensitive_word]")).to_have_attribute(
            "data-acked", "true"
        )
        expect(page.get_by_test_id("call-quality-server-customer")).to_be_visible()
    finally:
        viewer.close()


# The customer's browser offers H.264 only for its camera (as a phone whose WebRTC sends H.264
# alone would): Janus' room takes "vp8,h264", so the call runs on H.264.
H264_ONLY = """
(() => {
  const createOffer = RTCPeerConnection.prototype.createOffer;
  RTCPeerConnection.prototype.createOffer = function (...args) {
    const h264 = RTCRtpSender.getCapabilities("video").codecs.filter((c) =>
      /^video\\/(H264|rtx)$/i.test(c.mimeType)
    );
    for (const t of this.getTransceivers()) {
      if (t.sender.track && t.sender.track.kind === "video") t.setCodecPreferences(h264);
    }
    return createOffer.apply(this, args);
  };
})();
"""
# the interviewer's peer connections, for the test to read their stats
PEERS = """
(() => {
  const Native = window.RTCPeerConnection;
  window.__peers = [];
  window.RTCPeerConnection = function (...args) {
    const pc = new Native(...args);
    window.__peers.push(pc);
    return pc;
  };
  window.RTCPeerConnection.prototype = Native.prototype;
  Object.setPrototypeOf(window.RTCPeerConnection, Native);
})();
"""


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_customer_sending_h264_gets_the_live_face_checks_and_a_recording(
    live_system: RtcSystem, chromium: Browser, media: dict[str, Path]
) -> None:
    sys = live_system
    task_id, link = _task(sys.admin, "WM-LIVE-H264", "wealth", "personal")
    agent_browser, customer_browser = browsers = _browsers(chromium, media)
    errors: list[str] = []

    def stats() -> dict[str, Any] | None:
        feed = sys.admin.get(f"/api/v1/rtc/tasks/{task_id}/live").json()["events"]
        found = [e["details"] for e in feed if e["code"] == "stats"]
        return found[-1] if found else None

    try:
        agent, _customer = _start_call(
            sys, browsers, task_id, link, errors, agent_script=PEERS, customer_script=H264_ONLY
        )
        # the interviewer's page receives H.264 from the customer (what the browser negotiated)
        codec = agent.evaluate(
            """async () => {
                for (const pc of window.__peers ?? []) {
                  const s = await pc.getStats();
                  for (const r of s.values())
                    if (r.type === "inbound-rtp" && r.kind === "video" && r.codecId)
                      return s.get(r.codecId)?.mimeType ?? null;
                }
                return null;
            }"""
        )
        assert codec == "video/H264", codec
        # the live worker found the codec from the packets and decodes the customer's pictures
        got = _wait(
            lambda: (s := stats()) and s.get("video_codec") and s["frames_analyzed"] >= 3 and s,
            150,
            "the worker's figures with analysed H.264 frames",
            interval=1.0,
        )
        print(f"worker: {got}")
        assert got["video_codec"] == "h264", got
        feed = sys.admin.get(f"/api/v1/rtc/tasks/{task_id}/live").json()["events"]
        codes = {e["code"] for e in feed}
        assert "video_undecodable" not in codes, codes
        # one face in the camera: none of the face alerts
        assert not codes & {"no_face", "multiple_faces", "covered", "dark"}, codes
        agent.get_by_test_id("hangup").click()
        agent.get_by_test_id("call-finished").wait_for()
        assert not errors, errors
    finally:
        agent_browser.close()
        customer_browser.close()
    # the per-party H.264 recording is composed like a VP8 one; QC says nothing of undecodable video
    _t, rec = recorded(sys, task_id, 500)
    report = sys.admin.get(f"/api/v1/recordings/{rec['id']}/report", params={"lang": "en"}).json()
    live = next(c for c in report["checks"] if c["id"] == "live_call")
    assert not any("decoded live" in f["message_localized"] for f in live["findings"]), live
    assert report["video_info"]["width"] > 0 and report["duration"] > 5, report["video_info"]
