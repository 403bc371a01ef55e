// A remote interview's live analysis on its recording (GET /api/v1/recordings/{id}/live-events):
// the subtitles of both parties and the risk alerts, on the recording's timeline. Pure helpers for
// the playback page's panel (LiveRecordPanel.vue).
import type { Schemas } from "@/api/client";

export type LiveEvents = Schemas["LiveEventsOut"];
export type LiveItem = Schemas["LiveItemOut"];

export interface LiveView {
  subtitles: LiveItem[];
  alerts: LiveItem[];
  unacked: number;
}

/** Subtitles and alerts apart, each by time; how many alerts the interviewer left unacknowledged. */
export function liveView(data: LiveEvents | null): LiveView {
  const items = data?.available ? [...(data.items ?? [])].sort((a, b) => a.start - b.start || a.id - b.id) : [];
  const alerts = items.filter((i) => i.kind === "alert");
  return {
    subtitles: items.filter((i) => i.kind === "subtitle"),
    alerts,
    unacked: alerts.filter((a) => !a.acked).length,
  };
}

/** The subtitle being spoken at `time` (the last one started, while it lasts), or -1. */
export function activeSubtitle(subtitles: readonly LiveItem[], time: number): number {
  let found = -1;
  subtitles.forEach((s, i) => {
    if (time >= s.start && time < (s.end ?? s.start + 2)) found = i;
  });
  return found;
}
