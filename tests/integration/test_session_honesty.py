"""The server decides what the customer really did, whatever the page claims (issue 15):

- a read-along (跟读, ``params.mode: read_along``) is passed only by speech the server transcribed and
  scored at the node's ``accuracy`` (a tap is refused; 0.95 refuses a reading 0.8 accepts; the old
  spellings ``read_along`` / ``threshold`` still work), asked again, then handed over;
- a copy (抄录, ``copy``) is passed only by handwriting read with confidence at ``accuracy``; unsure
  readings are asked again and then go on *marked for human review*, the image kept;
- a question offers every choice, and a tap outside them is refused;
- document pages are confirmed in order, each after its minimum reading time;
- the identity node's ``face_threshold`` is the live face match's limit;
- server QC uses the editable sensitive-word list.

The speech recogniser, OCR and face engines are fakes here (their answers are the input of the rules
under test); the real engines are tested in test_live_identity_api.py, test_engine_*.py and, for the
copy, ``test_a_printed_copy_is_read_by_the_real_ocr`` below.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw

from dualrec.bootstrap.container import Container
from dualrec.core.live_session import EventKind
from dualrec.media.ports import Face, TextLine, TranscriptSegment
from dualrec.services.sessions import service as session_service
from dualrec.services.sessions.copying import HandwrittenCopies
from dualrec.services.sessions.live_pool import InlinePool
from dualrec.services.sessions.monitor import LiveMonitor
from tests.conftest import make_clip
from tests.document_factory import make_pdf
from tests.integration.test_flows_tasks_api import CUSTOMER, Signed, _publish_flow, admin, system

__all__ = ["admin", "system"]

SENTENCE = "本人已充分了解产品风险，自愿购买本产品"
HEARD_94 = "本人已充分了解产品风险自愿购买产品"  # 17 of the sentence's 18 syllables, in order: 0.94
COPY_SENTENCE = "本人已阅读保险条款"


def _flow(*nodes: dict[str, Any]) -> dict[str, Any]:
    return {"mode": "self_service", "nodes": [*nodes, {"id": "end", "type": "end", "script": "完成。"}]}


def _read_node(params: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "id": "w",
        "type": "willingness",
        "title": "意愿确认（跟读）",
        "script": "请跟读：" + SENTENCE,
        "expected_answers": [{"text": SENTENCE, "synonyms": ["自愿购买"]}],
        "params": params,
        "retries": 1,
        "on_fail": "handover",
        **extra,
    }


def _copy_node(**params: Any) -> dict[str, Any]:
    return {
        "id": "w",
        "type": "willingness",
        "title": "投保意愿确认（抄录）",
        "script": "请抄录：" + COPY_SENTENCE,
        "params": {"mode": "copy", **params},
        "retries": 1,
        "on_fail": "handover",
    }


def _start(
    app_client: TestClient,
    admin: TestClient,
    system: Signed,
    flow: dict[str, Any],
    documents: list[Any] = (),  # type: ignore[assignment]
) -> tuple[TestClient, str, str]:
    _publish_flow(admin, flow=flow)
    r = system.call("POST", "/api/v1/tasks", {**CUSTOMER, "documents": list(documents)})
    assert r.status_code == 201, r.text
    token = r.json()["entry_url"].rsplit("/h5/", 1)[1]
    client = TestClient(app_client.app)  # the customer: no console cookie
    client.get(f"/api/v1/session/{token}")
    assert client.post(f"/api/v1/session/{token}/consent", json={"agree": True}).status_code == 200
    return client, token, r.json()["id"]


def _say(container: Container, text: str) -> None:
    """The server's recogniser hears ``text`` (whatever the audio)."""
    assert container.sessions is not None
    container.sessions._transcribe = lambda _wav: text


def _speak(client: TestClient, token: str) -> Any:
    return client.post(f"/api/v1/session/{token}/nodes/w/speech?t=3", content=b"RIFF-audio")


