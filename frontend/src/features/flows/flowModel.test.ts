import { describe, expect, it } from "vitest";
import { layoutFlow } from "./flowGraph";
import {
  formatValue,
  problemField,
  fromDefinition,
  highlightSegments,
  moveNode,
  newNode,
  problemNodeIndex,
  renameNode,
  successor,
  toDefinition,
} from "./flowModel";

const definition = {
  mode: "self_service",
  nodes: [
    { id: "id1", type: "identity", title: "身份", script: "请出示身份证", required_statements: ["我是本人"] },
    {
      id: "q1",
      type: "qa",
      script: "是否本人自愿购买？",
      expected_answers: [{ text: "是", synonyms: ["是的", "对"] }, "否"],
      branches: [
        { answer: "是", next: "@end" },
        { answer: "否", next: "@handover" },
      ],
      retries: 2,
      timeout_seconds: 20,
      on_fail: "handover",
    },
    { id: "end", type: "end", optional: true, enabled: false },
  ],
};

describe("flow definition ⇄ editor model", () => {
  it("round-trips the fields the editor shows", () => {
    const model = fromDefinition(definition);
    expect(model.nodes[1]?.answers).toEqual([
      { text: "是", synonyms: "是的，对" },
      { text: "否", synonyms: "" },
    ]);
    expect(model.nodes[0]?.requiredStatements).toBe("我是本人");
    const back = toDefinition(model);
    const nodes = back.nodes as Record<string, unknown>[];
    expect(nodes[1]?.expected_answers).toEqual([{ text: "是", synonyms: ["是的", "对"] }, "否"]);
    expect(nodes[1]?.branches).toEqual(definition.nodes[1]?.branches);
    expect(nodes[1]?.retries).toBe(2);
    expect(nodes[1]?.on_fail).toBe("handover");
    expect(nodes[0]?.required_statements).toEqual(["我是本人"]);
    expect(nodes[2]?.enabled).toBe(false);
    expect("next" in (nodes[0] ?? {})).toBe(false);
  });

  it("drops empty statement lines and answers, and forces required nodes on", () => {
    const model = fromDefinition(definition);
    const first = model.nodes[0]!;
    first.requiredStatements = "a\n\n  b  \n";
    first.enabled = false; // not optional: cannot be switched off
    model.nodes[1]!.answers.push({ text: "  ", synonyms: "" });
    const nodes = toDefinition(model).nodes as Record<string, unknown>[];
    expect(nodes[0]?.required_statements).toEqual(["a", "b"]);
    expect(nodes[0]?.enabled).toBe(true);
    expect(nodes[1]?.expected_answers).toHaveLength(2);
  });

  it("renames references and moves nodes", () => {
    const model = fromDefinition(definition);
    model.nodes[0]!.next = "q1";
    renameNode(model, "q1", "ask");
    expect(model.nodes[0]!.next).toBe("ask");
    expect(moveNode(model, 0, -1)).toBe(false);
    expect(moveNode(model, 0, 1)).toBe(true);
    expect(model.nodes.map((n) => n.id)).toEqual(["q1", "id1", "end"]);
  });

  it("gives new nodes unique ids and yes/no answers on qa", () => {
    const model = fromDefinition(definition);
    const a = newNode("qa", model.nodes);
    model.nodes.push(a);
    const b = newNode("qa", model.nodes);
    expect(a.id).toBe("qa_1");
    expect(b.id).toBe("qa_2");
    expect(a.answers.map((x) => x.text)).toEqual(["是", "否"]);
    expect(newNode("identity", []).answers).toEqual([]);
  });

  it("skips disabled nodes for the default successor", () => {
    const model = fromDefinition(definition);
    expect(successor(model.nodes, 0)).toBe("q1");
    expect(successor(model.nodes, 1)).toBe("@end"); // the end node is switched off
  });
});

describe("highlightSegments", () => {
  it("marks each hit at its index", () => {
    expect(highlightSegments("本产品保本保息", [{ word: "保本", index: 3 }])).toEqual([
      { text: "本产品", hit: false },
      { text: "保本", hit: true },
      { text: "保息", hit: false },
    ]);
  });
  it("merges overlapping hits and ignores out-of-range ones", () => {
    const out = highlightSegments("稳赚保本", [
      { word: "稳赚", index: 0 },
      { word: "赚保", index: 1 },
      { word: "x", index: 99 },
    ]);
    expect(out).toEqual([
      { text: "稳赚保", hit: true },
      { text: "本", hit: false },
    ]);
  });
});

describe("problem placement and diff values", () => {
  const nodes = [{ id: "a" }, { id: "b" }];
  it("finds the node a problem names", () => {
    expect(problemNodeIndex("b", nodes)).toBe(1);
    expect(problemNodeIndex("nodes[0].retries", nodes)).toBe(0);
    expect(problemNodeIndex("nodes[5].retries", nodes)).toBe(-1);
    expect(problemNodeIndex("flow", nodes)).toBe(-1);
  });
  it("reads problem details from the top level first", () => {
    expect(problemField({ where: "nodes[1]" }, "where")).toBe("nodes[1]");
    expect(problemField({ details: { hits: [1] } }, "hits")).toEqual([1]);
    expect(problemField({}, "hits")).toBeUndefined();
  });
  it("formats values readably", () => {
    expect(formatValue(null)).toBe("∅");
    expect(formatValue(["a", { text: "是", synonyms: [] }])).toBe("a；是");
    expect(formatValue({ answer: "是", next: "@end" })).toBe("是 → @end");
    expect(formatValue(3)).toBe("3");
  });
});

describe("layoutFlow", () => {
  it("draws branches to special targets as labelled arrows to pills", () => {
    const graph = layoutFlow(fromDefinition(definition).nodes);
    expect(graph.boxes.map((b) => b.id)).toEqual(["id1", "q1", "end"]);
    const fromQ = graph.edges.filter((e) => e.from === "q1");
    expect(fromQ.map((e) => [e.to, e.label, e.kind])).toEqual([
      ["@end", "是", "branch"],
      ["@handover", "否", "branch"],
      ["@end", "", "default"],
      ["@handover", "", "fail"],
    ]);
    // one pill per special target of a node
    expect(graph.pills.filter((p) => p.y >= graph.boxes[1]!.y - 30 && p.y <= graph.boxes[1]!.y + 44).map((p) => p.target).sort()).toEqual([
      "@end",
      "@handover",
    ]);
    // the disabled end node has no arrows
    expect(graph.edges.some((e) => e.from === "end")).toBe(false);
    expect(graph.edges.find((e) => e.from === "id1")?.to).toBe("q1");
  });

  it("routes jumps over other nodes in separate lanes", () => {
    const model = fromDefinition({
      nodes: [
        { id: "a", type: "qa", branches: [{ answer: "否", next: "c" }] },
        { id: "b", type: "identity" },
        { id: "c", type: "end", next: "a" },
      ],
    });
    const graph = layoutFlow(model.nodes);
    const jumps = graph.edges.filter((e) => (e.from === "a" && e.to === "c") || (e.from === "c" && e.to === "a"));
    expect(jumps).toHaveLength(2);
    const laneX = jumps.map((e) => Number(e.path.split(" ")[4]));
    expect(new Set(laneX).size).toBe(2);
    expect(graph.width).toBeGreaterThan(Math.max(...laneX));
  });
});
