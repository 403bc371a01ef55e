import { describe, expect, it } from "vitest";
import { fieldErrors, retryAfterSeconds, toProblem } from "./problem";

describe("problem helpers", () => {
  it("keys field errors by the last location element", () => {
    const problem = toProblem({
      status: 422,
      code: "validation_error",
      errors: [
        { loc: ["body", "username"], msg: "too short" },
        { loc: ["body", "username"], msg: "second message is ignored" },
        { loc: ["body", "branch_id"], msg: "required" },
      ],
    });
    expect(fieldErrors(problem)).toEqual({ username: "too short", branch_id: "required" });
  });

  it("adds a domain error's fields map, leaving a list (row problems) alone", () => {
    const problem = toProblem({ status: 422, code: "invalid", fields: { reason: "required", business_type: "not allowed" } });
    expect(fieldErrors(problem)).toEqual({ reason: "required", business_type: "not allowed" });
    expect(fieldErrors(toProblem({ status: 422, fields: [{ field: "a", problem: "b" }] }))).toEqual({});
    expect(fieldErrors(null)).toEqual({});
  });

  it("takes the status from the response when the body is not a problem", () => {
    const problem = toProblem("Bad Gateway", new Response(null, { status: 502 }));
    expect(problem).toEqual({ status: 502, detail: "Bad Gateway" });
  });

  it("reads the lock-out delay from details, then the Retry-After header", () => {
    expect(retryAfterSeconds({ status: 401, details: { retry_after_seconds: 840 } })).toBe(840);
    const response = new Response(null, { status: 401, headers: { "Retry-After": "120" } });
    expect(retryAfterSeconds({ status: 401 }, response)).toBe(120);
    expect(retryAfterSeconds({ status: 401 })).toBeNull();
  });
});
