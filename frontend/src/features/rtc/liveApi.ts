// The call's live analysis on the server (subtitles of both sides, risk alerts, face checks):
// read by the interviewer of that call only (console session), alerts acknowledged from the desk.
import { api, type Schemas } from "@/api/client";
import { call } from "@/api/call";

export type LiveFeed = Schemas["LiveFeedOut"];
export type LiveEvent = Schemas["LiveEventOut"];

/** The events after ``after`` (long poll: the server holds the request up to ``wait`` s). */
export async function liveFeed(taskId: string, after: number, wait: number, signal?: AbortSignal): Promise<LiveFeed> {
  return call(
    api.GET("/api/v1/rtc/tasks/{task_id}/live", {
      params: { path: { task_id: taskId }, query: { after, wait } },
      signal,
    }),
  );
}

export async function ackLiveAlert(taskId: string, eventId: number): Promise<LiveEvent> {
  return call(
    api.POST("/api/v1/rtc/tasks/{task_id}/live/alerts/{event_id}/ack", {
      params: { path: { task_id: taskId, event_id: eventId } },
    }),
  );
}

/** Splits the events into what the panel shows: the last subtitles, the alerts, the identity state. */
export function applyEvents(
  state: { subtitles: LiveEvent[]; alerts: LiveEvent[]; status: Record<string, LiveEvent> },
  events: LiveEvent[],
  keep = 40,
): void {
  for (const e of events) {
    if (e.kind === "subtitle") state.subtitles.push(e);
    else if (e.kind === "alert") state.alerts.push(e);
    else if (e.kind === "status" && e.code !== "stats") state.status[e.code] = e;
  }
  if (state.subtitles.length > keep) state.subtitles.splice(0, state.subtitles.length - keep);
}
