"""The LLM checker (``llm_review``): an extension point for a large language model as one more QC
checker (SPEC §5), off until an operator configures an OpenAI-compatible endpoint.

It runs after every other check and sends the model the transcript with personal data masked (ID
numbers, phone numbers, other long digit runs, the customer's name), the other checks' findings and
a rubric: every claim cites a time and a verbatim quote of the transcript; silence is not consent;
no quote, no finding. The answer (JSON) becomes findings only where it holds up against the
transcript: a quote that is not in the (masked) transcript is dropped, and so is a time outside the
recording. A model's claim is at most ``major``: it sends a recording to human review, it never
fails one by itself. Timeouts, HTTP errors and answers that are not the asked JSON end the check
``not_run`` with the reason (never a finding, never an error).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from typing import Any

from dualrec.checks.base import CheckContext, finding, not_run, result
from dualrec.core.qc import CheckResult, Finding, Severity
from dualrec.i18n import msg
from dualrec.media.ports import ChatError, TranscriptSegment

__all__ = ["CHECK", "CHECK_ID", "LlmReviewCheck", "mask_personal_data", "parse_answer"]

logger = logging.getLogger(__name__)

CHECK_ID = "llm_review"
MAX_TRANSCRIPT_CHARS = 60_000
MAX_FINDINGS = 50

_ID_NUMBER = re.compile(r"(?<![0-9])[1-9][0-9]{16}[0-9Xx](?![0-9])")
_PHONE = re.compile(r"(?<![0-9])1[3-9][0-9](?:[ -]?[0-9]{4}){2}(?![0-9])")
_LONG_DIGITS = re.compile(r"(?<![0-9])[0-9][0-9 -]{6,}[0-9](?![0-9])")
_NAME_INTRO = re.compile(r"(我叫|我是|本人|客户姓名[是为:：]?|姓名[是为:：]?)([\u4e00-\u9fff]{2,3})")

RUBRIC = """你是银行双录（录音录像）质检的复核助手。只依据给出的逐字稿判断销售过程是否合规。
规则：
1. 每条结论必须引用逐字稿中的原文（quote，逐字一致，不得改写）和该原文出现的时间（time，秒）。
2. 没有原文引用就不能提出结论；逐字稿中没有的内容不得推测。
3. 沉默、没有回答、含糊其辞都不是同意；客户必须明确表示同意才算同意。
4. 逐字稿中 [身份证号]、[手机号]、[号码]、[姓名] 是已脱敏的个人信息，不要猜测原值。
5. 已有的自动检查发现会一并给出，不要重复它们，只补充它们遗漏的问题。
只输出 JSON：{"findings": [{"time": 秒, "quote": "原文", "claim": "问题说明", "severity": "minor|major"}]}；
没有问题时输出 {"findings": []}。
You review a bank's sales recording transcript for compliance. Every claim must cite a time and a
verbatim quote from the transcript; no quote, no finding; silence is not consent. Answer JSON only."""


def mask_personal_data(text: str, names: Sequence[str] = ()) -> str:
    """The text with ID numbers, phone numbers, other long digit runs and the given names replaced
    by placeholders, and a name after a self-introduction (我叫…, 姓名…) too."""
    out = _ID_NUMBER.sub("[身份证号]", text)
    out = _PHONE.sub("[手机号]", out)
    out = _LONG_DIGITS.sub("[号码]", out)
    for name in sorted({n.strip() for n in names if n and len(n.strip()) >= 2}, key=len, reverse=True):
        out = out.replace(name, "[姓名]")
    return _NAME_INTRO.sub(lambda m: f"{m.group(1)}[姓名]", out)


def _squash(text: str) -> str:
    """Compared without white space and the usual punctuation (a model re-spaces quotes)."""
    return re.sub(r"[\s，。！？、,.!?；;：:“”\"'‘’]", "", text)


def parse_answer(content: str) -> list[dict[str, Any]]:
    """The model's findings list; ``ValueError`` when the answer is not the asked JSON. A fenced
    code block around the JSON is accepted."""
    text = content.strip()
    fenced = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", text, flags=re.S)
    if fenced:
        text = fenced.group(1)
    data = json.loads(text)
    if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
        raise ValueError('no "findings" list')
    return [f for f in data["findings"] if isinstance(f, dict)]


class LlmReviewCheck:
    """Runs after the other checks (``after_others``) with their results in ``ctx.prior_results``."""

    id = CHECK_ID
    after_others = True

    @staticmethod
    def enabled(ctx: CheckContext) -> bool:
        """Off (left out of the report) while no endpoint is configured, unless made required."""
        return ctx.llm is not None

    def run(self, ctx: CheckContext) -> CheckResult:
        if ctx.llm is None:
            return not_run(CHECK_ID, "未配置大模型 / no LLM endpoint configured (DUALREC_QC_LLM_URL)")
        if ctx.transcript is None:
            return not_run(CHECK_ID, f"无逐字稿 / no transcript: {ctx.asr_error or 'ASR not run'}")
        if not ctx.transcript:
            return not_run(CHECK_ID, "逐字稿为空 / the transcript is empty")
        names = [n for n in (ctx.task.customer_name or "",) if n]
        segments = [(s, mask_personal_data(s.text, names)) for s in ctx.transcript]
        lines = [f"[{s.start:.1f}-{s.end:.1f}] {masked}" for s, masked in segments]
        transcript = "\n".join(lines)[:MAX_TRANSCRIPT_CHARS]
        prior = [
            f"- {r.check_id} {f.severity.value} {f.start if f.start is not None else '-'}s: "
            f"{mask_personal_data(f.message, names)}"
            for r in ctx.prior_results
            for f in r.findings
            if f.severity is not Severity.INFO
        ]
        user = (
            f"逐字稿 / transcript（[开始-结束秒] 原文）:\n{transcript}\n\n"
            f"已有发现 / findings so far:\n{chr(10).join(prior) or '（无 / none）'}"
        )
        try:
            content = ctx.llm.complete(
                [{"role": "system", "content": RUBRIC}, {"role": "user", "content": user}]
            )
        except ChatError as exc:
            return not_run(CHECK_ID, f"大模型不可用 / LLM unavailable: {exc}")
        try:
            claims = parse_answer(content)
        except ValueError as exc:
            return not_run(CHECK_ID, f"大模型应答不是所要的 JSON / LLM answer is not the asked JSON: {exc}")
        findings: list[Finding] = []
        dropped = 0
        for claim in claims[:MAX_FINDINGS]:
            made = self._finding(ctx, claim, segments)
            if made is None:
                dropped += 1
            else:
                findings.append(made)
        metrics = {"model": ctx.llm.model, "claims": len(claims), "kept": len(findings), "dropped": dropped}
        return result(CHECK_ID, findings, metrics)

    @staticmethod
    def _finding(
        ctx: CheckContext, claim: dict[str, Any], segments: list[tuple[TranscriptSegment, str]]
    ) -> Finding | None:
        quote, message = claim.get("quote"), claim.get("claim")
        try:
            t = float(claim.get("time"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return None
        if not isinstance(quote, str) or not isinstance(message, str) or not _squash(quote) or not message:
            return None
        if not 0 <= t <= max(ctx.duration, max((s.end for s, _ in segments), default=0.0)):
            return None  # a time outside the recording
        wanted = _squash(quote)
        hits = [(s, masked) for s, masked in segments if wanted in _squash(masked)]
        if not hits:
            return None  # the quote is not in the transcript: a hallucination
        seg, _ = min(hits, key=lambda h: abs((h[0].start + h[0].end) / 2 - t))
        severity = Severity.MINOR if claim.get("severity") == "minor" else Severity.MAJOR
        return finding(
            ctx,
            CHECK_ID,
            severity,
            msg("finding.llm.llm_review", value=message.strip()[:500]),
            start=seg.start,
            end=seg.end,
            quote=quote.strip()[:500],
            quote_start=seg.start,
            quote_end=seg.end,
        )


CHECK = LlmReviewCheck()
