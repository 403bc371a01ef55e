import { describe, expect, it } from "vitest";
import { parseWords, toRow, toRules } from "./routingRules";

describe("rules table", () => {
  it("numbers priorities by row order and splits the type lists", () => {
    const rows = [
      toRow({ name: "保险", flow_code: "ins", business_types: ["insurance"], risk_levels: ["R5", "R4"] }),
      toRow({ name: "默认", flow_code: "wm" }),
    ];
    rows[1]!.businessTypes = "fund， wealth、fund";
    rows[1]!.customerTypes = "personal corporate";
    const out = toRules(rows);
    expect(out.map((r) => r.priority)).toEqual([10, 20]);
    expect(out[0]?.risk_levels).toEqual(["R4", "R5"]);
    expect(out[1]?.business_types).toEqual(["fund", "wealth"]);
    expect(out[1]?.customer_types).toEqual(["personal", "corporate"]);
    expect(out[1]?.mode).toBe("self_service");
  });

  it("cleans the word list", () => {
    expect(parseWords(" 保本\n\n稳赚\n保本 \n")).toEqual(["保本", "稳赚"]);
  });
});
