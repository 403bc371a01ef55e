// QC operations (质检运营): types from the API and the pure helpers the review pages use — the
// workbench's finding navigation and keyboard shortcuts, the sampling form → request body, and the
// statistics → chart data.
import type { Schemas } from "@/api/client";
import type { CheckRow, Finding, Lane, Severity } from "@/features/recordings/report";
import { timelineLanes } from "@/features/recordings/report";

export type ReviewItem = Schemas["ReviewItemOut"];
export type Appeal = Schemas["AppealOut"];
export type SamplingRule = Schemas["RuleOut"];
export type Sample = Schemas["SampleOut"];
export type StatsRow = Schemas["StatsRowOut"];
export type Stats = Schemas["StatsOut"];
export type FindingDecision = Schemas["FindingDecisionOut"];

export const VERDICTS = ["PASS", "REVIEW", "FAIL"] as const;
export const DECISIONS = ["pass", "fail", "rerecord"] as const;
export type Decision = (typeof DECISIONS)[number];
export const ITEM_STATUSES = ["pending", "in_review", "awaiting_final", "done", "appealed"] as const;

/** A machine finding as the review keeps it (core.review.raised_findings). */
export interface RaisedFinding {
  key: string;
  check_id: string;
  check_title: string;
  severity: Severity;
  message: string;
  start: number | null;
  end: number | null;
  node_id: string | null;
  evidence: Partial<Finding["evidence"]>;
}

export const raisedFindings = (item: ReviewItem): RaisedFinding[] => item.findings as unknown as RaisedFinding[];

/** The reviewer's word on a machine finding, if any. */
export function decisionFor(item: ReviewItem, key: string): FindingDecision | undefined {
  return item.decisions.find((d) => d.finding_key === key);
}

export const addedFindings = (item: ReviewItem): FindingDecision[] => item.decisions.filter((d) => d.finding_key === null);

/** Whether the caller may still work on the item (open, and theirs or nobody's). */
export function workable(item: ReviewItem, userId: number | null): boolean {
  return (
    (item.status === "pending" || item.status === "in_review") &&
    (item.assignee_id === null || item.assignee_id === userId)
  );
}

/** The next (+1) or previous (−1) finding from `index`, wrapping; -1 when there are none. */
export function step(index: number, count: number, direction: 1 | -1): number {
  if (count <= 0) return -1;
  if (index < 0) return direction === 1 ? 0 : count - 1;
  return (index + direction + count) % count;
}

/** The first finding not yet confirmed or overruled after `index` (wrapping), or -1. */
export function nextOpen(item: ReviewItem, index: number): number {
  const list = raisedFindings(item);
  const open = new Set(item.open_findings);
  for (let i = 1; i <= list.length; i += 1) {
    const at = (Math.max(index, -1) + i) % list.length;
    if (open.has(list[at]?.key ?? "")) return at;
  }
  return -1;
}

export type ShortcutAction = "next" | "prev" | "confirm" | "overrule";

/** The workbench's shortcut for a key press: j/k next/previous finding, c confirm, o overrule. Keys
 * typed into a field or with a modifier are the field's, not shortcuts. */
export function shortcut(event: Pick<KeyboardEvent, "key" | "ctrlKey" | "metaKey" | "altKey" | "target">): ShortcutAction | null {
  if (event.ctrlKey || event.metaKey || event.altKey) return null;
  const target = event.target as { tagName?: string; isContentEditable?: boolean } | null;
  const tag = target?.tagName?.toUpperCase() ?? "";
  if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target?.isContentEditable) return null;
  return ({ j: "next", k: "prev", c: "confirm", o: "overrule" } as const)[event.key as "j" | "k" | "c" | "o"] ?? null;
}