# ---- read-along ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "accepted"),
    [
        ({"mode": "read_along", "accuracy": 0.8}, True),
        ({"mode": "read_along", "accuracy": 0.95}, False),
        # a flow stored with the old spellings: read_along (the sentence) and threshold
        ({"read_along": SENTENCE, "threshold": 0.8}, True),
        ({"read_along": SENTENCE, "threshold": 0.95}, False),
    ],
)
def test_a_read_along_is_scored_at_the_nodes_accuracy(
    app_client: TestClient,
    admin: TestClient,
    system: Signed,
    container: Container,
    params: dict[str, Any],
    accepted: bool,
) -> None:
    client, token, task_id = _start(app_client, admin, system, _flow(_read_node(params)))
    node = client.get(f"/api/v1/session/{token}").json()["node"]
    assert node["mode"] == "read_along" and node["sentence"] == SENTENCE and node["choices"] == []
    assert node["accuracy"] == (0.8 if accepted else 0.95)
    _say(container, HEARD_94)
    r = _speak(client, token)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["attempt"]["score"] == pytest.approx(17 / 18, abs=0.001)
    assert body["attempt"]["passed"] is accepted
    if accepted:
        assert body["session"]["node"]["id"] == "end"
        return
    # asked again, with what was wrong; then handed over to a person
    assert body["session"]["node"]["id"] == "w" and body["session"]["ask"] == 2
    assert "95%" in body["attempt"]["retry"] and "94%" in body["attempt"]["retry"]
    again = _speak(client, token).json()
    assert again["session"]["status"] == "handover"
    assert system.call("GET", f"/api/v1/tasks/{task_id}").json()["status"] == "handover"


def _wav(seconds: float, amplitude: float) -> bytes:
    """16 kHz mono PCM: a 220 Hz tone at ``amplitude`` (0: digital silence)."""
    import io
    import math
    import struct
    import wave

    n = int(16000 * seconds)
    frames = b"".join(
        struct.pack("<h", int(amplitude * 32767 * math.sin(2 * math.pi * 220 * i / 16000))) for i in range(n)
    )
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(frames)
    return out.getvalue()


def test_a_reading_the_recogniser_made_nothing_of_is_not_called_silence(
    app_client: TestClient, admin: TestClient, system: Signed, container: Container
) -> None:
    """A voice on the microphone that the recogniser returned nothing for is not "no answer": the
    customer is told it was not recognised and reads again. Real silence is still no answer."""
    client, token, _task_id = _start(app_client, admin, system, _flow(_read_node({"mode": "read_along"})))
    _say(container, "")
    loud = client.post(f"/api/v1/session/{token}/nodes/w/speech?t=3", content=_wav(3.0, 0.3))
    assert loud.status_code == 200, loud.text
    body = loud.json()
    assert body["attempt"]["passed"] is False and body["attempt"]["score"] == 0
    assert "未能识别出您的朗读" in body["attempt"]["retry"], body["attempt"]
    assert body["session"]["node"]["id"] == "w" and body["session"]["ask"] == 2
    quiet = client.post(f"/api/v1/session/{token}/nodes/w/speech?t=9", content=_wav(3.0, 0.0))
    assert quiet.status_code == 200, quiet.text
    assert quiet.json()["attempt"] is None and quiet.json()["session"]["status"] == "handover"
    reason = quiet.json()["session"]["reason"]
    assert "未应答" in reason, reason  # the last try was silent


def test_a_read_along_cannot_be_tapped(
    app_client: TestClient, admin: TestClient, system: Signed, container: Container
) -> None:
    client, token, _ = _start(
        app_client, admin, system, _flow(_read_node({"mode": "read_along", "accuracy": 0.8}))
    )
    # the expected answer, its synonym (what the old fallback accepted) and 是: all refused
    for text in (SENTENCE, "自愿购买", "是"):
        r = client.post(f"/api/v1/session/{token}/nodes/w/outcome", json={"kind": "answer", "text": text})
        assert r.status_code == 422 and r.json()["mode"] == "read_along", r.text
    assert client.get(f"/api/v1/session/{token}").json()["node"]["id"] == "w"
    # a short spoken "自愿购买" is no read-along either
    _say(container, "自愿购买")
    body = _speak(client, token).json()
    assert body["attempt"]["passed"] is False and body["session"]["node"]["id"] == "w"


# ---- questions: every choice, nothing else ---------------------------------------------------------


