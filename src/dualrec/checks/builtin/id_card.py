"""ID card shown: OCR fields, GB 11643 check digit, name and number against the task."""

from __future__ import annotations

from dualrec.checks import live
from dualrec.checks.base import CheckContext, FunctionCheck, OcrObservation, finding, not_run, result
from dualrec.core.idcard import normalize_id_number
from dualrec.core.qc import CheckResult, Finding, Severity
from dualrec.i18n import Message, msg, pair

ID = "id_card"
CARD_NODES = ("identity", "document_display")


def _mask(number: str) -> str:
    return number[:4] + "*" * (len(number) - 8) + number[-4:] if len(number) > 8 else number


def run(ctx: CheckContext) -> CheckResult:
    if ctx.live_proof is not None and ctx.live_proof.covers_id_card:  # read live in the session
        return live.id_card(ctx, ID)
    if ctx.ocr is None:
        return not_run(ID, ctx.ocr_error or "未进行证件识别 / no OCR was run")
    fronts = [o for o in ctx.ocr if o.fields.side == "front"]
    expected = ctx.flow is not None and any(n.type == "identity" for n in ctx.flow.nodes)
    if not fronts:
        if expected:
            return result(
                ID,
                [finding(ctx, ID, Severity.MAJOR, msg("finding.id_card.id_card_front_seen"))],
            )
        return not_run(ID, "画面中未出现身份证 / no ID card seen in the sampled frames")
    best: OcrObservation = next((o for o in fronts if o.fields.id_number_valid), None) or next(
        (o for o in fronts if o.fields.id_number), fronts[0]
    )
    f = best.fields
    quote = " ".join(best.lines)
    out: list[Finding] = []

    def add(sev: Severity, message: Message) -> None:
        out.append(
            finding(
                ctx,
                ID,
                sev,
                message,
                start=best.t,
                frame_time=best.t,
                quote=quote,
                confidence=best.confidence,
            )
        )

    if not f.id_number:
        add(Severity.MAJOR, msg("finding.id_card.number_not_read"))
    elif not f.id_number_valid:
        add(Severity.CRITICAL, msg("finding.id_card.invalid_check_digit", number=_mask(f.id_number)))
    if f.id_number and ctx.task.id_number and normalize_id_number(ctx.task.id_number) != f.id_number:
        add(Severity.CRITICAL, msg("finding.id_card.number_differs"))
    if ctx.task.customer_name and f.name != ctx.task.customer_name:
        add(Severity.MAJOR, msg("finding.id_card.name_differs", name=f.name or pair("未识别", "unread")))
    metrics = {
        "t": round(best.t, 2),
        "name": f.name,
        "id_number": _mask(f.id_number) if f.id_number else None,
        "check_digit_valid": f.id_number_valid,
        "back_seen": any(o.fields.side == "back" for o in ctx.ocr),
    }
    return result(ID, out, metrics)


CHECK = FunctionCheck(ID, run)
