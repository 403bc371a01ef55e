import { describe, expect, it } from "vitest";
import {
  emptyForm,
  parseCarrierNumbers,
  retentionLabel,
  searchQuery,
  stepName,
  stepProgress,
  withQuery,
  type DeletionRequest,
} from "./archive";

const t = (key: string, values?: Record<string, unknown>): string =>
  values ? `${key}:${JSON.stringify(values)}` : key;

describe("archive search query", () => {
  it("leaves blanks out and trims text", () => {
    expect(searchQuery(emptyForm())).toEqual({});
    const q = searchQuery({ ...emptyForm(), customer_name: " 张三 ", qc_verdict: "FAIL", branch_id: "3" });
    expect(q).toEqual({ customer_name: "张三", qc_verdict: "FAIL", branch_id: 3 });
  });

  it("sends local days as instants and includes the last day", () => {
    const q = searchQuery({ ...emptyForm(), recorded_from: "2026-03-01", recorded_to: "2026-03-01" });
    const from = new Date(String(q.recorded_from));
    const to = new Date(String(q.recorded_to));
    expect(from.getDate()).toBe(1);
    expect(to.getTime() - from.getTime()).toBe(24 * 3600 * 1000);
    expect(searchQuery({ ...emptyForm(), recorded_from: "2026-3-1" })).toEqual({});
  });

  it("takes whole days for the expiry window only", () => {
    expect(searchQuery({ ...emptyForm(), expires_within_days: "30" })).toEqual({ expires_within_days: 30 });
    expect(searchQuery({ ...emptyForm(), expires_within_days: "-1" })).toEqual({});
  });

  it("builds export links", () => {
    expect(withQuery("/api/v1/archive/entries/export", { format: "csv", customer_name: "张 三" })).toBe(
      "/api/v1/archive/entries/export?format=csv&customer_name=%E5%BC%A0+%E4%B8%89",
    );
    expect(withQuery("/x", {})).toBe("/x");
  });
});

describe("labels", () => {
  it("names retention codes", () => {
    expect(retentionLabel("Y", t)).toBe("archive.retention.permanent");
    expect(retentionLabel("D30", t)).toBe('archive.retention.years:{"n":30}');
    expect(retentionLabel("weird", t)).toBe("weird");
  });

  it("shows approval progress and step names", () => {
    const request = {
      steps: [{ role: "branch_supervisor", name: "部门负责人" }, { role: "compliance", name: "" }, { role: "admin" }],
      decisions: [{ decision: "approve" }, { decision: "approve" }],
    } as unknown as DeletionRequest;
    expect(stepProgress(request)).toBe("2 / 3");
    expect(stepName(request.steps[0]!)).toBe("部门负责人");
    expect(stepName(request.steps[1]!)).toBe("compliance");
  });

  it("splits carrier numbers", () => {
    expect(parseCarrierNumbers("DVD-1\nDVD-2, HD-3；  ;")).toEqual(["DVD-1", "DVD-2", "HD-3"]);
  });
});
