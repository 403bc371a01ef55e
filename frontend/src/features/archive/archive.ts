// The archive console's pure helpers: search filters → API query, retention and request labels.
import type { Schemas } from "@/api/client";

export type ArchiveEntry = Schemas["ArchiveEntryOut"];
export type DeletionRequest = Schemas["DeletionRequestOut"];
export type RetentionPolicy = Schemas["RetentionPolicyOut"];

export const VERDICTS = ["PASS", "REVIEW", "FAIL"] as const;
export const SECRECY_LEVELS = ["公开", "内部", "秘密", "机密"] as const;
export const REQUEST_STATUSES = ["pending", "rejected", "cancelled", "completed"] as const;

export interface SearchForm {
  customer_id: string;
  customer_name: string;
  id_number: string;
  business_no: string;
  contract_no: string;
  business_type: string;
  qc_verdict: string;
  status: string;
  branch_id: string;
  recorded_from: string; // yyyy-mm-dd (local day)
  recorded_to: string; // yyyy-mm-dd, inclusive on screen
  expires_within_days: string;
}

export const emptyForm = (): SearchForm => ({
  customer_id: "",
  customer_name: "",
  id_number: "",
  business_no: "",
  contract_no: "",
  business_type: "",
  qc_verdict: "",
  status: "",
  branch_id: "",
  recorded_from: "",
  recorded_to: "",
  expires_within_days: "",
});

/** Start of a local calendar day as an ISO instant (the API compares UTC instants). */
function dayStart(day: string, plusDays = 0): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return undefined;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + plusDays);
  return d.toISOString();
}

/** The query of `GET /api/v1/archive/entries` for a form: blanks left out, the "to" day included. */
export function searchQuery(form: SearchForm): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const key of ["customer_id", "customer_name", "id_number", "business_no", "contract_no", "business_type"] as const) {
    const value = form[key].trim();
    if (value) out[key] = value;
  }
  if (form.qc_verdict) out.qc_verdict = form.qc_verdict;
  if (form.status) out.status = form.status;
  if (form.branch_id) out.branch_id = Number(form.branch_id);
  const from = dayStart(form.recorded_from);
  const to = dayStart(form.recorded_to, 1);
  if (from) out.recorded_from = from;
  if (to) out.recorded_to = to;
  const days = form.expires_within_days.trim();
  if (/^\d+$/.test(days)) out.expires_within_days = Number(days);
  return out;
}

/** A URL with the query (for the export downloads, which are plain links). */
export function withQuery(path: string, query: Record<string, string | number>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) params.set(key, String(value));
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** "Y" → 永久 / permanent; "D10" → 10 年 / 10 years. */
export function retentionLabel(code: string, t: (key: string, values?: Record<string, unknown>) => string): string {
  if (code === "Y") return t("archive.retention.permanent");
  const m = /^D(\d+)$/.exec(code);
  return m ? t("archive.retention.years", { n: Number(m[1]) }) : code;
}

/** "2 / 3" progress of a request; the finished ones show their status instead. */
export function stepProgress(request: DeletionRequest): string {
  const approved = request.decisions.filter((d) => d.decision === "approve").length;
  return `${approved} / ${request.steps.length}`;
}

/** The step label: its configured name, else the role id. */
export function stepName(step: { role: string; name?: string }): string {
  return step.name?.trim() ? step.name : step.role;
}

/** Carrier numbers typed one per line or separated by commas/semicolons. */
export function parseCarrierNumbers(text: string): string[] {
  return text
    .split(/[\n,;，；]+/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
