import { describe, expect, it } from "vitest";
import { applyEvents, type LiveEvent } from "./liveApi";

function ev(id: number, kind: string, extra: Partial<LiveEvent> = {}): LiveEvent {
  return {
    id,
    kind,
    speaker: "customer",
    code: "",
    node_id: "",
    text: "",
    reason: "",
    t_start: null,
    t_end: null,
    spoken_until: null,
    created_at: "2026-12-05T00:00:00Z",
    details: {},
    acked_at: null,
    acked_by: "",
    ...extra,
  };
}

describe("applyEvents", () => {
  it("rolls subtitles, keeps alerts and the identity state apart, ignores the worker's stats", () => {
    const state = { subtitles: [] as LiveEvent[], alerts: [] as LiveEvent[], status: {} as Record<string, LiveEvent> };
    applyEvents(state, [
      ev(1, "status", { code: "identity_unverified", reason: "未核验" }),
      ev(2, "subtitle", { text: "欢迎" }),
      ev(3, "alert", { code: "sensitive_word" }),
      ev(4, "status", { code: "stats" }),
    ]);
    expect(state.subtitles.map((e) => e.id)).toEqual([2]);
    expect(state.alerts.map((e) => e.code)).toEqual(["sensitive_word"]);
    expect(Object.keys(state.status)).toEqual(["identity_unverified"]);
    applyEvents(state, [ev(5, "subtitle"), ev(6, "subtitle"), ev(7, "subtitle")], 2);
    expect(state.subtitles.map((e) => e.id)).toEqual([6, 7]);
  });
});
