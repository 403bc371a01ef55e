// Janus' own view of a call's streams (服务器视角 / server view): what the server received from
// each party — the recording's input — and what it sent to it, from GET /rtc/tasks/{id}/quality
// (`server`) on the desk and from the call_quality check's `server` metrics on the playback page.
import type { Schemas } from "@/api/client";

export type ServerView = Schemas["ServerViewOut"];

interface Medium {
  packets?: number;
  lost?: number;
  lost_by_receiver?: number;
  loss_pct?: number;
  nacks?: number;
  kbps?: number;
}

export interface ServerRow {
  party: string;
  kbpsIn: number; // audio + video Janus received from the party
  lossIn: number; // the worse of audio/video loss on the way in, %
  jitter: number;
  nacksIn: number; // NACKs Janus sent the party's publisher (it asked again for lost video)
  kbpsOut: number; // what Janus sent the party
  lossOut: number | null; // what the party's RTCP said it lost of that, %; null when unknown
  rtt: number;
}

function media(details: Record<string, unknown>, direction: "in" | "out"): Medium[] {
  const d = details[direction];
  return d && typeof d === "object" ? (Object.values(d as Record<string, Medium>) as Medium[]) : [];
}

const sum = (values: number[]): number => Math.round(values.reduce((a, b) => a + b, 0) * 10) / 10;

/** One row per party, customer first. */
export function serverRows(views: readonly ServerView[]): ServerRow[] {
  return [...views]
    .sort((a, b) => (a.party === b.party ? 0 : a.party === "customer" ? -1 : 1))
    .map((v) => {
      const ins = media(v.details, "in");
      const outs = media(v.details, "out");
      const lossOut = outs.filter((m) => typeof m.loss_pct === "number").map((m) => m.loss_pct as number);
      return {
        party: v.party,
        kbpsIn: sum(ins.map((m) => m.kbps ?? 0)),
        lossIn: Math.max(v.loss_pct, v.video_loss_pct),
        jitter: v.jitter_ms,
        nacksIn: ins.reduce((n, m) => n + (m.nacks ?? 0), 0),
        kbpsOut: sum(outs.map((m) => m.kbps ?? 0)),
        lossOut: lossOut.length ? Math.max(...lossOut) : null,
        rtt: v.rtt_ms,
      };
    });
}
