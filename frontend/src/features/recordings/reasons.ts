// The verdict's reasons ("<check id>: 中文 / English", core/qc.py) grouped by check for display:
// one line per check with how many times it was given, in the order the verdict lists them (the
// reasons that made it FAIL first), each message in the UI language only.
import { inLanguage } from "@/bilingual";
import { label } from "@/labels";

export interface ReasonGroup {
  key: string; // the check id, or the message itself when it names no check
  title: string; // the check's display name ("" when the reason names no check)
  count: number;
  messages: string[]; // distinct messages, first given first
}

const PREFIX = /^([a-z][a-z0-9_]*): (.*)$/s;

export function groupReasons(reasons: readonly string[], locale: string): ReasonGroup[] {
  const groups = new Map<string, ReasonGroup>();
  for (const reason of reasons) {
    const match = PREFIX.exec(reason);
    const checkId = match?.[1] ?? "";
    const message = inLanguage(match ? (match[2] ?? "") : reason, locale);
    const key = checkId || message;
    let group = groups.get(key);
    if (!group) {
      group = { key, title: checkId ? label("checks", checkId) : "", count: 0, messages: [] };
      groups.set(key, group);
    }
    group.count += 1;
    if (!group.messages.includes(message)) group.messages.push(message);
  }
  return [...groups.values()];
}
