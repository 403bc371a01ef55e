import { describe, expect, it } from "vitest";
import { activeSubtitle, liveView, type LiveEvents, type LiveItem } from "./liveRecord";

function item(id: number, kind: string, start: number, extra: Partial<LiveItem> = {}): LiveItem {
  return {
    id,
    kind,
    speaker: "customer",
    start,
    end: start + 1.5,
    text: "",
    code: "",
    node_id: "",
    reason: "",
    words: [],
    acked: false,
    acked_t: null,
    acked_by: "",
    ...extra,
  };
}

function events(items: LiveItem[], available = true): LiveEvents {
  return {
    available,
    duration: 60,
    asr_available: true,
    faces_available: true,
    identity_reference: false,
    segments_dropped: 0,
    truncated: 0,
    items,
  };
}

describe("liveView", () => {
  it("splits subtitles from alerts by time and counts the unacknowledged alerts", () => {
    const view = liveView(
      events([
        item(3, "alert", 12, { code: "sensitive_word" }),
        item(2, "subtitle", 10, { speaker: "agent", text: "您好" }),
        item(1, "subtitle", 4, { text: "你好" }),
        item(4, "alert", 20, { code: "contradiction", acked: true, acked_t: 22, acked_by: "agent1" }),
      ]),
    );
    expect(view.subtitles.map((s) => s.id)).toEqual([1, 2]);
    expect(view.alerts.map((a) => a.id)).toEqual([3, 4]);
    expect(view.unacked).toBe(1);
  });

  it("shows nothing for a recording without live analysis", () => {
    expect(liveView(events([item(1, "subtitle", 1)], false))).toEqual({ subtitles: [], alerts: [], unacked: 0 });
    expect(liveView(null).subtitles).toEqual([]);
  });
});

describe("activeSubtitle", () => {
  const subs = [item(1, "subtitle", 4), item(2, "subtitle", 10, { end: 13 })];
  it("follows the player's time", () => {
    expect(activeSubtitle(subs, 4.2)).toBe(0);
    expect(activeSubtitle(subs, 12.9)).toBe(1);
    expect(activeSubtitle(subs, 7)).toBe(-1);
    expect(activeSubtitle(subs, 13)).toBe(-1);
  });
});
