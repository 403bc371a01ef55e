"""The LLM checker (checks/llm.py) against a fake OpenAI-compatible server on loopback (real HTTP):
what it sends (masked transcript, the findings, the rubric, the key only in the header), what it
keeps of the answer (quotes found in the transcript, times inside the recording), and that a
timeout, an HTTP error or a malformed answer makes it not_run — REVIEW only when it is required."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from dualrec.bootstrap.engines import with_llm_checker
from dualrec.checks.base import CheckContext
from dualrec.checks.llm import CHECK, mask_personal_data
from dualrec.core.qc import CheckResult, CheckStatus, Finding, QcTask, Severity, Verdict
from dualrec.media.fakes import FakeScene
from dualrec.media.llm import OpenAiChat
from dualrec.media.ports import TranscriptSegment as Seg
from dualrec.pipeline.qc import run_qc
from dualrec.pipeline.request import QcRequest
from dualrec.settings import Settings
from tests.unit.test_qc_pipeline import engines

KEY = "sk-test-7f3a9c1e55d2b4a0"
TRANSCRIPT = (
    Seg(0.0, 4.0, "您好，我是理财经理，请问您是张三先生吗"),
    Seg(4.0, 9.0, "我叫张三，身份证号110105199001011234，手机13812345678"),
    Seg(9.0, 15.0, "本产品为非保本浮动收益产品，可能损失本金"),
    Seg(15.0, 20.0, "您清楚了吗"),
    Seg(26.0, 30.0, "那我们就签字吧，这个产品稳赚"),
)


class FakeLlm:
    """An OpenAI-compatible /v1/chat/completions: ``mode`` says what it answers."""

    def __init__(self) -> None:
        self.mode = "good"
        self.requests: list[tuple[dict[str, str], dict[str, Any]]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append((dict(self.headers), body))
                if self.path != "/v1/chat/completions":
                    self._send(404, b"{}")
                elif fake.mode == "500":
                    self._send(500, b'{"error": "boom"}')
                elif fake.mode == "slow":
                    time.sleep(1.5)
                    self._send(200, b"{}")
                else:
                    self._send(200, json.dumps(fake.completion()).encode())

            def _send(self, status: int, data: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def completion(self) -> dict[str, Any]:
        findings: list[dict[str, Any]] = [
            {"time": 27.0, "quote": "这个产品稳赚", "claim": "承诺收益", "severity": "major"},
            {
                "time": 16.0,
                "quote": "您清楚了吗",
                "claim": "客户未明确回答，沉默不是同意",
                "severity": "minor",
            },
        ]
        if self.mode == "hallucinated":
            findings += [
                {"time": 12.0, "quote": "保证年化收益百分之十", "claim": "承诺收益", "severity": "major"},
                {"time": 500.0, "quote": "您清楚了吗", "claim": "时间在录像之外", "severity": "major"},
                {"time": 5.0, "claim": "没有引用", "severity": "major"},
            ]
        content = json.dumps({"findings": findings}, ensure_ascii=False)
        if self.mode == "malformed":
            content = "客户似乎不太清楚 {findings: [time 16"
        if self.mode == "fenced":
            content = f"```json\n{content}\n```"
        return {
            "id": "x",
            "object": "chat.completion",
            "choices": [{"message": {"role": "assistant", "content": content}}],
        }


@pytest.fixture
def llm() -> Iterator[FakeLlm]:
    fake = FakeLlm()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def ctx(chat: OpenAiChat | None) -> CheckContext:
    prior = CheckResult(
        "sensitive_words",
        CheckStatus.FAILED,
        (Finding("sensitive_words", Severity.MAJOR, "敏感词「稳赚」/ sensitive word", start=27.0, end=28.0),),
    )
    return CheckContext(
        path="a.mp4",
        task=QcTask(customer_name="张三", id_number="110105199001011234"),
        transcript=TRANSCRIPT,
        llm=chat,
        prior_results=(prior,),
    )


def test_good_answer_becomes_findings_with_time_and_quote_and_nothing_personal_is_sent(
    llm: FakeLlm, caplog: pytest.LogCaptureFixture
) -> None:
    res = CHECK.run(ctx(OpenAiChat(llm.url, model="qwen-test", api_key=KEY, timeout_seconds=5)))
    assert res.status is CheckStatus.FAILED
    quotes = {f.evidence.quote: f for f in res.findings}
    assert set(quotes) == {"这个产品稳赚", "您清楚了吗"}
    promise = quotes["这个产品稳赚"]
    assert promise.severity is Severity.MAJOR and (promise.start, promise.end) == (26.0, 30.0)
    assert (promise.evidence.quote_start, promise.evidence.quote_end) == (26.0, 30.0)
    assert quotes["您清楚了吗"].severity is Severity.MINOR and quotes["您清楚了吗"].start == 15.0
    assert res.metrics["kept"] == 2 and res.metrics["dropped"] == 0

    headers, body = llm.requests[-1]
    assert headers["Authorization"] == f"Bearer {KEY}" and body["model"] == "qwen-test"
    sent = json.dumps(body, ensure_ascii=False)
    for secret in ("110105199001011234", "13812345678", "张三", KEY):
        assert secret not in sent
    user = body["messages"][1]["content"]
    assert "[身份证号]" in user and "[手机号]" in user and "[姓名]" in user
    assert "[26.0-30.0] 那我们就签字吧，这个产品稳赚" in user
    assert "sensitive_words major 27.0s" in user  # the other checks' findings go along
    rubric = body["messages"][0]["content"]
    assert "沉默" in rubric and "quote" in rubric and "no quote, no finding" in rubric
    assert KEY not in caplog.text


def test_a_quote_not_in_the_transcript_or_a_time_outside_the_recording_is_dropped(llm: FakeLlm) -> None:
    llm.mode = "hallucinated"
    res = CHECK.run(ctx(OpenAiChat(llm.url, model="m", timeout_seconds=5)))
    assert {f.evidence.quote for f in res.findings} == {"这个产品稳赚", "您清楚了吗"}
    assert res.metrics["claims"] == 5 and res.metrics["dropped"] == 3


def test_a_fenced_json_answer_is_read(llm: FakeLlm) -> None:
    llm.mode = "fenced"
    res = CHECK.run(ctx(OpenAiChat(llm.url, model="m", timeout_seconds=5)))
    assert len(res.findings) == 2


@pytest.mark.parametrize(("mode", "why"), [("malformed", "JSON"), ("500", "HTTP 500"), ("slow", "timed out")])
def test_failures_make_the_check_not_run_with_the_reason(
    llm: FakeLlm, mode: str, why: str, caplog: pytest.LogCaptureFixture
) -> None:
    llm.mode = mode
    caplog.set_level(logging.DEBUG)
    timeout = 0.5 if mode == "slow" else 10  # a busy machine must not turn the others into time-outs
    res = CHECK.run(ctx(OpenAiChat(llm.url, model="m", api_key=KEY, timeout_seconds=timeout)))
    assert res.status is CheckStatus.NOT_RUN and not res.findings
    assert res.reason is not None and why in res.reason and KEY not in res.reason
    assert KEY not in caplog.text


def test_off_without_an_endpoint() -> None:
    res = CHECK.run(ctx(None))
    assert res.status is CheckStatus.NOT_RUN and "DUALREC_QC_LLM_URL" in (res.reason or "")


def test_an_unconfigured_checker_is_left_out_of_the_report_unless_required() -> None:
    scene = FakeScene(duration=20.0)
    kwargs = {"url": "", "model": "m", "api_key": "", "timeout_seconds": 5.0}
    off = run_qc(QcRequest(Path("a.mp4")), with_llm_checker(engines(scene), required=False, **kwargs))
    assert "llm_review" not in {r.check_id for r in off.results}
    must = run_qc(QcRequest(Path("a.mp4")), with_llm_checker(engines(scene), required=True, **kwargs))
    assert {r.check_id: r for r in must.results}["llm_review"].status is CheckStatus.NOT_RUN
    assert must.verdict.verdict is Verdict.REVIEW


def test_not_run_forces_review_only_when_required(llm: FakeLlm) -> None:
    """A 500 from the model: the verdict of the recording is the same as without the checker, unless
    the operator made the check required; never FAIL because of it."""
    llm.mode = "500"
    scene = FakeScene(duration=20.0)
    base = run_qc(QcRequest(Path("a.mp4")), engines(scene))
    kwargs = {"url": llm.url, "model": "m", "api_key": "", "timeout_seconds": 5.0}
    optional = run_qc(QcRequest(Path("a.mp4")), with_llm_checker(engines(scene), required=False, **kwargs))
    assert {r.check_id: r for r in optional.results}["llm_review"].status is CheckStatus.NOT_RUN
    assert optional.verdict.verdict is base.verdict.verdict
    assert optional.verdict.risk_score == base.verdict.risk_score
    assert optional.verdict.reasons == base.verdict.reasons  # no reason names the LLM check
    required = run_qc(QcRequest(Path("a.mp4")), with_llm_checker(engines(scene), required=True, **kwargs))
    assert base.verdict.verdict is not Verdict.FAIL
    assert required.verdict.verdict is Verdict.REVIEW
    assert any(r.startswith("llm_review: 必需的检查未执行") for r in required.verdict.reasons)


def test_only_http_urls_are_accepted() -> None:
    for url in ("file:///etc/passwd", "ftp://llm.bank/v1", "gopher://x", "127.0.0.1:8080/v1"):
        with pytest.raises(ValueError):
            OpenAiChat(url, model="m")
        with pytest.raises(ValidationError):
            Settings(qc_llm_url=url)
    assert KEY not in repr(OpenAiChat("http://127.0.0.1:1/v1", model="m", api_key=KEY))


def test_masking() -> None:
    text = "我叫李小明，证件号11010519900101123X，电话 138 1234 5678，卡号6222021234567890123"
    masked = mask_personal_data(text, ["李小明"])
    assert masked == "我叫[姓名]，证件号[身份证号]，电话 [手机号]，卡号[号码]"
    assert mask_personal_data("本人王五，已知晓风险", []) == "本人[姓名]，已知晓风险"
