// The flow editor's model: converting to/from the definition JSON the API stores (see
// src/dualrec/core/flow.py), text-hit highlighting, problem placement and diff formatting.

export const SPECIAL_TARGETS = ["@end", "@fail", "@handover"] as const;
export type SpecialTarget = (typeof SPECIAL_TARGETS)[number];
export const ANSWER_NODE_TYPES = ["qa", "willingness"];
export const NODE_TYPE_ORDER = [
  "identity",
  "risk_disclosure",
  "qa",
  "willingness",
  "document_display",
  "signing",
  "end",
];

export interface EditorAnswer {
  text: string;
  synonyms: string; // comma / 、 / ， separated in the form
}

export interface EditorBranch {
  answer: string;
  next: string;
}

export interface EditorNode {
  uid: number; // stable key for v-for while ids are edited
  id: string;
  type: string;
  title: string;
  script: string;
  subtitle: string;
  speaker: string;
  requiredStatements: string; // one per line
  answers: EditorAnswer[];
  optional: boolean;
  enabled: boolean;
  retries: number;
  timeoutSeconds: number;
  branches: EditorBranch[];
  next: string; // "" = the next enabled node in order
  onFail: "fail" | "handover";
  drawBank: string;
  params: Record<string, unknown>;
}

export interface EditorFlow {
  mode: string;
  description: string;
  nodes: EditorNode[];
}

let uidCounter = 0;
const nextUid = (): number => ++uidCounter;

type Json = Record<string, unknown>;

