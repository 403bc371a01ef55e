import { describe, expect, it } from "vitest";
import { serverRows, type ServerView } from "./serverView";

function view(party: string, extra: Partial<ServerView> = {}): ServerView {
  return {
    party,
    at: "2026-12-06T00:00:00Z",
    audio_kbps: 46.9,
    video_kbps: 304.1,
    loss_pct: 0,
    video_loss_pct: 0,
    jitter_ms: 3,
    rtt_ms: 25,
    details: {},
    ...extra,
  };
}

describe("serverRows", () => {
  it("puts the customer first and sums what Janus received and sent", () => {
    const rows = serverRows([
      view("agent"),
      view("customer", {
        video_loss_pct: 23.08,
        details: {
          in: { audio: { kbps: 46.9, nacks: 0 }, video: { kbps: 304.1, nacks: 12 } },
          out: { audio: { kbps: 44.4, loss_pct: 0 }, video: { kbps: 270.2, loss_pct: 4.5 } },
        },
      }),
    ]);
    expect(rows.map((r) => r.party)).toEqual(["customer", "agent"]);
    expect(rows[0]).toMatchObject({ kbpsIn: 351, lossIn: 23.08, nacksIn: 12, kbpsOut: 314.6, lossOut: 4.5, rtt: 25 });
    expect(rows[1]).toMatchObject({ kbpsIn: 0, kbpsOut: 0, lossOut: null });
  });
});