/** The item's findings as report checks, so the recording page's timeline can draw them. */
export function findingChecks(item: ReviewItem, titles: ReadonlyMap<string, string> = new Map()): CheckRow[] {
  const byCheck = new Map<string, CheckRow>();
  for (const f of raisedFindings(item)) {
    const row =
      byCheck.get(f.check_id) ??
      ({ id: f.check_id, title: f.check_title, title_en: f.check_id, severity: f.severity, status: "failed", reason: null, confidence: 1, findings: [] } as CheckRow);
    row.findings.push({
      severity: f.severity,
      message: f.message,
      start: f.start,
      end: f.end,
      node_id: f.node_id,
      confidence: 1,
      evidence: { frame_time: null, frame: null, quote: null, quote_start: null, quote_end: null, ...f.evidence },
    });
    byCheck.set(f.check_id, row);
  }
  for (const a of addedFindings(item)) {
    const id = `added:${a.check_id}`;
    const row =
      byCheck.get(id) ??
      ({ id, title: `＋ ${titles.get(a.check_id) ?? a.check_id}`, title_en: `+ ${a.check_id}`, severity: "major", status: "failed", reason: null, confidence: 1, findings: [] } as CheckRow);
    row.findings.push({
      severity: "major",
      message: a.reason,
      start: a.start,
      end: a.end,
      node_id: null,
      confidence: 1,
      evidence: { frame_time: null, frame: null, quote: null, quote_start: null, quote_end: null },
    });
    byCheck.set(id, row);
  }
  return [...byCheck.values()];
}

export const findingLanes = (item: ReviewItem, duration: number, titles?: ReadonlyMap<string, string>): Lane[] =>
  timelineLanes(findingChecks(item, titles), duration);

// ---- sampling --------------------------------------------------------------------------------

// Number fields may hold numbers once edited (v-model on a number input).
export interface SamplingForm {
  branchId: string | number;
  recordedFrom: string; // <input type="datetime-local"> value, local time
  recordedTo: string;
  businessTypes: string; // comma separated
  products: string;
  customerTypes: string;
  modes: string;
  agents: string;
  verdicts: string[];
  riskMin: string | number;
  riskMax: string | number;
  ratePass: string | number;
  rateReview: string | number;
  rateFail: string | number;
  perBranch: boolean;
  highRiskMin: string | number;
  highRiskFlagged: boolean; // every recording a high-risk rule flagged
  limit: string | number;
  assignees: number[];
}

export const emptySamplingForm = (): SamplingForm => ({
  branchId: "",
  recordedFrom: "",
  recordedTo: "",
  businessTypes: "",
  products: "",
  customerTypes: "",
  modes: "",
  agents: "",
  verdicts: [],
  riskMin: "",
  riskMax: "",
  ratePass: "10",
  rateReview: "100",
  rateFail: "100",
  perBranch: true,
  highRiskMin: "",
  highRiskFlagged: false,
  limit: "",
  assignees: [],
});

const list = (text: string): string[] =>
  text
    .split(/[,，、\s]+/)
    .map((v) => v.trim())
    .filter(Boolean);

/** A number field's value (Vue's v-model gives a number input's value as a number, "" when empty). */
function num(value: string | number): number | null {
  const text = String(value ?? "").trim();
  return text === "" || !Number.isFinite(Number(text)) ? null : Number(text);
}

