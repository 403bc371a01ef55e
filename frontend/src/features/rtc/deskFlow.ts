// Where the agent is in the flow, from its node marks (打点): the running node is the last one
// started and not ended; the next one follows the last node touched (or the first node the AI
// session did not already pass).

export interface Mark {
  node_id: string;
  kind: "start" | "end";
  at: string;
}

export interface NodeRef {
  id: string;
}

export function currentNode(marks: readonly Mark[]): string | null {
  let running: string | null = null;
  for (const m of marks) {
    if (m.kind === "start") running = m.node_id;
    else if (m.node_id === running) running = null;
  }
  return running;
}

export function nextNode(nodes: readonly NodeRef[], marks: readonly Mark[], passedByAi: readonly string[] = []): string | null {
  const last = marks.at(-1)?.node_id;
  if (last === undefined) return nodes.find((n) => !passedByAi.includes(n.id))?.id ?? null;
  const at = nodes.findIndex((n) => n.id === last);
  return at >= 0 ? (nodes[at + 1]?.id ?? null) : null;
}
