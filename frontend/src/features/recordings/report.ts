// The native QC report (GET /recordings/{id}/report, schema dualrec.qc.report/1) and pure helpers
// the report page uses: time formatting, the timeline's markers, evidence URLs, ID-number checks.

export type Verdict = "PASS" | "REVIEW" | "FAIL";
export type CheckStatus = "passed" | "failed" | "not_run" | "error";
export type Severity = "critical" | "major" | "minor" | "info";

export interface Evidence {
  frame_time: number | null;
  frame: string | null;
  quote: string | null;
  quote_start: number | null;
  quote_end: number | null;
}

export interface Finding {
  severity: Severity;
  message: string;
  start: number | null; // null: about the whole file (e.g. its resolution)
  end: number | null;
  node_id: string | null;
  // 0..1 from an engine's own score (ASR word probabilities, OCR scores, a face distance);
  // null where no engine measures how sure the finding is — never shown as a made-up 100 %
  confidence: number | null;
  evidence: Evidence;
}

export interface CheckRow {
  id: string;
  title: string;
  title_en: string;
  severity: Severity | null;
  status: CheckStatus;
  reason: string | null;
  // why the recording needs this check (the flow node that asks for it, "中文 / English", from
  // checks/required.py); null or absent: optional. A required check that did not run forces REVIEW.
  required_by?: string | null;
  confidence: number | null;
  findings: Finding[];
  metrics?: Record<string, unknown>; // what the check measured (e.g. call_quality's series)
}

export interface TranscriptLine {
  start: number;
  end: number;
  text: string;
  confidence: number | null;
}

export interface NodeSpan {
  node_id: string;
  type: string;
  title: string;
  start: number;
  end: number;
  inferred: boolean;
}

export interface VideoInfo {
  name: string;
  width: number;
  height: number;
  video_time: number;
  audio_time: number;
  fps: number;
}

export interface NativeReport {
  schema: string;
  running_no: string;
  verdict: Verdict;
  risk_score: number;
  reasons: string[];
  video_info: VideoInfo;
  duration: number;
  mode: string;
  nodes: NodeSpan[];
  checks: CheckRow[];
  transcript: TranscriptLine[];
  portrait: string | null;
  keyframes: { time: number; frame: string }[];
  stage_seconds: Record<string, number>;
  stage_errors: Record<string, string>;
}

/** A finding with the check it belongs to, as placed on the timeline. */
export interface Marker {
  key: string;
  checkId: string;
  checkTitle: string;
  finding: TimedFinding;
  left: number; // percent of the duration
  width: number; // percent, at least a visible sliver
}

const SEVERITY_RANK: Record<Severity, number> = { critical: 0, major: 1, minor: 2, info: 3 };

/** Seconds as mm:ss.s (e.g. 75.25 → "01:15.3"); hours are folded into minutes. */
export function formatClock(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return "--:--.-";
  const tenths = Math.round(seconds * 10);
  const minutes = Math.floor(tenths / 600);
  const rest = (tenths % 600) / 10;
  return `${String(minutes).padStart(2, "0")}:${rest.toFixed(1).padStart(4, "0")}`;
}

/** "01:15.3 – 01:20.0", or a single time when start and end coincide or the end is unknown. */
/** An engine's score as a percentage ("42%"), or null where there is none to show. */
export function formatConfidence(value: number | null | undefined): string | null {
  return typeof value === "number" && Number.isFinite(value) ? `${Math.round(value * 100)}%` : null;
}

export function formatRange(start: number, end: number | null): string {
  return end === null || Math.abs(end - start) < 0.05
    ? formatClock(start)
    : `${formatClock(start)} – ${formatClock(end)}`;
}

/** A marker placed on the timeline: a finding with a start time. */
export interface TimedFinding extends Finding {
  start: number;
}

export const isTimed = (finding: Finding): finding is TimedFinding =>
  finding.start !== null && Number.isFinite(finding.start);

/**
 * Every timed finding of every check as a timeline marker, most severe last so it is drawn on top.
 * Findings about the whole file (no start) have no place on the timeline; the checks table lists them.
 */