const str = (v: unknown, fallback = ""): string => (typeof v === "string" ? v : fallback);
const num = (v: unknown, fallback: number): number => (typeof v === "number" && Number.isFinite(v) ? v : fallback);
const bool = (v: unknown, fallback: boolean): boolean => (typeof v === "boolean" ? v : fallback);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Splits a synonyms field on commas (half/full width), 、 and semicolons. */
export function splitSynonyms(text: string): string[] {
  return text
    .split(/[,，、;；]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

export function newNode(type: string, existing: readonly EditorNode[]): EditorNode {
  const ids = new Set(existing.map((n) => n.id));
  let i = 1;
  while (ids.has(`${type}_${i}`)) i += 1;
  return {
    uid: nextUid(),
    id: `${type}_${i}`,
    type,
    title: "",
    script: "",
    subtitle: "",
    speaker: "agent",
    requiredStatements: "",
    answers: ANSWER_NODE_TYPES.includes(type)
      ? [
          { text: "是", synonyms: "" },
          { text: "否", synonyms: "" },
        ]
      : [],
    optional: false,
    enabled: true,
    retries: 1,
    timeoutSeconds: 30,
    branches: [],
    next: "",
    onFail: "fail",
    drawBank: "",
    params: {},
  };
}

function nodeFromJson(raw: unknown): EditorNode {
  const d = (raw && typeof raw === "object" ? raw : {}) as Json;
  const answers = list(d.expected_answers).map((a): EditorAnswer => {
    if (typeof a === "string") return { text: a, synonyms: "" };
    const o = (a ?? {}) as Json;
    return { text: str(o.text), synonyms: list(o.synonyms).map(String).join("，") };
  });
  return {
    uid: nextUid(),
    id: str(d.id),
    type: str(d.type, "qa"),
    title: str(d.title),
    script: str(d.script),
    subtitle: str(d.subtitle),
    speaker: str(d.speaker, "agent"),
    requiredStatements: list(d.required_statements).map(String).join("\n"),
    answers,
    optional: bool(d.optional, false),
    enabled: bool(d.enabled, true),
    retries: num(d.retries, 1),
    timeoutSeconds: num(d.timeout_seconds, 30),
    branches: list(d.branches).map((b) => {
      const o = (b ?? {}) as Json;
      return { answer: str(o.answer), next: str(o.next) };
    }),
    next: str(d.next),
    onFail: d.on_fail === "handover" ? "handover" : "fail",
    drawBank: str(d.draw_bank),
    params: d.params && typeof d.params === "object" ? { ...(d.params as Json) } : {},
  };
}

/** The editor model of a stored definition (unknown values fall back to the backend's defaults). */
export function fromDefinition(definition: Json | null | undefined): EditorFlow {
  const d = definition ?? {};
  return {
    mode: str(d.mode, "self_service"),
    description: str(d.description),
    nodes: list(d.nodes).map(nodeFromJson),
  };
}

function nodeToJson(n: EditorNode): Json {
  const out: Json = {
    id: n.id.trim(),
    type: n.type,
    title: n.title,
    script: n.script,
    subtitle: n.subtitle,
    speaker: n.speaker,
    required_statements: n.requiredStatements
      .split("\n")
      .map((s) => s.trim())
      .filter(Boolean),
    expected_answers: n.answers
      .filter((a) => a.text.trim())
      .map((a) => {
        const synonyms = splitSynonyms(a.synonyms);
        return synonyms.length ? { text: a.text.trim(), synonyms } : a.text.trim();
      }),
    optional: n.optional,
    enabled: n.optional ? n.enabled : true,
    retries: n.retries,
    timeout_seconds: n.timeoutSeconds,
    branches: n.branches
      .filter((b) => b.answer.trim() || b.next)
      .map((b) => ({ answer: b.answer.trim(), next: b.next })),
    on_fail: n.onFail,
    draw_bank: n.drawBank.trim(),
    params: n.params,
  };
  if (n.next) out.next = n.next;
  return out;
}

/** The definition JSON the API expects (PUT /flows/{code} body.definition). */
export function toDefinition(flow: EditorFlow): Json {
  const out: Json = { mode: flow.mode, nodes: flow.nodes.map(nodeToJson) };
  if (flow.description.trim()) out.description = flow.description.trim();
  return out;
}

/** Renames a node and every branch / default-next that points at it. */
export function renameNode(flow: EditorFlow, oldId: string, newId: string): void {
  if (!oldId || oldId === newId) return;
  for (const n of flow.nodes) {
    if (n.next === oldId) n.next = newId;
    for (const b of n.branches) if (b.next === oldId) b.next = newId;
  }
}

/** Moves the node at `index` by `delta` (−1 up, +1 down); false when it cannot move. */
export function moveNode(flow: EditorFlow, index: number, delta: number): boolean {
  const to = index + delta;
  if (index < 0 || index >= flow.nodes.length || to < 0 || to >= flow.nodes.length) return false;
  const [node] = flow.nodes.splice(index, 1);
  if (node) flow.nodes.splice(to, 0, node);
  return true;
}

/** Where a node goes by default: its `next`, else the next enabled node, else @end (core Flow.successor). */
export function successor(nodes: readonly EditorNode[], index: number): string {
  const node = nodes[index];
  if (!node) return "@end";
  if (node.next) return node.next;
  for (let i = index + 1; i < nodes.length; i += 1) {
    const candidate = nodes[i];
    if (candidate && candidate.enabled) return candidate.id;
  }
  return "@end";
}

export interface TextSegment {
  text: string;
  hit: boolean;
}

/** Splits `text` into plain and highlighted pieces at each hit's (code-point) index. */
export function highlightSegments(text: string, hits: readonly { word: string; index: number }[]): TextSegment[] {
  const chars = Array.from(text);
  const marked = new Array<boolean>(chars.length).fill(false);
  for (const hit of hits) {
    const len = Array.from(hit.word).length;
    for (let i = Math.max(0, hit.index); i < Math.min(chars.length, hit.index + len); i += 1) marked[i] = true;
  }
  const out: TextSegment[] = [];
  chars.forEach((ch, i) => {
    const hit = marked[i] ?? false;
    const last = out[out.length - 1];
    if (last && last.hit === hit) last.text += ch;
    else out.push({ text: ch, hit });
  });
  return out;
}

/** Which node a problem's `where` names: a node id, or "nodes[3]…" from a format error; -1 otherwise. */
export function problemNodeIndex(where: string, nodes: readonly { id: string }[]): number {
  const m = /^nodes\[(\d+)\]/.exec(where);
  if (m) {
    const index = Number(m[1]);
    return index < nodes.length ? index : -1;
  }
  return nodes.findIndex((n) => n.id === where);
}

/** A detail of a problem body: the API puts details at the top level (`details.x` as a fallback). */
export function problemField(problem: { details?: Record<string, unknown> } & Record<string, unknown>, key: string): unknown {
  return key in problem ? problem[key] : problem.details?.[key];
}

/** A short human form of a changed value in a diff (before → after). */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined || value === "") return "∅";
  if (typeof value === "string") return value;
  if (Array.isArray(value)) {
    if (value.length === 0) return "∅";
    return value
      .map((v) => (typeof v === "string" ? v : typeof v === "object" && v && "text" in v ? String((v as Json).text) : JSON.stringify(v)))
      .join("；");
  }
  if (typeof value === "object") {
    const o = value as Json;
    if ("answer" in o && "next" in o) return `${String(o.answer)} → ${String(o.next)}`;
    return JSON.stringify(value);
  }
  return String(value);
}
