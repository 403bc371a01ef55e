"""QC of a recording: probe → one visual pass ∥ audio/ASR → OCR → nodes → checks → evidence.

Ordered stages with setup/run/cleanup; the visual and audio passes run side by side. A stage that
fails records why: a damaged recording is the file's finding (``file_integrity``), an engine that
raised makes the checks that need its output end ``error`` with the engine's message (REVIEW); one
failing check never aborts the others. The verdict also counts the checks the request's flow
requires (``checks.required``): one that could not run makes it REVIEW. Progress goes through the
injected ``ProgressReporter``; evidence images go through the injected ``EvidenceSink`` — the
pipeline does no storage I/O of its own.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from dualrec.checks.base import CheckContext, NodeSpan
from dualrec.checks.catalog import CheckSpec, default_thresholds
from dualrec.checks.faces import customer_portrait
from dualrec.checks.registry import CheckRegistry, get_registry
from dualrec.checks.required import required_checks, waived_checks
from dualrec.core.qc import CheckResult, CheckStatus, VerdictSummary, decide_verdict
from dualrec.media.ports import (
    Image,
    ProgressReporter,
)
from dualrec.pipeline.identity import identity_evidence
from dualrec.pipeline.request import QcEngines, QcOptions, QcRequest
from dualrec.pipeline.stages import STAGES, State

__all__ = ["EvidenceSink", "QcReport", "run_qc"]

logger = logging.getLogger(__name__)


class EvidenceSink(Protocol):
    def put(self, name: str, image: Image) -> str:
        """Keep ``image`` (RGB uint8) as ``name`` and return a reference to it (e.g. a file name)."""
        ...


@dataclass(frozen=True)
class QcReport:
    context: CheckContext
    specs: tuple[CheckSpec, ...]
    results: tuple[CheckResult, ...]
    verdict: VerdictSummary
    portrait_ref: str | None = None
    keyframes: tuple[tuple[float, str], ...] = ()
    stage_seconds: Mapping[str, float] = field(default_factory=dict)  # wall time (+ "visual+audio")
    # CPU time, all threads; stages that run side by side only as their group ("visual+audio")
    stage_cpu_seconds: Mapping[str, float] = field(default_factory=dict)
    stage_errors: Mapping[str, str] = field(default_factory=dict)
    identity: Mapping[str, Any] = field(default_factory=dict)  # pipeline.identity.identity_evidence
    required: Mapping[str, str] = field(default_factory=dict)  # check id → why the flow needs it
    waived: frozenset[str] = frozenset()  # checks the flow does not need (checks.required)

    @property
    def nodes(self) -> tuple[NodeSpan, ...]:
        return self.context.nodes


class _NoProgress:
    def update(self, stage: str, fraction: float) -> None:
        pass


def run_qc(
    request: QcRequest,
    engines: QcEngines,
    *,
    options: QcOptions | None = None,
    progress: ProgressReporter | None = None,
    sink: EvidenceSink | None = None,
    registry: CheckRegistry | None = None,
) -> QcReport:
    options = options or QcOptions()
    reg = registry or get_registry()
    state = State(
        request=request,
        engines=engines,
        options=options,
        progress=progress or _NoProgress(),
        thresholds=default_thresholds(reg.specs(), request.thresholds),
    )
    state.weights = {part.name: part.weight for stage in STAGES for part in stage.parts()}
    for stage in STAGES:
        stage.execute(state)
        for part in stage.parts():
            state.step(part.name, 1.0)
    ctx = dataclasses.replace(state.context(), llm=engines.llm)
    specs = {s.id: s for s in reg.specs()}
    # checks that review the others' findings (the LLM checker) run last, given those results
    # an optional check that this server has turned off (``enabled(ctx)`` false, e.g. the LLM checker
    # without an endpoint) is left out of the report, unless the operator made it required
    active = [c for c in reg.checks() if _enabled(c, ctx) or c.id in dict(engines.required)]
    later = [c for c in active if getattr(c, "after_others", False)]
    done = {c.id: _engine_errors(_run_check(c, ctx), specs.get(c.id), ctx) for c in active if c not in later}
    after = dataclasses.replace(ctx, prior_results=tuple(done.values()))
    for c in later:
        done[c.id] = _engine_errors(_run_check(c, after), specs.get(c.id), after)
    results = tuple(done[c.id] for c in active)
    needs = required_checks(
        request.flow, sensitive_words=request.sensitive_words, id_photo=request.id_photo is not None
    )
    needs = {**dict(engines.required), **needs}
    required = {check_id: why for check_id, why in needs.items() if check_id in specs}
    waived = waived_checks(request.flow, required)
    verdict = decide_verdict(
        results,
        check_severity={s.id: s.severity for s in specs.values()},
        required=required,
        waived=waived,
        fail_score=options.fail_score,
    )
    report = QcReport(
        ctx,
        reg.specs(),
        results,
        verdict,
        stage_seconds=dict(state.seconds),
        stage_cpu_seconds=dict(state.cpu_seconds),
        stage_errors=dict(state.errors),
        required=required,
        waived=waived,
    )
    if sink is not None:
        report = _attach_evidence(report, state, sink, options)
    state.progress.update("done", 1.0)
    return report


def _enabled(check: object, ctx: CheckContext) -> bool:
    enabled = getattr(check, "enabled", None)
    return True if enabled is None else bool(enabled(ctx))


def _run_check(check: object, ctx: CheckContext) -> CheckResult:
    check_id = str(getattr(check, "id", "?"))
    try:
        res = check.run(ctx)  # type: ignore[attr-defined]
        if not isinstance(res, CheckResult):
            raise TypeError(f"returned {type(res).__name__}, not CheckResult")
        return res
    except Exception as exc:
        logger.warning("QC check %s failed", check_id, exc_info=True)
        return CheckResult(check_id, CheckStatus.ERROR, reason=f"error: {type(exc).__name__}: {exc}")


def _engine_errors(res: CheckResult, spec: CheckSpec | None, ctx: CheckContext) -> CheckResult:
    """A check whose input an engine error spoiled ends ``error`` with that error: not run for want
    of it, or run on a part of the recording only (its findings there are kept)."""
    broken = [ctx.engine_errors[n] for n in (spec.needs if spec else ()) if n in ctx.engine_errors]
    if not broken or res.status is CheckStatus.ERROR:
        return res
    why = "; ".join(dict.fromkeys(broken))
    if res.status is not CheckStatus.NOT_RUN:
        why = f"只检查了部分录像 / only part of the recording was checked: {why}"
    return dataclasses.replace(res, status=CheckStatus.ERROR, reason=why)


def _attach_evidence(report: QcReport, state: State, sink: EvidenceSink, options: QcOptions) -> QcReport:
    visual = state.visual
    results = []
    for res in report.results:
        findings = []
        for i, f in enumerate(res.findings):
            t = f.evidence.frame_time
            img = visual.nearest_thumb(t) if visual is not None and t is not None else None
            if img is not None and t is not None and i < options.max_evidence_per_check:
                ref = sink.put(f"{res.check_id}_{i + 1:02d}_{t:07.2f}s.jpg", img)
                f = dataclasses.replace(f, evidence=dataclasses.replace(f.evidence, frame_ref=ref))
            findings.append(f)
        results.append(dataclasses.replace(res, findings=tuple(findings)))
    portrait_ref = None
    if (portrait := customer_portrait(report.context)) is not None:
        portrait_ref = sink.put("portrait.jpg", portrait.image)
    keyframes: list[tuple[float, str]] = []
    if visual is not None and visual.thumbs:
        times = sorted(visual.thumbs)
        n = min(options.keyframes, len(times))
        for k in range(n):
            t = times[(k * (len(times) - 1)) // max(1, n - 1)] if n > 1 else times[0]
            keyframes.append((t, sink.put(f"keyframe_{k + 1:02d}_{t:07.2f}s.jpg", visual.thumbs[t])))
    identity = identity_evidence(
        report.context,
        state.ocr_images,
        visual.nearest_thumb if visual is not None else (lambda t: None),
        sink,
    )
    return dataclasses.replace(
        report,
        results=tuple(results),
        portrait_ref=portrait_ref,
        keyframes=tuple(dict(keyframes).items()),
        identity=identity,
    )
