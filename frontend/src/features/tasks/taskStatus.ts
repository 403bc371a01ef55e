import { label } from "@/labels";

// Task and attempt statuses as core/tasks.py names them (labels: tasks.statuses.* in the locales).
export const TASK_STATUSES = [
  "created",
  "in_progress",
  "handover",
  "qc",
  "review",
  "passed",
  "failed",
  "cancelled",
  "expired",
] as const;
export const ATTEMPT_STATUSES = [...TASK_STATUSES, "superseded"] as const;

/** "node: code, code" for each question draw of an attempt (draws are {node_id, bank, codes, …}). */
export function drawnCodes(draws: readonly Record<string, unknown>[]): string[] {
  return draws.map((d) => {
    const codes = Array.isArray(d.codes) ? d.codes.map(String) : [];
    // the bank is named by its business type (labels.businessTypes), not by its code
    const bank = typeof d.bank === "string" && d.bank ? label("businessTypes", d.bank) : "";
    const where = [d.node_id, bank].filter((x) => typeof x === "string" && x).join(" · ");
    return `${where}: ${codes.join(", ") || "—"}`;
  });
}