def test_a_question_offers_every_choice_and_refuses_others(
    app_client: TestClient, admin: TestClient, system: Signed
) -> None:
    question = {
        "id": "w",
        "type": "qa",
        "title": "反欺诈提问",
        "script": "请问是否有人向您承诺过本产品不会亏损？",
        "expected_answers": [{"text": "没有", "synonyms": ["否", "无"]}],
        "retries": 0,
        "on_fail": "handover",
    }
    client, token, _ = _start(app_client, admin, system, _flow(question))
    node = client.get(f"/api/v1/session/{token}").json()["node"]
    assert sorted(node["choices"]) == ["有", "没有"]  # never the expected answer alone
    assert "answers" not in node  # the page is not told which one is expected
    r = client.post(f"/api/v1/session/{token}/nodes/w/outcome", json={"kind": "answer", "text": "否"})
    assert r.status_code == 422 and sorted(r.json()["choices"]) == ["有", "没有"]
    s = client.post(f"/api/v1/session/{token}/nodes/w/outcome", json={"kind": "answer", "text": "有"}).json()
    assert s["status"] == "handover" and "不符合" in s["reason"]


# ---- copy (抄录) -----------------------------------------------------------------------------------


class FakeOcr:
    """Reads ``lines`` (text, confidence) from any image; counts its calls."""

    def __init__(self, lines: list[tuple[str, float]]) -> None:
        self.lines = lines
        self.calls = 0

    def recognize(self, image: Any) -> list[TextLine]:
        self.calls += 1
        assert image.ndim == 3 and image.shape[2] == 3  # RGB on white paper
        return [
            TextLine(text, conf, ((10.0, 10.0 + 40 * i), (300.0, 10.0 + 40 * i), (300.0, 40.0 + 40 * i)))
            for i, (text, conf) in enumerate(self.lines)
        ]


def _ink(width: int = 600, height: int = 300) -> bytes:
    """A writing pad as the page sends it: transparent, with pen strokes."""
    img = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    for i in range(8):
        draw.line(
            [(40 + 60 * i, 80), (80 + 60 * i, 200), (60 + 60 * i, 120)], fill=(17, 17, 17, 255), width=5
        )
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _copies(container: Container, ocr: FakeOcr | None) -> None:
    assert container.sessions is not None
    container.session_copies = HandwrittenCopies(container.sessions, container.blobs, lambda: ocr)


def _send_copy(client: TestClient, token: str, png: bytes) -> Any:
    return client.post(f"/api/v1/session/{token}/nodes/w/copy?t=5", content=png)


def test_a_confident_copy_passes_and_the_image_is_kept(
    app_client: TestClient, admin: TestClient, system: Signed, container: Container
) -> None:
    client, token, task_id = _start(app_client, admin, system, _flow(_copy_node(accuracy=0.9)))
    node = client.get(f"/api/v1/session/{token}").json()["node"]
    assert node["mode"] == "copy" and node["sentence"] == COPY_SENTENCE and node["accuracy"] == 0.9
    # the page cannot tap or speak its way through a copy
    r = client.post(f"/api/v1/session/{token}/nodes/w/outcome", json={"kind": "answer", "text": "是"})
    assert r.status_code == 422 and r.json()["mode"] == "copy"
    _say(container, COPY_SENTENCE)
    assert _speak(client, token).status_code == 409
    # a blank pad is refused before anything is stored
    ocr = FakeOcr([("本人已阅读", 0.95), ("保险条款", 0.93)])
    _copies(container, ocr)
    assert _send_copy(client, token, _blank()).status_code == 422
    assert ocr.calls == 0
    body = _send_copy(client, token, _ink()).json()
    assert body["attempt"]["passed"] is True and body["attempt"]["text"] == COPY_SENTENCE
    assert body["session"]["node"]["id"] == "end"
    assert "blob_key" not in body["session"]["identity"]["willingness.w"]  # no storage keys to the page
    with container.uows() as uow:
        s = uow.live_sessions.for_attempt(task_id, 1)
        assert s is not None
        proof = s.identity["willingness.w"]
        answers = [e for e in uow.live_sessions.events(s.id, (EventKind.ANSWER,)) if e.node_id == "w"]
    assert proof["passed"] is True and proof["mode"] == "copy"
    with container.blobs.open(proof["blob_key"]) as fh:
        assert fh.read() == _ink()  # the handwriting is evidence
    assert answers[-1].data["text"] == COPY_SENTENCE and answers[-1].data["source"] == "handwriting"


