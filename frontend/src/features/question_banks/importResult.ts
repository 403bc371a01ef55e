// Reading the question-bank import's answer: the counts of a (dry) run, or the 422 row errors.
import type { Problem } from "@/api/problem";

export interface RowError {
  sheet: string;
  row: number | null;
  column: string;
  header: string;
  problem: string;
}

/** The row errors a rejected import lists (empty when the failure is not about rows). */
export function rowErrors(problem: Problem | null): { errors: RowError[]; total: number; truncated: boolean } {
  // the API puts an error's details at the top level of the problem body; `details` kept as a fallback
  const details: Record<string, unknown> = { ...(problem?.details ?? {}), ...(problem ?? {}) };
  const raw = Array.isArray(details.row_errors) ? (details.row_errors as Record<string, unknown>[]) : [];
  const errors = raw.map((e) => ({
    sheet: String(e.sheet ?? ""),
    row: typeof e.row === "number" ? e.row : null,
    column: String(e.column ?? ""),
    header: String(e.header ?? ""),
    problem: String(e.problem ?? ""),
  }));
  const total = typeof details.error_count === "number" ? details.error_count : errors.length;
  return { errors, total, truncated: details.row_errors_truncated === true };
}
