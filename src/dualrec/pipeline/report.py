"""Report documents: the native JSON (per node, per check, evidence, verdict) and the patent format
of SPEC §5 (field names byte-compatible: runningNo, video_info, audio_recg, check_items, …)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dualrec.core.qc import CheckResult, CheckStatus, Finding, Severity
from dualrec.pipeline.qc import QcReport

__all__ = ["SCHEMA", "native_report", "patent_report"]

SCHEMA = "dualrec.qc.report/1"
_RANK = {Severity.CRITICAL: 0, Severity.MAJOR: 1, Severity.MINOR: 2, Severity.INFO: 3}


def _score(value: float | None) -> float | None:
    """An engine's score, rounded; None (JSON null) where no engine gave one: never a made-up 1.0."""
    return None if value is None else round(value, 3)


def _param(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


def _finding(f: Finding) -> dict[str, Any]:
    e = f.evidence
    keyed: dict[str, Any] = (
        {"message_key": f.key, "params": {k: _param(v) for k, v in f.params.items()}} if f.key else {}
    )
    return {
        **keyed,
        "severity": f.severity.value,
        "message": f.message,
        "start": f.start,
        "end": f.end,
        "node_id": f.node_id,
        "confidence": _score(f.confidence),
        "measure": None
        if f.measure is None
        else {
            "name": f.measure.name,
            "value": f.measure.value,
            "threshold": f.measure.threshold,
            "raised_when": f.measure.raised_when,
        },
        "evidence": {
            "frame_time": e.frame_time,
            "frame": e.frame_ref,
            "quote": e.quote,
            "quote_start": e.quote_start,
            "quote_end": e.quote_end,
        },
    }


def _codecs(report: QcReport) -> dict[str, Any]:
    """Native-report extras (the SPEC §5 video_info keeps exactly its own fields)."""
    info = report.context.info
    v = info.video if info else None
    a = info.audio if info else None
    return {
        "video_codec": v.codec if v else None,
        "audio_codec": a.codec if a else None,
        "audio_sample_rate": a.sample_rate if a else None,
        "audio_channels": a.channels if a else None,
        "bit_rate": info.bit_rate if info else None,
    }


def _video_info(report: QcReport) -> dict[str, Any]:
    ctx = report.context
    info = ctx.info
    v = info.video if info else None
    a = info.audio if info else None
    v_time = (
        ctx.video.last_pts if ctx.video and ctx.video.last_pts is not None else (v.duration if v else None)
    )
    a_time = (
        ctx.audio.last_pts if ctx.audio and ctx.audio.last_pts is not None else (a.duration if a else None)
    )
    return {
        "name": Path(ctx.path).name,
        "width": v.width if v else 0,
        "height": v.height if v else 0,
        "video_time": round(v_time, 2) if v_time is not None else 0,
        "audio_time": round(a_time, 2) if a_time is not None else 0,
        "fps": round(v.fps, 3) if v else 0,
    }


def native_report(report: QcReport) -> dict[str, Any]:
    ctx = report.context
    specs = {s.id: s for s in report.specs}
    checks = []
    for r in report.results:
        s = specs.get(r.check_id)
        checks.append(
            {
                "id": r.check_id,
                "title": s.title_zh if s else r.check_id,
                "title_en": s.title_en if s else r.check_id,
                "severity": s.severity.value if s else None,
                "status": r.status.value,
                "reason": r.reason,
                "required_by": report.required.get(r.check_id),  # why the flow needs it; None: optional
                "confidence": _score(r.confidence),
                "metrics": r.metrics,
                "findings": [_finding(f) for f in r.findings],
            }
        )
    flow = ctx.flow
    nodes = []
    for span in ctx.nodes:
        node = flow.node(span.node_id) if flow else None
        nodes.append(
            {
                "node_id": span.node_id,
                "type": span.node_type,
                "title": node.title if node else "",
                "start": round(span.start, 2),
                "end": round(span.end, 2),
                "inferred": span.inferred,
                "findings": [
                    dict(_finding(f), check_id=r.check_id)
                    for r in report.results
                    for f in r.findings
                    if f.node_id == span.node_id
                ],
            }
        )
    v = report.verdict
    return {
        "schema": SCHEMA,
        "running_no": ctx.task.running_no,
        "file": Path(ctx.path).name,
        "verdict": v.verdict.value,
        "risk_score": v.risk_score,
        "reasons": list(v.reasons),
        "video_info": {**_video_info(report), **_codecs(report)},
        "duration": round(ctx.duration, 2),
        "mode": ctx.mode,
        "nodes": nodes,
        "checks": checks,
        "transcript": [
            {
                "start": round(s.start, 2),
                "end": round(s.end, 2),
                "text": s.text,
                "confidence": _score(s.confidence),
            }
            for s in ctx.transcript or ()
        ],
        "portrait": report.portrait_ref,
        "keyframes": [{"time": t, "frame": ref} for t, ref in report.keyframes],
        "identity": dict(report.identity),
        "stage_seconds": dict(report.stage_seconds),
        "stage_cpu_seconds": dict(report.stage_cpu_seconds),
        "stage_errors": dict(report.stage_errors),
    }


def _patent_item(r: CheckResult, title: str) -> dict[str, Any]:
    findings = sorted(r.findings, key=lambda f: _RANK[f.severity])
    first = findings[0] if findings else None
    if r.status is CheckStatus.PASSED:
        comment = "通过"
    elif r.status is CheckStatus.FAILED:
        comment = "；".join(f.message.split(" / ")[0] for f in findings) or "不通过"
    elif r.status is CheckStatus.NOT_RUN:  # not_run / error never count as passed
        comment = f"未检查：{r.reason}"
    else:  # an engine error; what was checked before it may have findings
        comment = "；".join([f"检查出错：{r.reason}", *(f.message.split(" / ")[0] for f in findings)])
    image: dict[str, Any] = {"image_time": "", "image_path": ""}
    audio: dict[str, Any] = {"audio_time": "", "audio_content": ""}
    if first is not None:
        e = first.evidence
        if e.frame_time is not None:
            image = {"image_time": e.frame_time, "image_path": e.frame_ref or ""}
        if e.quote:
            audio = {
                "audio_time": e.quote_start if e.quote_start is not None else "",
                "audio_content": e.quote,
            }
    return {
        "check_items": title,
        "check_comment": comment,
        "result": "通过" if r.status is CheckStatus.PASSED else "不通过",
        "conf": _score(r.confidence if first is None else first.confidence),
        "extra_info": {"image": image, "audio": audio, "text": r.reason or ""},
    }


def patent_report(report: QcReport) -> dict[str, Any]:
    """The ``check_data`` object of SPEC §5/§6; the list of check items is ``check_list``."""
    specs = {s.id: s for s in report.specs}
    ctx = report.context
    return {
        "runningNo": ctx.task.running_no,
        "video_info": _video_info(report),
        "audio_recg": "".join(s.text for s in ctx.transcript or ()),
        "check_list": [
            _patent_item(r, specs[r.check_id].title_zh if r.check_id in specs else r.check_id)
            for r in report.results
        ],
    }
