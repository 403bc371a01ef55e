// Rules-table editing helpers: rows are tried top to bottom, so saving numbers priorities by row order.
import type { Schemas } from "@/api/client";

export type RuleIn = Schemas["RoutingRuleIn"];
export type RiskLevel = NonNullable<RuleIn["risk_levels"]>[number];
export const RISK_LEVELS: RiskLevel[] = ["R1", "R2", "R3", "R4", "R5"];

export interface RuleRow {
  uid: number;
  name: string;
  flow_code: string;
  mode: "self_service" | "human";
  customerTypes: string; // comma separated in the form
  businessTypes: string;
  risk_levels: RiskLevel[];
  enabled: boolean;
}

let uid = 0;
const split = (text: string): string[] =>
  [...new Set(text.split(/[,，、\s]+/).map((s) => s.trim()).filter(Boolean))];

export function toRow(rule: Partial<Schemas["RoutingRuleOut"]>): RuleRow {
  return {
    uid: ++uid,
    name: rule.name ?? "",
    flow_code: rule.flow_code ?? "",
    mode: rule.mode ?? "self_service",
    customerTypes: (rule.customer_types ?? []).join(", "),
    businessTypes: (rule.business_types ?? []).join(", "),
    risk_levels: [...(rule.risk_levels ?? [])],
    enabled: rule.enabled ?? true,
  };
}

/** The PUT body: priorities 10, 20, … in row order (first matching row wins). */
export function toRules(rows: readonly RuleRow[]): RuleIn[] {
  return rows.map((row, i) => ({
    name: row.name.trim(),
    priority: (i + 1) * 10,
    flow_code: row.flow_code,
    mode: row.mode,
    customer_types: split(row.customerTypes),
    business_types: split(row.businessTypes),
    risk_levels: RISK_LEVELS.filter((r) => row.risk_levels.includes(r)),
    enabled: row.enabled,
  }));
}

/** One word per line, trimmed, de-duplicated, empty lines dropped. */
export function parseWords(text: string): string[] {
  return [...new Set(text.split("\n").map((w) => w.trim()).filter(Boolean))];
}
