// A readable, not fancy, layout of a flow: nodes in a column in their order, the default successor
// and answer branches as arrows (jumps routed in lanes on the right), special targets (@end, @fail,
// @handover) as pills on the left of the node that leads there.
import { ANSWER_NODE_TYPES, type EditorNode, successor } from "./flowModel";

export const BOX_W = 220;
export const BOX_H = 44;
const PILL_W = 84;
const PILL_H = 22;
const PILL_GAP = 6;
const ROW_GAP = 34;
const LEFT = 20;
const BOX_X = LEFT + PILL_W + 70;
const LANE_START = BOX_X + BOX_W + 24;
const LANE_GAP = 22;

export interface GraphBox {
  id: string;
  index: number;
  x: number;
  y: number;
  enabled: boolean;
}

export interface GraphPill {
  target: string; // @end | @fail | @handover
  x: number;
  y: number;
}

export interface GraphEdge {
  from: string;
  to: string;
  label: string; // the branch answer; "" for the default successor
  kind: "default" | "branch" | "fail";
  path: string; // SVG path data
  labelX: number;
  labelY: number;
}

export interface FlowGraph {
  width: number;
  height: number;
  boxes: GraphBox[];
  pills: GraphPill[];
  edges: GraphEdge[];
}

interface Link {
  to: string;
  label: string;
  kind: GraphEdge["kind"];
}

function links(nodes: readonly EditorNode[], index: number): Link[] {
  const node = nodes[index];
  if (!node || !node.enabled) return [];
  const out: Link[] = node.branches
    .filter((b) => b.next)
    .map((b) => ({ to: b.next, label: b.answer, kind: "branch" as const }));
  out.push({ to: successor(nodes, index), label: "", kind: "default" });
  if (ANSWER_NODE_TYPES.includes(node.type) || node.onFail === "handover") {
    out.push({ to: `@${node.onFail}`, label: "", kind: "fail" });
  }
  // one arrow per (target, kind, label)
  const seen = new Set<string>();
  return out.filter((l) => {
    const key = `${l.to}|${l.kind}|${l.label}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export function layoutFlow(nodes: readonly EditorNode[]): FlowGraph {
  const boxes: GraphBox[] = [];
  const pills: GraphPill[] = [];
  const edges: GraphEdge[] = [];
  const all = nodes.map((_, i) => links(nodes, i));
  let y = 20;
  const rowY: number[] = [];
  nodes.forEach((node, i) => {
    const specials = new Set((all[i] ?? []).filter((l) => l.to.startsWith("@")).map((l) => l.to));
    const rowH = Math.max(BOX_H, specials.size * (PILL_H + PILL_GAP) - PILL_GAP);
    rowY.push(y);
    boxes.push({ id: node.id, index: i, x: BOX_X, y: y + (rowH - BOX_H) / 2, enabled: node.enabled });
    y += rowH + ROW_GAP;
  });
  const byId = new Map(boxes.map((b) => [b.id, b]));
  let lane = 0;
  nodes.forEach((_, i) => {
    const box = boxes[i];
    if (!box) return;
    const pillFor = new Map<string, GraphPill>();
    const outgoing = all[i] ?? [];
    for (const link of outgoing) {
      if (link.to.startsWith("@")) {
        let pill = pillFor.get(link.to);
        if (!pill) {
          pill = { target: link.to, x: LEFT, y: (rowY[i] ?? 0) + pillFor.size * (PILL_H + PILL_GAP) };
          pillFor.set(link.to, pill);
          pills.push(pill);
        }
        const sx = box.x;
        const sy = box.y + BOX_H / 2;
        const tx = pill.x + PILL_W;
        const ty = pill.y + PILL_H / 2;
        edges.push({
          from: box.id,
          to: link.to,
          label: link.label,
          kind: link.kind,
          path: `M ${sx} ${sy} C ${sx - 30} ${sy}, ${tx + 30} ${ty}, ${tx} ${ty}`,
          labelX: tx + 6,
          labelY: ty - 5,
        });
        continue;
      }
      const target = byId.get(link.to);
      if (!target) continue; // a dangling target is reported as a problem, not drawn
      if (target.index === i + 1) {
        const x = box.x + BOX_W / 2 + (link.kind === "branch" ? 40 : 0);
        edges.push({
          from: box.id,
          to: target.id,
          label: link.label,
          kind: link.kind,
          path: `M ${x} ${box.y + BOX_H} L ${x} ${target.y}`,
          labelX: x + 6,
          labelY: (box.y + BOX_H + target.y) / 2 + 4,
        });
        continue;
      }
      const lx = LANE_START + lane * LANE_GAP;
      lane += 1;
      const sy = box.y + BOX_H / 2 - 6;
      const ty = target.y + BOX_H / 2 + 6;
      const ex = box.x + BOX_W;
      edges.push({
        from: box.id,
        to: target.id,
        label: link.label,
        kind: link.kind,
        path: `M ${ex} ${sy} L ${lx} ${sy} L ${lx} ${ty} L ${ex} ${ty}`,
        labelX: lx + 4,
        labelY: sy - 4,
      });
    }
  });
  return {
    width: LANE_START + Math.max(1, lane) * LANE_GAP + 60,
    height: Math.max(y, 80),
    boxes,
    pills,
    edges,
  };
}

export const GRAPH_SIZES = { BOX_W, BOX_H, PILL_W, PILL_H } as const;