def _blank() -> bytes:
    buf = io.BytesIO()
    Image.new("RGBA", (600, 300), (0, 0, 0, 0)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("lines", "why"),
    [
        ([("本人已阅读保险条款", 0.35)], "置信度"),  # read, but not with confidence
        ([("本人同意", 0.97)], "88%"),  # read with confidence, but not the sentence (4 of 8 → 50%)
        ([], "未能识别出文字"),  # nothing read at all
    ],
)
def test_an_unsure_copy_is_asked_again_then_marked_for_review(
    app_client: TestClient,
    admin: TestClient,
    system: Signed,
    container: Container,
    lines: list[tuple[str, float]],
    why: str,
) -> None:
    client, token, task_id = _start(app_client, admin, system, _flow(_copy_node(accuracy=0.88)))
    _copies(container, FakeOcr(lines))
    first = _send_copy(client, token, _ink()).json()
    assert first["attempt"]["passed"] is False and not first["attempt"]["review"]
    assert why in first["attempt"]["retry"]
    assert first["session"]["node"]["id"] == "w" and first["session"]["ask"] == 2
    second = _send_copy(client, token, _ink()).json()
    # the flow goes on, but the node is marked for a person: never passed silently
    assert second["attempt"]["passed"] is False and "人工复核" in second["attempt"]["review"]
    assert second["session"]["node"]["id"] == "end"
    with container.uows() as uow:
        s = uow.live_sessions.for_attempt(task_id, 1)
        assert s is not None
        steps = [st for st in s.flow_state.steps if st.node_id == "w"]
        answers = [e for e in uow.live_sessions.events(s.id, (EventKind.ANSWER,)) if e.node_id == "w"]
    assert [st.result for st in steps] == ["wrong", "review"] and "人工复核" in steps[-1].reason
    # QC's markers get no copy answer unless one was read with confidence
    low_confidence = bool(lines) and lines[0][1] < 0.6
    assert all((e.data["text"] == "") == (low_confidence or not lines) for e in answers)
    assert all(e.data["blob_key"] for e in answers)  # each attempt's image is kept


def test_without_an_ocr_engine_a_copy_goes_to_review_at_once(
    app_client: TestClient, admin: TestClient, system: Signed, container: Container
) -> None:
    client, token, _ = _start(app_client, admin, system, _flow(_copy_node()))
    _copies(container, None)
    body = _send_copy(client, token, _ink()).json()
    assert body["attempt"]["passed"] is False and "文字识别引擎不可用" in body["attempt"]["review"]
    assert body["session"]["node"]["id"] == "end"


@pytest.mark.slow
@pytest.mark.parametrize("jitter", [0.0, 25.0])
def test_pen_strokes_of_the_sentence_are_read_by_the_real_ocr(
    app_client: TestClient, admin: TestClient, system: Signed, container: Container, jitter: float
) -> None:
    """The copy path with the real RapidOCR engine, on a pad written in pen strokes along the stroke
    medians of tests/data/handwriting (stroke by stroke, wobbled by ``jitter``): handwriting-like,
    but not a person's handwriting (see tests/handwriting.py)."""
    from dualrec.media.models.rapid_ocr import RapidTextRecognizer
    from tests.handwriting import pad_png

    engine = RapidTextRecognizer()
    flow = _flow({**_copy_node(accuracy=0.9), "script": "请抄录：本人自愿投保"})
    client, token, _ = _start(app_client, admin, system, flow)
    assert container.sessions is not None
    container.session_copies = HandwrittenCopies(container.sessions, container.blobs, lambda: engine)
    # four of the six characters: read with confidence, but not the sentence → asked again
    short = _send_copy(client, token, pad_png("本人自愿", jitter=jitter)).json()["attempt"]
    assert short["text"] == "本人自愿" and short["passed"] is False and "67%" in short["retry"], short
    whole = _send_copy(client, token, pad_png("本人自愿投保", jitter=jitter, seed=7)).json()
    assert whole["attempt"]["text"] == "本人自愿投保" and whole["attempt"]["passed"] is True, whole["attempt"]
    assert whole["session"]["node"]["id"] == "end"


# ---- document pages: in order, each after its minimum reading time ---------------------------------


