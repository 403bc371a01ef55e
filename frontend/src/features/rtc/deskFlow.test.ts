import { describe, expect, it } from "vitest";
import { currentNode, nextNode, type Mark } from "./deskFlow";

const nodes = [{ id: "id" }, { id: "risk" }, { id: "q1" }, { id: "end" }];
const m = (node_id: string, kind: "start" | "end"): Mark => ({ node_id, kind, at: "2026-12-21T09:00:00Z" });

describe("desk flow position", () => {
  it("starts at the first node the AI session did not pass", () => {
    expect(currentNode([])).toBeNull();
    expect(nextNode(nodes, [])).toBe("id");
    expect(nextNode(nodes, [], ["id"])).toBe("risk");
  });

  it("follows the marks: running node, then the one after the last touched", () => {
    expect(currentNode([m("risk", "start")])).toBe("risk");
    expect(nextNode(nodes, [m("risk", "start")])).toBe("q1");
    expect(currentNode([m("risk", "start"), m("risk", "end")])).toBeNull();
    expect(nextNode(nodes, [m("risk", "start"), m("risk", "end")])).toBe("q1");
    // free pick: jumping to the end node leaves nothing after it
    expect(nextNode(nodes, [m("risk", "start"), m("risk", "end"), m("end", "start")])).toBeNull();
    // an end of another node does not end the running one
    expect(currentNode([m("q1", "start"), m("risk", "end")])).toBe("q1");
  });
});
