// The interviewer queue: what a self-service attempt handed over to a person left for them (the
// summary the server stores in the attempt's `result`: node, reason, the last exchange).
import type { Schemas } from "@/api/client";

export interface ExchangeLine {
  kind: "prompt" | "answer";
  text: string; // "" for an answer that never came (silence)
}

export interface HandoverSummary {
  attempt: number;
  nodeTitle: string;
  reason: string;
  exchange: ExchangeLine[];
  handedOverAt: string | null;
}

/** How many lines of the last exchange the queue shows (the server keeps the last 6). */
export const EXCHANGE_LINES = 6;

function text(value: unknown): string {
  return typeof value === "string" ? value.trim() : "";
}

/** The hand-over summary of the task's current attempt, or null when it was not handed over. */
export function handoverSummary(task: Pick<Schemas["TaskOut"], "attempt" | "attempts">): HandoverSummary | null {
  const attempt = task.attempts.find((a) => a.number === task.attempt);
  if (!attempt || attempt.status !== "handover") return null;
  const result: Record<string, unknown> = attempt.result ?? {};
  const raw = Array.isArray(result.last_exchange) ? (result.last_exchange as unknown[]) : [];
  const exchange: ExchangeLine[] = [];
  for (const item of raw) {
    if (typeof item !== "object" || item === null) continue;
    const row = item as Record<string, unknown>;
    if (row.kind !== "prompt" && row.kind !== "answer") continue;
    const line: ExchangeLine = { kind: row.kind, text: text(row.text) };
    if (line.kind === "prompt" && !line.text) continue; // nothing was shown
    const last = exchange[exchange.length - 1];
    if (last && last.kind === line.kind && last.text === line.text) continue; // a prompt replayed
    exchange.push(line);
  }
  return {
    attempt: attempt.number,
    nodeTitle: text(result.node_title) || text(result.node_id),
    reason: text(result.reason) || attempt.reason,
    exchange: exchange.slice(-EXCHANGE_LINES),
    handedOverAt: attempt.finished_at,
  };
}
