// Problem responses (RFC 9457, application/problem+json) as the backend sends them.
import { inLanguage } from "@/bilingual";
import { currentLocale } from "@/locales";

export interface FieldError {
  loc: (string | number)[];
  msg: string;
}

export interface Problem {
  type?: string;
  title?: string;
  status: number;
  detail?: string;
  code?: string;
  request_id?: string;
  errors?: FieldError[];
  details?: Record<string, unknown>;
  [extra: string]: unknown;
}

/** Normalises whatever came back with a failed response into a Problem. */
export function toProblem(error: unknown, response?: Response): Problem {
  const status = response?.status ?? 0;
  if (error && typeof error === "object" && !Array.isArray(error)) {
    const body = error as Record<string, unknown>;
    return { ...body, status: typeof body.status === "number" ? body.status : status } as Problem;
  }
  return { status, detail: typeof error === "string" && error ? error : undefined };
}

/**
 * Field errors by field name: request validation's `errors` keyed by the last element of their
 * location (e.g. ["body", "username"] → "username"), then a domain error's `fields` map
 * ({"reason": "required"}); the first message for a field wins.
 */
export function fieldErrors(problem: Problem | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const error of problem?.errors ?? []) {
    const key = String(error.loc[error.loc.length - 1] ?? "");
    if (key && !(key in out)) out[key] = inLanguage(error.msg, currentLocale());
  }
  const fields = problem?.fields;
  if (fields && typeof fields === "object" && !Array.isArray(fields)) {
    for (const [key, msg] of Object.entries(fields)) {
      if (typeof msg === "string" && !(key in out)) out[key] = inLanguage(msg, currentLocale());
    }
  }
  return out;
}

/** Seconds until a locked-out account may try again, from the problem body or the Retry-After header. */
export function retryAfterSeconds(problem: Problem, response?: Response): number | null {
  const candidates = [problem.details?.retry_after_seconds, problem.retry_after_seconds];
  for (const value of candidates) {
    if (typeof value === "number" && Number.isFinite(value)) return value;
  }
  const header = response?.headers.get("Retry-After");
  const parsed = header ? Number(header) : NaN;
  return Number.isFinite(parsed) ? parsed : null;
}