/** A local datetime-local value as an ISO time with the browser's offset (the API wants a zone). */
export function localToIso(value: string): string | null {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** The filters and plan the form describes, as the API's SampleIn / RuleIn parts. */
export function samplingBody(form: SamplingForm) {
  const rates: Record<string, number> = {};
  for (const [verdict, value] of [
    ["PASS", form.ratePass],
    ["REVIEW", form.rateReview],
    ["FAIL", form.rateFail],
  ] as const) {
    const n = num(value);
    if (n !== null) rates[verdict] = n;
  }
  const filters = {
    ...(num(form.branchId) !== null ? { branch_id: num(form.branchId) as number } : {}),
    ...(localToIso(form.recordedFrom) ? { recorded_from: localToIso(form.recordedFrom) as string } : {}),
    ...(localToIso(form.recordedTo) ? { recorded_to: localToIso(form.recordedTo) as string } : {}),
    business_types: list(form.businessTypes),
    products: list(form.products),
    customer_types: list(form.customerTypes),
    modes: list(form.modes),
    agents: list(form.agents),
    verdicts: form.verdicts.filter((v): v is (typeof VERDICTS)[number] => (VERDICTS as readonly string[]).includes(v)),
    ...(num(form.riskMin) !== null ? { risk_min: num(form.riskMin) as number } : {}),
    ...(num(form.riskMax) !== null ? { risk_max: num(form.riskMax) as number } : {}),
  };
  const plan = {
    rates,
    default_rate: 0,
    per_branch: form.perBranch,
    high_risk_min: num(form.highRiskMin),
    limit: num(form.limit),
    high_risk_flagged: form.highRiskFlagged,
  };
  return { filters, plan, assignees: [...form.assignees] };
}

/** A rule as the form shows it (the inverse of samplingBody for what a rule keeps). */
export function ruleForm(rule: SamplingRule): SamplingForm {
  const f = rule.filters as Record<string, unknown>;
  const p = rule.plan as {
    rates?: Record<string, number>;
    per_branch?: boolean;
    high_risk_min?: number | null;
    limit?: number | null;
    high_risk_flagged?: boolean;
  };
  const join = (v: unknown): string => (Array.isArray(v) ? v.join(", ") : "");
  const rate = (v: string): string => (p.rates && v in p.rates ? String(p.rates[v]) : "0");
  return {
    ...emptySamplingForm(),
    branchId: String(rule.branch_id),
    businessTypes: join(f.business_types),
    products: join(f.products),
    customerTypes: join(f.customer_types),
    modes: join(f.modes),
    agents: join(f.agents),
    verdicts: Array.isArray(f.verdicts) ? (f.verdicts as string[]) : [],
    riskMin: f.risk_min === undefined ? "" : String(f.risk_min),
    riskMax: f.risk_max === undefined ? "" : String(f.risk_max),
    ratePass: rate("PASS"),
    rateReview: rate("REVIEW"),
    rateFail: rate("FAIL"),
    perBranch: p.per_branch ?? true,
    highRiskMin: p.high_risk_min === null || p.high_risk_min === undefined ? "" : String(p.high_risk_min),
    highRiskFlagged: p.high_risk_flagged ?? false,
    limit: p.limit === null || p.limit === undefined ? "" : String(p.limit),
    assignees: [...rule.assignees],
  };
}

/** "10 %" style text of a plan's rates for a list. */
export function ratesText(plan: Record<string, unknown>): string {
  const rates = (plan.rates ?? {}) as Record<string, number>;
  return VERDICTS.filter((v) => v in rates)
    .map((v) => `${v} ${rates[v]}%`)
    .join(" · ");
}

// ---- statistics ------------------------------------------------------------------------------

/** A share as a percentage with one decimal ("75.0%"), or "—". */
export function percent(value: number | null | undefined): string {
  return value === null || value === undefined ? "—" : `${(value * 100).toFixed(1)}%`;
}

/** Seconds as "1 min 05 s" / "42 s", or "—". */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "—";
  const s = Math.round(seconds);
  return s >= 60 ? `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s` : `${s} s`;
}

/** The chart's labels and series for the chosen grouping: precision (%) per check, or first-time
 * pass and re-record rates (%) per branch / period. Rows without a value are drawn as gaps. */
export function chartData(stats: Stats): { labels: string[]; series: { key: "precision" | "first_time_pass_rate" | "rerecord_rate"; values: (number | null)[] }[] } {
  const labels = stats.rows.map((r) => r.label || r.key);
  const pct = (v: number | null): number | null => (v === null ? null : Math.round(v * 1000) / 10);
  if (stats.group_by === "check") {
    return { labels, series: [{ key: "precision", values: stats.rows.map((r) => pct(r.precision)) }] };
  }
  return {
    labels,
    series: [
      { key: "precision", values: stats.rows.map((r) => pct(r.precision)) },
      { key: "first_time_pass_rate", values: stats.rows.map((r) => pct(r.first_time_pass_rate)) },
      { key: "rerecord_rate", values: stats.rows.map((r) => pct(r.rerecord_rate)) },
    ],
  };
}

/** The statistics query (and the CSV link's) from the page's filters. */
export function statsQuery(f: { since: string; until: string; groupBy: string; period: string; branchId: string }): Record<string, string> {
  const q: Record<string, string> = { group_by: f.groupBy, period: f.period };
  const since = localToIso(f.since);
  const until = localToIso(f.until);
  if (since) q.since = since;
  if (until) q.until = until;
  if (f.branchId) q.branch_id = f.branchId;
  return q;
}

// ---- high-risk rules, notices, threshold tuning ------------------------------------------------