export function timelineMarkers(checks: readonly CheckRow[], duration: number, minWidth = 0.6): Marker[] {
  const span = duration > 0 ? duration : 1;
  const clamp = (value: number): number => Math.min(100, Math.max(0, value));
  const markers: Marker[] = [];
  for (const check of checks) {
    check.findings.forEach((finding, index) => {
      if (!isTimed(finding)) return;
      const left = clamp((finding.start / span) * 100);
      const right = clamp((Math.max(finding.end ?? finding.start, finding.start) / span) * 100);
      markers.push({
        key: `${check.id}-${index}`,
        checkId: check.id,
        checkTitle: check.title,
        finding,
        left: Math.min(left, 100 - minWidth),
        width: Math.max(right - left, minWidth),
      });
    });
  }
  return markers.sort(
    (a, b) => SEVERITY_RANK[b.finding.severity] - SEVERITY_RANK[a.finding.severity] || a.left - b.left,
  );
}

/** One timeline row per check that has timed findings, in the checks table's order. */
export interface Lane {
  checkId: string;
  title: string;
  titleEn: string;
  markers: Marker[];
}

export function timelineLanes(checks: readonly CheckRow[], duration: number): Lane[] {
  return orderedChecks(checks)
    .map((check) => ({
      checkId: check.id,
      title: check.title,
      titleEn: check.title_en,
      markers: timelineMarkers([check], duration),
    }))
    .filter((lane) => lane.markers.length > 0);
}

/** Failed checks first (most severe first), then not run / error, then passed; stable otherwise. */
export function orderedChecks(checks: readonly CheckRow[]): CheckRow[] {
  const statusRank: Record<CheckStatus, number> = { failed: 0, error: 1, not_run: 2, passed: 3 };
  return checks
    .map((check, index) => ({ check, index }))
    .sort(
      (a, b) =>
        statusRank[a.check.status] - statusRank[b.check.status] ||
        SEVERITY_RANK[a.check.severity ?? "info"] - SEVERITY_RANK[b.check.severity ?? "info"] ||
        a.index - b.index,
    )
    .map(({ check }) => check);
}

/** URL of an evidence frame ("evidence/<name>" in the report) of a recording; null for other refs. */
export function evidenceUrl(recordingId: string, ref: string | null | undefined): string | null {
  if (!ref) return null;
  const match = /^evidence\/([A-Za-z0-9._-]+)$/.exec(ref);
  return match ? `/api/v1/recordings/${encodeURIComponent(recordingId)}/evidence/${match[1]}` : null;
}

/** The transcript line being spoken at `time` (index), or -1. */
export function activeLine(lines: readonly TranscriptLine[], time: number): number {
  return lines.findIndex((line) => time >= line.start && time < line.end);
}

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = "10X98765432";

/** True for an 18-character PRC resident ID number with a valid date and check digit (GB 11643). */
export function isValidIdNumber(value: string): boolean {
  const id = value.trim().toUpperCase();
  if (!/^\d{17}[\dX]$/.test(id)) return false;
  const year = Number(id.slice(6, 10));
  const month = Number(id.slice(10, 12));
  const day = Number(id.slice(12, 14));
  const date = new Date(Date.UTC(year, month - 1, day));
  if (year < 1900 || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return false;
  const sum = ID_WEIGHTS.reduce((acc, weight, i) => acc + weight * Number(id[i]), 0);
  return ID_CHECK[sum % 11] === id[17];
}

/** Bytes in the largest fitting unit (1 decimal): 1536 → "1.5 KB". */
export function formatBytes(bytes: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

// "中文 / English" (or "中文（…）/ English") → its two halves, cut at the first "/" followed by a
// space (the server writes bilingual texts so); without one: the same text twice.
function bilingual(text: string): { zh: string; en: string } {
  const cut = /\s*\/\s/.exec(text);
  if (!cut) return { zh: text, en: text };
  return { zh: text.slice(0, cut.index).trim(), en: text.slice(cut.index + cut[0].length).trim() };
}

// Why a check that did not run sent the recording to review: the flow node (or the ID photo) that
// required it, Chinese first, English second. Null for a check that ran or that nothing required
// (an optional check that did not run does not force REVIEW).
export function requiredNotRun(check: CheckRow): string | null {
  if (check.status !== "not_run" || !check.required_by) return null;
  const why = bilingual(check.required_by);
  return `${why.zh}要求此检查，未执行，须人工复核 / required by ${why.en}; not run, so the recording needs review`;
}
