import { describe, expect, it } from "vitest";
import { handoverSummary } from "./handoverQueue";

type Attempt = Parameters<typeof handoverSummary>[0]["attempts"][number];

function attempt(number: number, status: string, result: Record<string, unknown> | null, reason = ""): Attempt {
  return {
    number,
    status,
    result,
    reason,
    flow_version: 1,
    entry_expires_at: "2026-01-02T08:00:00Z",
    created_at: "2026-01-01T08:00:00Z",
    finished_at: "2026-01-01T08:05:00Z",
    recording_id: null,
    questions: [],
  };
}

describe("handoverSummary", () => {
  it("reads the node, the reason and the last exchange of the current attempt", () => {
    const summary = handoverSummary({
      attempt: 2,
      attempts: [
        attempt(1, "superseded", { node_title: "旧节点", reason: "旧原因" }),
        attempt(2, "handover", {
          handover: true,
          node_id: "q1",
          node_title: "自愿确认",
          reason: "「自愿确认」回答「否」/ answer '否' at q1",
          last_exchange: [
            { kind: "prompt", node_id: "risk", text: "本产品不保本。" },
            { kind: "prompt", node_id: "q1", text: "您是否本人自愿购买？" },
            { kind: "prompt", node_id: "q1", text: "您是否本人自愿购买？" },
            { kind: "answer", node_id: "q1", text: " 否 " },
          ],
        }),
      ],
    });
    expect(summary).toEqual({
      attempt: 2,
      nodeTitle: "自愿确认",
      reason: "「自愿确认」回答「否」/ answer '否' at q1",
      exchange: [
        { kind: "prompt", text: "本产品不保本。" },
        { kind: "prompt", text: "您是否本人自愿购买？" },
        { kind: "answer", text: "否" },
      ],
      handedOverAt: "2026-01-01T08:05:00Z",
    });
  });

  it("keeps a silent answer, drops malformed lines and falls back to the attempt's reason and node id", () => {
    const summary = handoverSummary({
      attempt: 1,
      attempts: [
        attempt(
          1,
          "handover",
          { node_id: "q2", last_exchange: [null, "x", { kind: "other", text: "?" }, { kind: "answer", text: "" }] },
          "客户请求人工协助",
        ),
      ],
    });
    expect(summary?.nodeTitle).toBe("q2");
    expect(summary?.reason).toBe("客户请求人工协助");
    expect(summary?.exchange).toEqual([{ kind: "answer", text: "" }]);
  });

  it("shows only the last six lines", () => {
    const lines = Array.from({ length: 9 }, (_, i) => ({ kind: i % 2 ? "answer" : "prompt", text: `第${i}句` }));
    const summary = handoverSummary({ attempt: 1, attempts: [attempt(1, "handover", { last_exchange: lines })] });
    expect(summary?.exchange.map((l) => l.text)).toEqual(["第3句", "第4句", "第5句", "第6句", "第7句", "第8句"]);
  });

  it("is null when the current attempt was not handed over or has no result", () => {
    expect(handoverSummary({ attempt: 2, attempts: [attempt(1, "handover", {}), attempt(2, "created", null)] })).toBeNull();
    expect(handoverSummary({ attempt: 1, attempts: [attempt(1, "handover", null, "原因")] })?.reason).toBe("原因");
  });
});