export type HighRiskRule = Schemas["HighRiskRuleOut"];
export type HighRiskFlag = Schemas["HighRiskFlagOut"];
export type Notice = Schemas["QcNoticeOut"];
export type ThresholdAdvice = Schemas["ThresholdAdviceOut"];

export const SEVERITIES = ["minor", "major", "critical"] as const;
export const MODES = ["self_service", "human", "counter"] as const;

/** The high-risk rule editor's fields (lists as comma-separated text). */
export interface HighRiskForm {
  name: string;
  enabled: boolean;
  branchId: string | number;
  riskMin: string | number;
  verdicts: string[];
  checksAll: string;
  checksAny: string;
  minSeverity: string;
  customerTypes: string;
  riskLevels: string;
  modes: string[];
  notifyRoles: string;
}

export const emptyHighRiskForm = (): HighRiskForm => ({
  name: "",
  enabled: true,
  branchId: "",
  riskMin: "",
  verdicts: [],
  checksAll: "",
  checksAny: "",
  minSeverity: "",
  customerTypes: "",
  riskLevels: "",
  modes: [],
  notifyRoles: "qc_manager",
});

/** The form as the API's HighRiskRuleIn. */
export function highRiskBody(form: HighRiskForm) {
  return {
    name: form.name.trim(),
    enabled: form.enabled,
    ...(num(form.branchId) !== null ? { branch_id: num(form.branchId) as number } : {}),
    conditions: {
      risk_min: num(form.riskMin),
      verdicts: form.verdicts.filter((v): v is (typeof VERDICTS)[number] => (VERDICTS as readonly string[]).includes(v)),
      checks_all: list(form.checksAll),
      checks_any: list(form.checksAny),
      min_severity: (SEVERITIES as readonly string[]).includes(form.minSeverity)
        ? (form.minSeverity as (typeof SEVERITIES)[number])
        : null,
      customer_types: list(form.customerTypes),
      risk_levels: list(form.riskLevels),
      modes: form.modes.filter((m): m is (typeof MODES)[number] => (MODES as readonly string[]).includes(m)),
    },
    notify_roles: list(form.notifyRoles),
  };
}

/** A stored rule as the editor shows it (the inverse of highRiskBody). */
export function highRiskForm(rule: HighRiskRule): HighRiskForm {
  const c = rule.conditions as Record<string, unknown>;
  const join = (v: unknown): string => (Array.isArray(v) ? v.join(", ") : "");
  return {
    name: rule.name,
    enabled: rule.enabled,
    branchId: String(rule.branch_id),
    riskMin: c.risk_min === undefined || c.risk_min === null ? "" : String(c.risk_min),
    verdicts: Array.isArray(c.verdicts) ? (c.verdicts as string[]) : [],
    checksAll: join(c.checks_all),
    checksAny: join(c.checks_any),
    minSeverity: typeof c.min_severity === "string" ? c.min_severity : "",
    customerTypes: join(c.customer_types),
    riskLevels: join(c.risk_levels),
    modes: Array.isArray(c.modes) ? (c.modes as string[]) : [],
    notifyRoles: rule.notify_roles.join(", "),
  };
}

/** One line per condition a rule sets, for the rules list: [label key, value]. */
export function conditionLines(conditions: Record<string, unknown>): [string, string][] {
  const out: [string, string][] = [];
  for (const [key, value] of Object.entries(conditions)) {
    if (value === null || value === undefined || (Array.isArray(value) && value.length === 0)) continue;
    out.push([key, Array.isArray(value) ? value.join(", ") : String(value)]);
  }
  return out;
}

/** The threshold chart's data: a bar per bin of measured values, confirmed and overruled stacked. */
export function thresholdChartData(advice: ThresholdAdvice): { labels: string[]; confirmed: number[]; overruled: number[] } {
  const fmt = (v: number): string => (Math.abs(v) >= 100 ? v.toFixed(0) : Number(v.toPrecision(3)).toString());
  return {
    labels: advice.bins.map((b) => (b.lo === b.hi ? fmt(b.lo) : `${fmt(b.lo)}–${fmt(b.hi)}`)),
    confirmed: advice.bins.map((b) => b.confirmed),
    overruled: advice.bins.map((b) => b.overruled),
  };
}