def test_pages_are_confirmed_in_order_after_their_minimum_time(
    app_client: TestClient,
    admin: TestClient,
    system: Signed,
    container: Container,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    doc = {
        "name": "说明书.pdf",
        "action": "display",
        "content_base64": base64.b64encode(make_pdf(2)).decode(),
    }
    node = {"id": "docs", "type": "document_display", "title": "文件", "params": {"min_page_seconds": 8}}
    client, token, _ = _start(app_client, admin, system, _flow(node), [doc])
    assert client.get(f"/api/v1/session/{token}").json()["node"]["min_page_seconds"] == 8
    clock = {"shift": timedelta(0)}
    real_now = session_service._now
    monkeypatch.setattr(session_service, "_now", lambda: real_now() + clock["shift"])

    def read(page: int) -> Any:
        return client.post(f"/api/v1/session/{token}/documents/0/pages/{page}/read", json={"t": 1})

    # confirmed at once (as a modified page would): refused, with how long is left
    r = read(0)
    assert r.status_code == 409 and r.json()["min_page_seconds"] == 8 and r.json()["wait_seconds"] > 7
    assert read(1).status_code == 409  # not before the page before it
    clock["shift"] = timedelta(seconds=8.5)
    assert read(0).status_code == 200
    r = read(1)  # the next page's time starts when the previous one was confirmed
    assert r.status_code == 409 and r.json()["wait_seconds"] > 7
    clock["shift"] = timedelta(seconds=17)
    s = read(1).json()
    assert s["identity"]["pages_read"]["0"]["complete"] is True
    done = client.post(f"/api/v1/session/{token}/nodes/docs/outcome", json={"kind": "passed", "t": 2})
    assert done.status_code == 200 and done.json()["node"]["id"] == "end"


def test_the_page_minimum_comes_from_the_setting_when_the_node_has_none(
    app_client: TestClient, admin: TestClient, system: Signed, container: Container
) -> None:
    doc = {
        "name": "说明书.pdf",
        "action": "display",
        "content_base64": base64.b64encode(make_pdf(1)).decode(),
    }
    client, token, _ = _start(
        app_client, admin, system, _flow({"id": "docs", "type": "document_display"}), [doc]
    )
    assert container.sessions is not None
    assert client.get(f"/api/v1/session/{token}").json()["node"]["min_page_seconds"] == 5.0  # the default
    container.sessions.options = dataclasses.replace(container.sessions.options, page_min_seconds=0.0)
    assert client.post(f"/api/v1/session/{token}/documents/0/pages/0/read", json={"t": 1}).status_code == 200


# ---- identity: the node's face_threshold -------------------------------------------------------------


class FakeFaces:
    """One face in every picture; its descriptor is ``distance`` away from the zero vector."""

    def __init__(self, distance: float) -> None:
        self.distance = distance

    def detect(self, image: Any) -> list[Face]:
        return [Face((10, 10, 110, 110))]

    def embed(self, image: Any, face: Face) -> np.ndarray:
        v = np.zeros(128)
        v[0] = self.distance
        return v


CARD = [("姓名 张三", 0.99), ("出生 1949年12月31日", 0.99), ("公民身份号码 11010519491231002X", 0.99)]


@pytest.mark.parametrize(("threshold", "passed"), [(0.6, True), (0.3, False)])
def test_the_identity_nodes_face_threshold_decides_the_face_match(
    app_client: TestClient,
    admin: TestClient,
    system: Signed,
    container: Container,
    tmp_path: Path,
    threshold: float,
    passed: bool,
) -> None:
    identity = {"id": "id", "type": "identity", "title": "身份核实", "params": {"face_threshold": threshold}}
    client, token, task_id = _start(app_client, admin, system, _flow(identity))
    assert container.sessions is not None
    monitor = LiveMonitor(container.sessions, container.blobs, lambda: FakeFaces(0.45), lambda: FakeOcr(CARD))
    container.live_monitor = monitor
    with container.uows() as uow:
        s = uow.live_sessions.for_attempt(task_id, 1)
        assert s is not None
    assert isinstance(monitor.pool, InlinePool)
    monitor.pool.core.session(s.id).face = np.zeros(128)  # the customer's face from a passed liveness
    card = io.BytesIO()
    Image.new("RGB", (428, 270), (230, 230, 230)).save(card, format="JPEG")
    body = client.post(f"/api/v1/session/{token}/id-card/front", content=card.getvalue()).json()
    assert body["face_distance"] == pytest.approx(0.45)
    assert body["passed"] is passed, body
    face = body["session"]["identity"]["face_match"]
    assert face["passed"] is passed and face["threshold"] == threshold


# ---- QC: the editable sensitive-word list --------------------------------------------------------------


class FakeAsr:
    def transcribe(
        self, audio: Any, *, sample_rate: int = 16000, language: str = "zh", prompt: str | None = None
    ) -> list[TranscriptSegment]:
        length = len(audio) / sample_rate
        return [TranscriptSegment(0.2, max(0.3, length - 0.2), "客户经理说这款产品年年翻倍，请放心购买")]


class WholeClipVad:
    def speech_segments(self, audio: Any, *, sample_rate: int = 16000) -> list[tuple[float, float]]:
        return [(0.0, len(audio) / sample_rate)]


def test_server_qc_uses_the_editable_sensitive_word_list(tmp_path: Path) -> None:
    from dualrec.api.app import create_app
    from dualrec.bootstrap.container import build_container, job_handlers
    from dualrec.bootstrap.engines import build_qc_engines
    from dualrec.bootstrap.jobs import build_job_queue
    from dualrec.services.identity.seed import seed_demo
    from tests.conftest import ADMIN_PASSWORD, login, make_settings

    settings = make_settings(tmp_path / "data", job_workers=1)
    container = build_container(settings, migrate=True)
    seed_demo(container.uows, admin_username="admin", admin_password=ADMIN_PASSWORD)
    light = build_qc_engines(data_dir=settings.data_dir, asr=False, faces=False, ocr=False)
    engines = dataclasses.replace(light, asr=FakeAsr(), vad=WholeClipVad())
    container.engines = lambda: engines  # the QC job takes the engines when it is built
    container.jobs = build_job_queue(settings, job_handlers(container), engine=container.engine)
    clip = make_clip(tmp_path / "clip.mp4", 4)
    with TestClient(create_app(settings, container=container)) as c:
        admin = login(c, "admin", ADMIN_PASSWORD)
        _check_words(admin, clip)
    container.close()


def _check_words(admin: TestClient, clip: Path) -> None:
    def qc() -> dict[str, Any]:
        with clip.open("rb") as fh:
            r = admin.post(
                "/api/v1/recordings",
                files={"file": ("clip.mp4", fh, "video/mp4")},
                data={"task": json.dumps({"running_no": "RN-1"})},
            )
        assert r.status_code == 202, r.text
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            body = admin.get(f"/api/v1/recordings/{r.json()['id']}").json()
            if body["status"] in ("done", "failed"):
                break
            time.sleep(0.3)
        assert body["status"] == "done", body
        report = admin.get(body["links"]["report"]).json()
        return {c["id"]: c for c in report["checks"]}["sensitive_words"]

    before = qc()  # 翻倍 is in no list yet
    assert before["status"] == "passed", before
    words = admin.get("/api/v1/sensitive-words").json()["words"]
    assert admin.put("/api/v1/sensitive-words", json={"words": [*words, "年年翻倍"]}).status_code == 200
    after = qc()
    assert after["status"] == "failed", after
    assert any("年年翻倍" in f["message"] for f in after["findings"]), after


@pytest.mark.parametrize(("wanted", "drawn"), [(["nod", "shake"], ["nod", "shake"]), (3, None)])
def test_the_identity_nodes_liveness_actions_are_asked(
    app_client: TestClient,
    admin: TestClient,
    system: Signed,
    container: Container,
    wanted: Any,
    drawn: list[str] | None,
) -> None:
    identity = {"id": "id", "type": "identity", "title": "身份核实", "params": {"liveness_actions": wanted}}
    client, token, _ = _start(app_client, admin, system, _flow(identity))
    assert container.sessions is not None
    container.live_monitor = LiveMonitor(
        container.sessions, container.blobs, lambda: FakeFaces(0.0), lambda: FakeOcr([])
    )
    for _ in range(3):  # drawn afresh each time: the flow's list in some order, or that many actions
        actions = client.post(f"/api/v1/session/{token}/liveness").json()["actions"]
        if drawn is None:
            assert len(actions) == wanted
        else:
            assert sorted(actions) == drawn
