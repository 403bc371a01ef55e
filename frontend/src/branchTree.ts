// Orders the flat branch list from GET /branches into tree order (parents before their children).
import type { Branch } from "@/api/client";

export interface TreeRow {
  branch: Branch;
  level: number; // 0 for the roots of the visible subtree
  hasChildren: boolean;
}

export function treeRows(branches: readonly Branch[]): TreeRow[] {
  const ids = new Set(branches.map((b) => b.id));
  const children = new Map<number | null, Branch[]>();
  for (const branch of branches) {
    // A branch whose parent is outside the caller's subtree is a root of what the caller sees.
    const parent = branch.parent_id !== null && ids.has(branch.parent_id) ? branch.parent_id : null;
    const list = children.get(parent) ?? [];
    list.push(branch);
    children.set(parent, list);
  }
  for (const list of children.values()) {
    list.sort((a, b) => a.code.localeCompare(b.code) || a.name.localeCompare(b.name));
  }
  const rows: TreeRow[] = [];
  const walk = (parent: number | null, level: number): void => {
    for (const branch of children.get(parent) ?? []) {
      rows.push({ branch, level, hasChildren: children.has(branch.id) });
      walk(branch.id, level + 1);
    }
  };
  walk(null, 0);
  return rows;
}

/** Label for a <select> option, indented by level so the tree shows in a plain list. */
export function indentedLabel(row: TreeRow): string {
  return `${"\u3000".repeat(row.level)}${row.level > 0 ? "└ " : ""}${row.branch.name}`;
}
