"""The one declarative table of built-in checks. Docs (docs/checks.md) are generated from it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dualrec.checks.required import FLOW_CHECKS, NODE_CHECKS
from dualrec.core.node_params import COPY_ACCURACY, READ_ALONG_ACCURACY
from dualrec.core.qc import Severity

__all__ = ["CATALOG", "CheckSpec", "Threshold", "default_thresholds", "render_markdown", "spec_for"]


@dataclass(frozen=True)
class Threshold:
    name: str
    default: float
    unit: str
    help: str


@dataclass(frozen=True)
class CheckSpec:
    id: str
    title_zh: str
    title_en: str
    severity: Severity  # severity of its findings (a finding may be raised to critical)
    description: str
    node_types: tuple[str, ...] = ()  # empty: the whole recording
    thresholds: tuple[Threshold, ...] = ()
    # inputs: probe (stream information), video / audio (decoded and analysed), faces, asr, id_photo,
    # flow, ocr, task; an engine error on one of them makes the check end "error" (pipeline.qc)
    needs: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        return f"{self.title_zh} / {self.title_en}"


T = Threshold
S = Severity
CATALOG: tuple[CheckSpec, ...] = (
    CheckSpec(
        "file_integrity",
        "文件完整性",
        "File integrity",
        S.CRITICAL,
        "Container opens, both streams decode to the end, no truncation, no timestamp gaps, "
        "audio and video durations agree.",
        thresholds=(
            T("max_duration_mismatch", 1.0, "s", "audio vs video duration difference"),
            T("truncation_tolerance", 2.0, "s", "decoded end before the stated duration"),
        ),
    ),
    CheckSpec(
        "technical_quality",
        "技术质量",
        "Technical quality",
        S.MAJOR,
        "Resolution, frame rate and audio sample rate against the policy minimums.",
        thresholds=(
            T("min_short_side", 360, "px", "shorter side of the picture"),
            T("min_fps", 15, "fps", "video frame rate"),
            T("min_sample_rate", 16000, "Hz", "audio sample rate"),
        ),
        needs=("probe",),
    ),
    CheckSpec(
        "black_screen",
        "黑屏/遮挡",
        "Black or covered picture",
        S.MAJOR,
        "Segments where the picture is dark or uniform (lens covered).",
        thresholds=(
            T("luma_max", 20, "0-255", "mean luma below this is black"),
            T("contrast_max", 6, "0-255", "luma std below this is covered/uniform"),
            T("min_duration", 2.0, "s", "shortest segment reported"),
        ),
        needs=("video",),
    ),
    CheckSpec(
        "frozen_picture",
        "画面冻结",
        "Frozen picture",
        S.MAJOR,
        "Segments where the picture does not change at all (stalled camera or stream).",
        thresholds=(
            T("motion_max", 0.2, "0-255", "mean |Δluma| between samples"),
            T("min_duration", 3.0, "s", "shortest segment reported"),
        ),
        needs=("video",),
    ),
    CheckSpec(
        "silence",
        "静音/音量过低",
        "Silence or very low audio",
        S.MAJOR,
        "Segments where the audio level stays below a floor.",
        thresholds=(
            T("level_db", -50.0, "dBFS", "RMS level below this is silence"),
            T("min_duration", 4.0, "s", "shortest segment reported"),
        ),
        needs=("audio",),
    ),
    CheckSpec(
        "face_presence",
        "客户在镜",
        "Customer on camera",
        S.MAJOR,
        "Face presence over time, ratio per node and overall; every absence longer than the "
        "limit (outside black/covered segments, which black_screen reports).",
        thresholds=(
            T("min_absence", 3.0, "s", "shortest absence reported"),
            T("min_ratio", 0.8, "ratio", "overall presence below this is a finding"),
        ),
        needs=("video", "faces"),
    ),
    CheckSpec(
        "people_count",
        "画面人数",
        "People in frame",
        S.MAJOR,
        "Self-service: exactly one person (an extra face is a finding). Two-person modes (human: "
        "face-to-face signing; counter: 柜面): the salesperson and the customer in the same frame, "
        "so fewer than two people, or a third person, is a finding. Faces of one person (the "
        "customer and the photo on their ID card) count once.",
        thresholds=(
            T("min_duration", 1.0, "s", "shortest segment reported"),
            T("min_missing", 3.0, "s", "two-person modes: shortest stretch with fewer than two people"),
            T("min_face_ratio", 0.002, "ratio", "faces smaller than this share are ignored"),
        ),
        needs=("video", "faces"),
    ),
    CheckSpec(
        "identity_match",
        "人证比对",
        "Face vs ID photo",
        S.CRITICAL,
        "The customer's face against the ID/stored photo (dlib 128-D distance); every stretch "
        "where someone else is on camera instead of the customer and does not match the photo is "
        "a finding of its own. For a self-service session: the live comparison of the card's "
        "portrait with the liveness face, and the faces in the recording against that face "
        "verified live (a different person is critical).",
        thresholds=(
            T(
                "max_distance",
                0.6,
                "distance",
                "same person below this (a flow's params.face_threshold overrides it)",
            ),
        ),
        needs=("faces", "id_photo"),
    ),
    CheckSpec(
        "identity_consistency",
        "人员一致性",
        "Same person throughout",
        S.CRITICAL,
        "Every face embedded in the recording is grouped into people; every stretch where someone "
        "other than the customer (and, in two-person modes, the salesperson) is on camera while the "
        "customer is not (a swap, a stand-in, a cut to another person) is a finding with its time "
        "range and frame.",
        thresholds=(
            T("max_distance", 0.6, "distance", "same person below this"),
            T("min_samples", 2, "samples", "embeddings of a face before it counts as a person"),
        ),
        needs=("faces",),
    ),
    CheckSpec(
        "liveness",
        "活体检测",
        "Liveness",
        S.MAJOR,
        "The liveness challenge of a self-service session (random head shakes, nods, blinks on the "
        "streamed frames), as the session proved it: source, actions, time; a failed challenge is a "
        "critical finding. Not run for other recordings (the video alone cannot prove liveness); "
        "its not_run is no reason for review by itself.",
        needs=("live_proof",),
    ),
    CheckSpec(
        "id_card",
        "身份证出示",
        "ID card shown",
        S.MAJOR,
        "OCR of the card frames; the ID number's GB 11643 check digit; name and number against "
        "the task data. For a self-service session that read the card live (camera or photo album), "
        "the session's result (source live_session) instead of the video.",
        node_types=("identity", "document_display"),
        needs=("video", "ocr"),
    ),
    CheckSpec(
        "transcript",
        "逐字稿",
        "Verbatim transcript",
        S.MINOR,
        "Timestamped transcript of the whole recording, in simplified characters. Speech the "
        "recogniser hears in another language than Mandarin is left out of the transcript (so of the "
        "script and answer checks) and is a major finding with its times and what was heard; so is "
        "sound in which no Mandarin was recognised at all (music, noise, another language). Voice "
        "between Mandarin sentences that the transcript does not contain (a short phrase in another "
        "language, too short for its language to be detected, is dropped by the recogniser) is a minor "
        "finding with its times: not counted for scripts or answers, to be listened to (REVIEW). A "
        "segment written in Latin letters while decoding Mandarin is another language.",
        thresholds=(
            T("min_confidence", 0.35, "0-1", "mean ASR confidence below this is flagged"),
            T("min_sound_seconds", 3.0, "s", "sound (VAD) this long with no Mandarin recognised is flagged"),
            T(
                "min_unheard_seconds",
                1.0,
                "s",
                "voice (VAD) this long that no transcript segment covers is flagged",
            ),
        ),
        needs=("audio", "asr"),
    ),
    CheckSpec(
        "script_coverage",
        "话术完整性",
        "Required statements read",
        S.CRITICAL,
        "Each required statement (risk disclosure, disclaimers, mandatory opening) found in the "
        "transcript with pinyin-aware fuzzy matching; coverage % and best quote.",
        node_types=("risk_disclosure", "identity", "qa", "willingness", "document_display", "signing", "end"),
        thresholds=(T("min_coverage", 0.8, "ratio", "statement coverage needed to pass"),),
        needs=("asr", "flow"),
    ),
    CheckSpec(
        "answers",
        "客户应答",
        "Customer answers",
        S.MAJOR,
        "Affirmative / expected answers where the flow asks; negations do not count as yes; "
        "silence is not consent. A read-along (params.mode read_along) is scored on the sentence's "
        "syllables in order, a handwritten copy (copy) on the copy the live session read with confidence "
        "(none: review); a node's params.accuracy overrides the defaults below. The server runs QC "
        "with the live session's setting (DUALREC_SESSION_READ_ALONG_THRESHOLD / "
        "DUALREC_SESSION_COPY_ACCURACY) as these two thresholds, so QC and the session judge against "
        "one value.",
        node_types=("qa", "willingness"),
        thresholds=(
            T("answer_window", 8.0, "s", "time after a node's prompt to look for the answer"),
            T(
                "read_along_accuracy",
                READ_ALONG_ACCURACY,
                "ratio",
                "share of a read-along sentence's syllables heard in order",
            ),
            T(
                "copy_accuracy",
                COPY_ACCURACY,
                "ratio",
                "share of a copied sentence's characters read in order",
            ),
        ),
        needs=("asr", "flow"),
    ),
    CheckSpec(
        "sensitive_words",
        "敏感词",
        "Sensitive words",
        S.MAJOR,
        "Words from the editable financial list (保本, 稳赚, 无风险…; the list the console edits, "
        "used by server QC), exact or homophone, with times.",
        needs=("asr",),
    ),
    CheckSpec(
        "portrait",
        "客户人像",
        "Best portrait frame",
        S.MINOR,
        "The customer's most frontal, sharp, eyes-open face (in a counter or remote recording the "
        "customer's, not the salesperson's), saved as the customer's photo. The score weighs the "
        "face's own resolution (full from about 80 px wide), not how much of the frame it fills.",
        thresholds=(T("min_score", 0.3, "0-1", "best portrait score needed"),),
        needs=("video", "faces"),
    ),
    CheckSpec(
        "call_quality",
        "通话质量",
        "Call quality (remote interview)",
        S.MAJOR,
        "Remote interviews only: what both browsers received every 2 s (audio MOS estimate by the "
        "E-model from loss, jitter and delay; video grade from resolution, frame rate and freezes) "
        "against the SPEC §8 minimum (MOS > 3, 320×240 at 15 fps); every stretch under it, every "
        "gap of the server's recording of a party's stream and every stretch without reports is a "
        "finding with its times. The series is in the report for the playback page.",
        thresholds=(
            T("min_mos", 3.0, "MOS", "audio MOS estimate at or below this is under the minimum"),
            T("min_duration", 6.0, "s", "shortest stretch under the minimum reported"),
        ),
    ),
    CheckSpec(
        "live_call",
        "通话实时分析",
        "Live analysis of the call (remote interview)",
        S.MAJOR,
        "Remote interviews analysed live only: a risk alert raised during the call (a sensitive "
        "word, the customer's answer contradicting the running node's expected answer) that the "
        "interviewer did not acknowledge is a finding with its time, words and subtitle; an "
        "acknowledged one is listed as info. A live face alert (no face, several faces, covered, "
        "dark) is info when the recording's own face checks found the same around that time (not "
        "counted twice), a minor finding for a person to look at when they did not; a face other "
        "than the customer verified before the hand-over is always a finding.",
        thresholds=(
            T("face_before", 5.0, "s", "a live face alert's condition may have begun this long before it"),
            T("face_after", 3.0, "s", "and may have lasted this long after it"),
        ),
    ),
    CheckSpec(
        "llm_review",
        "大模型复核",
        "LLM review",
        S.MAJOR,
        "Extension point, off by default (left out of the report while no endpoint is configured, "
        "unless required): the transcript with personal data masked (ID numbers, phone "
        "numbers, long digit runs, the customer's name) and the other checks' findings go to the "
        "operator's OpenAI-compatible endpoint (`DUALREC_QC_LLM_*`) with a rubric (every claim cites a "
        "time and a verbatim quote; silence is not consent; no quote, no finding). Only claims whose "
        "quote is in the transcript and whose time is inside the recording become findings (at most "
        "major: a model sends a recording to review, never fails it alone). A timeout, an HTTP error "
        "or an answer that is not the asked JSON makes it not_run with the reason; that forces REVIEW "
        "only when `DUALREC_QC_LLM_REQUIRED` is true (so does a missing transcript: the check needs no "
        "engine input of its own, and an ASR error is the transcript check's to report).",
    ),
)


def spec_for(check_id: str) -> CheckSpec | None:
    return next((s for s in CATALOG if s.id == check_id), None)


def default_thresholds(
    specs: tuple[CheckSpec, ...] = CATALOG, overrides: Mapping[str, Mapping[str, float]] | None = None
) -> dict[str, dict[str, float]]:
    out = {s.id: {t.name: float(t.default) for t in s.thresholds} for s in specs}
    for check_id, values in (overrides or {}).items():
        if check_id not in out:
            raise KeyError(f"unknown check {check_id!r}")
        for name, value in values.items():
            if name not in out[check_id]:
                raise KeyError(f"unknown threshold {check_id}.{name}")
            out[check_id][name] = float(value)
    return out


def render_markdown(specs: tuple[CheckSpec, ...] = CATALOG) -> str:
    lines = [
        "# QC checks / 质检项",
        "",
        "Generated from `dualrec.checks.catalog.CATALOG` by `render_markdown()`; do not edit by hand.",
        "",
        "Run locally: `dualrec check VIDEO [--task task.json] [--flow flow.json] [--markers markers.json] "
        "[--id-photo PHOTO] [--out report.json] [--pdf report.pdf] [--patent-out patent.json] "
        "[--device cpu|cuda|auto] [--debug]`. Exit code 0 means a report was written (the verdict and "
        "its reasons, one line each, are printed and are in the report); 2 means a usage or I/O error "
        "(missing or unreadable input, bad JSON). With `--exit-code`: 0 for PASS, 1 for REVIEW or FAIL. "
        "A corrupt, truncated or non-media file is not an error: its report says what is wrong (FAIL, "
        "the first reason naming the problem), with no traceback; `--debug` prints the debug log with "
        "tracebacks.",
        "",
        "Each check ends `passed`, `failed` (with findings: time range, node, evidence frame and/or "
        "transcript quote), `not_run` (with the reason, e.g. no ID photo supplied, or which engine is "
        "unavailable; never counted as passed) or `error` (the check crashed, or an engine it needs "
        "raised — named in the reason; never a finding against the file; the others still run). "
        "Verdict: **FAIL** when any finding is critical or the risk score reaches 60; **REVIEW** when "
        "any finding is major or minor, a check errored, a check the recording requires could not run "
        "(see below; whatever its severity), or a critical-severity check could not run that the flow "
        "does not waive; **PASS** otherwise. The risk score (0–100) adds, per check, its worst "
        "finding's weight (critical 50, major 20, minor 5) plus a quarter of the others', and 5 if any "
        "check errored.",
        "",
        "Checks a flow requires (`dualrec.checks.required`): every recording made to a flow needs "
        f"{', '.join(f'`{c}`' for c in FLOW_CHECKS if c != 'sensitive_words')} "
        "and `sensitive_words` (when the word list is "
        "not empty); each enabled node adds the checks of its type below (script coverage only for a "
        "node with required statements, answers only for a node that asks); an ID photo supplied "
        "requires `identity_match`. A check the flow requires that did not run makes the verdict REVIEW, "
        "the reason naming the check, the node that needs it and why it did not run (the engine and its "
        "error). The checks of this table a flow does not require are waived (e.g. `script_coverage` of "
        "a flow without required statements). Without a flow (a plain upload) nothing is required or "
        "waived: a critical-severity check that did not run forces REVIEW.",
        "",
        "| node type | requires |",
        "|---|---|",
        *(f"| `{t}` | {', '.join(f'`{c}`' for c in checks) or '—'} |" for t, checks in NODE_CHECKS.items()),
        "",
        "| id | 检查项 / check | severity | nodes | needs |",
        "|---|---|---|---|---|",
    ]
    for s in specs:
        nodes = ", ".join(s.node_types) or "whole recording"
        lines.append(f"| `{s.id}` | {s.title} | {s.severity.value} | {nodes} | {', '.join(s.needs) or '—'} |")
    for s in specs:
        lines += ["", f"## `{s.id}` — {s.title}", "", s.description]
        if s.thresholds:
            lines += ["", "| threshold | default | unit | meaning |", "|---|---|---|---|"]
            lines += [f"| `{t.name}` | {t.default:g} | {t.unit} | {t.help} |" for t in s.thresholds]
    return "\n".join(lines) + "\n"
