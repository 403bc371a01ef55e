// The shared desk of a call through dualrec: the interviewer (console session) changes it, both
// pages poll its state; the customer's page authenticates with the link token only.
import { api, type Schemas } from "@/api/client";
import { ApiError, call } from "@/api/call";
import { toProblem } from "@/api/problem";

export type DeskState = Schemas["DeskStateOut"];
export type DeskEvent = Schemas["DeskEventIn"];
export type DeskMark = Schemas["DeskMarkShape"];

// Both pages ask for the desk with the seq they show and WAIT_S: the server answers as soon as the
// desk changed (the customer sees a highlight or a page turn at once) or after WAIT_S with the same
// state. An answer that was not held (an error, a proxy that does not hold) is followed after POLL_MS.
export const WAIT_S = 5;
export const POLL_MS = 700;

export interface DeskWait {
  after?: number;
  wait?: number;
}

export function agentDeskState(taskId: string, held: DeskWait = {}): Promise<DeskState> {
  return call(api.GET("/api/v1/rtc/tasks/{task_id}/desk/state", { params: { path: { task_id: taskId }, query: held } }));
}

export function agentDeskEvent(taskId: string, body: DeskEvent): Promise<DeskState> {
  return call(api.POST("/api/v1/rtc/tasks/{task_id}/desk/events", { params: { path: { task_id: taskId } }, body }));
}

export function customerDeskState(token: string, held: DeskWait = {}): Promise<DeskState> {
  return call(api.GET("/api/v1/rtc/entry/{token}/desk/state", { params: { path: { token }, query: held } }));
}

export function customerDeskEvent(token: string, body: DeskEvent): Promise<DeskState> {
  return call(api.POST("/api/v1/rtc/entry/{token}/desk/events", { params: { path: { token } }, body }));
}

export function agentPageUrl(taskId: string, index: number, page: number, width = 960): string {
  return `/api/v1/rtc/tasks/${encodeURIComponent(taskId)}/documents/${index}/pages/${page}.jpg?width=${width}`;
}

export function customerPageUrl(token: string, index: number, page: number, width = 720): string {
  return `/api/v1/rtc/entry/${encodeURIComponent(token)}/documents/${index}/pages/${page}.jpg?width=${width}`;
}

/** The customer's signature (PNG) for the document asked for (-1: a signature alone). */
export async function customerSign(token: string, document: number, png: Blob): Promise<DeskState> {
  const q = document >= 0 ? `?document=${document}` : "";
  let response: Response;
  try {
    response = await fetch(`/api/v1/rtc/entry/${encodeURIComponent(token)}/desk/signature${q}`, {
      method: "POST",
      body: png,
      headers: { "Content-Type": "image/png" },
    });
  } catch (cause) {
    throw new ApiError({ status: 0, code: "network_error", detail: String(cause) });
  }
  const body: unknown = await response.json().catch(() => undefined);
  if (!response.ok) throw new ApiError(toProblem(body, response), response);
  return body as DeskState;
}

/** A rectangle dragged from (x0, y0) to (x1, y1) in page fractions → a highlight or an underline. */
export function markFromDrag(kind: DeskMark["kind"], x0: number, y0: number, x1: number, y1: number): DeskMark | null {
  const clamp = (v: number) => Math.min(1, Math.max(0, v));
  const [ax, bx] = [clamp(Math.min(x0, x1)), clamp(Math.max(x0, x1))];
  const [ay, by] = [clamp(Math.min(y0, y1)), clamp(Math.max(y0, y1))];
  if (bx - ax < 0.01) return null; // a click, not a drag
  const round = (v: number) => Math.round(v * 10000) / 10000;
  if (kind === "underline") {
    const h = 0.006;
    const y = Math.min(by, 1 - h);
    return { kind, x: round(ax), y: round(y), w: round(bx - ax), h };
  }
  return { kind, x: round(ax), y: round(ay), w: round(bx - ax), h: round(Math.max(by - ay, 0.01)) };
}
