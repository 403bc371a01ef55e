// The set-up timeline of a call: one performance mark "rtc:<step>" per step and call (the first time
// the step is reached), from the join request to the first remote video frame. bench/rtc.py and the
// browser tests read them (performance.getEntriesByType("mark")) to say where the set-up time goes.
const reached = new Set<string>();

/** A new call begins: the previous call's marks are dropped. */
export function resetSetupMarks(): void {
  reached.clear();
  if (typeof performance === "undefined" || typeof performance.clearMarks !== "function") return;
  for (const m of performance.getEntriesByType("mark")) if (m.name.startsWith("rtc:")) performance.clearMarks(m.name);
}

export function markSetup(step: string): void {
  if (reached.has(step) || typeof performance === "undefined" || typeof performance.mark !== "function") return;
  reached.add(step);
  performance.mark(`rtc:${step}`);
}
