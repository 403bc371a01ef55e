import { describe, expect, it } from "vitest";
import type { Branch } from "@/api/client";
import { indentedLabel, treeRows } from "./branchTree";

const b = (id: number, parent_id: number | null, code: string, depth = 0): Branch => ({
  id,
  parent_id,
  code,
  name: `N-${code}`,
  path: "",
  depth,
});

describe("treeRows", () => {
  it("puts children right after their parent, siblings by code", () => {
    const rows = treeRows([b(3, 1, "B"), b(1, null, "HQ"), b(4, 2, "A1"), b(2, 1, "A")]);
    expect(rows.map((r) => [r.branch.code, r.level, r.hasChildren])).toEqual([
      ["HQ", 0, true],
      ["A", 1, true],
      ["A1", 2, false],
      ["B", 1, false],
    ]);
  });

  it("treats a branch whose parent is outside the visible subtree as a root", () => {
    const rows = treeRows([b(7, 1, "SUB", 1), b(8, 7, "LEAF", 2)]);
    expect(rows.map((r) => [r.branch.code, r.level])).toEqual([
      ["SUB", 0],
      ["LEAF", 1],
    ]);
  });

  it("indents select labels by level", () => {
    const [root, child] = treeRows([b(1, null, "HQ"), b(2, 1, "A")]);
    expect(indentedLabel(root!)).toBe("N-HQ");
    expect(indentedLabel(child!)).toBe("\u3000└ N-A");
  });
});
