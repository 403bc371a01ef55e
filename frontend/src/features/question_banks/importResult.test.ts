import { describe, expect, it } from "vitest";
import { rowErrors } from "./importResult";

describe("rowErrors", () => {
  it("reads the listed row errors and the total", () => {
    const out = rowErrors({
      status: 422,
      details: {
        error_count: 3,
        row_errors_truncated: true,
        row_errors: [{ sheet: "题目", row: 4, column: "C", header: "难度", problem: "需要 1–5" }, { sheet: "题目" }],
      },
    });
    expect(out.total).toBe(3);
    expect(out.truncated).toBe(true);
    expect(out.errors[0]).toEqual({ sheet: "题目", row: 4, column: "C", header: "难度", problem: "需要 1–5" });
    expect(out.errors[1]?.row).toBeNull();
  });
  it("reads them from the top level, where the API puts a problem's details", () => {
    const out = rowErrors({ status: 422, error_count: 1, row_errors: [{ sheet: "题库", row: 2, column: "F", problem: "x" }] });
    expect(out.total).toBe(1);
    expect(out.errors[0]?.row).toBe(2);
  });
  it("is empty for other problems", () => {
    expect(rowErrors({ status: 413, detail: "too large" }).errors).toEqual([]);
    expect(rowErrors(null).total).toBe(0);
  });
});
