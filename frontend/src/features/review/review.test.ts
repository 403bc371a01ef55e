import { describe, expect, it } from "vitest";
import {
  chartData,
  emptySamplingForm,
  findingChecks,
  nextOpen,
  percent,
  ruleForm,
  samplingBody,
  shortcut,
  statsQuery,
  step,
  workable,
  type ReviewItem,
  type SamplingRule,
  type Stats,
} from "./review";

const finding = (key: string, check: string, start: number | null = 1) => ({
  key,
  check_id: check,
  check_title: check,
  severity: "major",
  message: `${check} message`,
  start,
  end: start === null ? null : start + 2,
  node_id: null,
  evidence: {},
});

function item(overrides: Partial<ReviewItem> = {}): ReviewItem {
  return {
    id: 1,
    recording_id: "r",
    branch_id: 2,
    sample_id: 1,
    status: "in_review",
    verdict: "FAIL",
    risk_score: 60,
    high_risk: false,
    recording_created_by: "iv",
    task_id: null,
    attempt_no: null,
    assignee_id: 7,
    assignee: "rev",
    findings: [finding("a:0", "a"), finding("b:0", "b"), finding("b:1", "b", null)],
    decisions: [],
    open_findings: ["a:0", "b:0", "b:1"],
    started_at: null,
    decision: null,
    decision_reason: "",
    decided_by: "",
    decided_at: null,
    final_decision: null,
    final_reason: "",
    final_by: "",
    final_at: null,
    outcome: null,
    rerecord_attempt: null,
    review_seconds: null,
    created_at: "2026-12-01T00:00:00Z",
    appeals: [],
    ...overrides,
  };
}

const key = (k: string, target: object = { tagName: "DIV" }) =>
  shortcut({ key: k, ctrlKey: false, metaKey: false, altKey: false, target: target as EventTarget });

describe("workbench keyboard", () => {
  it("maps j/k/c/o and ignores typing in fields and modified keys", () => {
    expect([key("j"), key("k"), key("c"), key("o"), key("x")]).toEqual(["next", "prev", "confirm", "overrule", null]);
    expect(key("c", { tagName: "TEXTAREA" })).toBeNull();
    expect(key("j", { tagName: "input" })).toBeNull();
    expect(shortcut({ key: "c", ctrlKey: true, metaKey: false, altKey: false, target: null })).toBeNull();
  });

  it("steps through findings wrapping around, and finds the next open one", () => {
    expect([step(-1, 3, 1), step(0, 3, 1), step(2, 3, 1), step(0, 3, -1), step(-1, 3, -1), step(0, 0, 1)]).toEqual([0, 1, 0, 2, 2, -1]);
    expect(nextOpen(item({ open_findings: ["b:1"] }), 0)).toBe(2);
    expect(nextOpen(item({ open_findings: ["a:0"] }), 1)).toBe(0);
    expect(nextOpen(item({ open_findings: [] }), 0)).toBe(-1);
  });

  it("lets the assignee or anyone on an unassigned open item work on it", () => {
    expect(workable(item(), 7)).toBe(true);
    expect(workable(item(), 8)).toBe(false);
    expect(workable(item({ assignee_id: null }), 8)).toBe(true);
    expect(workable(item({ status: "done" }), 7)).toBe(false);
  });

  it("draws machine and added findings as timeline checks", () => {
    const added = { id: 9, finding_key: null, check_id: "script", action: "added", reason: "漏读", start: 4, end: 9, by: "rev", at: "" };
    const checks = findingChecks(item({ decisions: [added] }));
    expect(checks.map((c) => [c.id, c.findings.length])).toEqual([["a", 1], ["b", 2], ["added:script", 1]]);
  });
});

describe("sampling form", () => {
  it("builds the request: lists split on commas, empty numbers left out", () => {
    const form = { ...emptySamplingForm(), businessTypes: "insurance，fund, ", verdicts: ["FAIL"], riskMin: 30, ratePass: "" };
    const body = samplingBody(form);
    expect(body.filters).toMatchObject({ business_types: ["insurance", "fund"], verdicts: ["FAIL"], risk_min: 30 });
    expect("risk_max" in body.filters).toBe(false);
    expect(body.plan).toEqual({ rates: { REVIEW: 100, FAIL: 100 }, default_rate: 0, per_branch: true, high_risk_min: null, limit: null, high_risk_flagged: false });
  });

  it("shows a stored rule as the form", () => {
    const rule = {
      id: 1,
      name: "每日",
      enabled: true,
      branch_id: 3,
      filters: { business_types: ["insurance"], risk_min: 20 },
      plan: { rates: { FAIL: 100, PASS: 5 }, per_branch: false, high_risk_min: 80, limit: null },
      assignees: [4],
    } as unknown as SamplingRule;
    const form = ruleForm(rule);
    expect([form.branchId, form.businessTypes, form.riskMin, form.rateFail, form.ratePass, form.rateReview]).toEqual(["3", "insurance", "20", "100", "5", "0"]);
    expect([form.perBranch, form.highRiskMin, form.assignees]).toEqual([false, "80", [4]]);
  });
});

describe("statistics", () => {
  const row = (key: string, precision: number | null) => ({
    key,
    label: key,
    reviewed: 1,
    raised: 4,
    confirmed: 3,
    overruled: 1,
    precision,
    missed: 0,
    first_attempts: 1,
    first_time_passed: 1,
    first_time_pass_rate: 1,
    decided: 1,
    rerecords: 0,
    rerecord_rate: 0,
    review_seconds_mean: 60,
    review_seconds_median: 60,
  });

  it("charts precision per check in percent, gaps for checks that raised nothing", () => {
    const stats = { group_by: "check", period: "day", rows: [row("a", 0.75), row("b", null)], total: row("total", 0.75) } as Stats;
    expect(chartData(stats)).toEqual({ labels: ["a", "b"], series: [{ key: "precision", values: [75, null] }] });
    expect(chartData({ ...stats, group_by: "branch" }).series.map((s) => s.key)).toEqual(["precision", "first_time_pass_rate", "rerecord_rate"]);
    expect([percent(0.756), percent(null)]).toEqual(["75.6%", "—"]);
  });

  it("builds the query with time zones", () => {
    const q = statsQuery({ since: "2026-12-01T00:00", until: "", groupBy: "branch", period: "week", branchId: "2" });
    expect(q.group_by).toBe("branch");
    expect(q.since).toMatch(/Z$/);
    expect("until" in q).toBe(false);
    expect(q.branch_id).toBe("2");
  });
});
