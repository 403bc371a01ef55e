import { describe, expect, it } from "vitest";
import {
  activeLine,
  evidenceUrl,
  formatBytes,
  formatClock,
  formatConfidence,
  formatRange,
  isValidIdNumber,
  orderedChecks,
  requiredNotRun,
  timelineLanes,
  timelineMarkers,
  type CheckRow,
  type Finding,
} from "./report";

const finding = (start: number | null, end: number | null, severity: Finding["severity"] = "major"): Finding => ({
  severity,
  message: `m${start}`,
  start,
  end,
  node_id: null,
  confidence: null,
  evidence: { frame_time: null, frame: null, quote: null, quote_start: null, quote_end: null },
});

const check = (id: string, status: CheckRow["status"], severity: CheckRow["severity"], findings: Finding[] = []): CheckRow => ({
  id,
  title: id,
  title_en: id,
  severity,
  status,
  reason: null,
  confidence: null,
  findings,
});

describe("formatClock", () => {
  it("writes mm:ss.s and rounds to tenths", () => {
    expect(formatClock(0)).toBe("00:00.0");
    expect(formatClock(75.25)).toBe("01:15.3");
    expect(formatClock(59.96)).toBe("01:00.0");
    expect(formatClock(3723.4)).toBe("62:03.4");
  });
  it("shows a placeholder for missing or invalid times", () => {
    expect(formatClock(null)).toBe("--:--.-");
    expect(formatClock(Number.NaN)).toBe("--:--.-");
  });
  it("collapses an empty range to one time", () => {
    expect(formatRange(3, 3)).toBe("00:03.0");
    expect(formatRange(0.5, 6.03)).toBe("00:00.5 – 00:06.0");
    expect(formatRange(4, null)).toBe("00:04.0");
  });
});

describe("timelineMarkers", () => {
  it("places findings in percent of the duration, clamped, with a minimum width", () => {
    const markers = timelineMarkers([check("a", "failed", "major", [finding(5, 10), finding(20, 30)])], 20);
    expect(markers.map((m) => [m.left, m.width])).toEqual([
      [25, 25],
      [99.4, 0.6],
    ]);
  });
  it("leaves findings about the whole file off the timeline", () => {
    const markers = timelineMarkers([check("q", "failed", "major", [finding(null, null), finding(2, null)])], 10);
    expect(markers.map((m) => [m.key, m.left])).toEqual([["q-1", 20]]);
  });
  it("draws the most severe findings last (on top)", () => {
    const markers = timelineMarkers(
      [check("a", "failed", "critical", [finding(1, 2, "critical")]), check("b", "failed", "minor", [finding(1, 2, "minor")])],
      10,
    );
    expect(markers.map((m) => m.checkId)).toEqual(["b", "a"]);
  });
});

describe("timelineLanes", () => {
  it("gives each check with timed findings its own row, most important first", () => {
    const lanes = timelineLanes(
      [
        check("quiet", "passed", "major"),
        check("people", "failed", "minor", [finding(0, 17)]),
        check("frozen", "failed", "major", [finding(8.5, 12.5), finding(14, 15)]),
        check("resolution", "failed", "critical", [finding(null, null)]),
      ],
      17,
    );
    expect(lanes.map((l) => [l.checkId, l.markers.length])).toEqual([
      ["frozen", 2],
      ["people", 1],
    ]);
  });
});

describe("orderedChecks", () => {
  it("lists failures first, then errors and not-run, then passes", () => {
    const rows = orderedChecks([
      check("ok", "passed", "critical"),
      check("skip", "not_run", "major"),
      check("minorFail", "failed", "minor"),
      check("critFail", "failed", "critical"),
      check("err", "error", "minor"),
    ]);
    expect(rows.map((r) => r.id)).toEqual(["critFail", "minorFail", "err", "skip", "ok"]);
  });
});

describe("evidenceUrl", () => {
  it("maps evidence refs to the recording's evidence endpoint and refuses anything else", () => {
    expect(evidenceUrl("r1", "evidence/frozen_01.jpg")).toBe("/api/v1/recordings/r1/evidence/frozen_01.jpg");
    expect(evidenceUrl("r1", "evidence/../secret")).toBeNull();
    expect(evidenceUrl("r1", "/etc/passwd")).toBeNull();
    expect(evidenceUrl("r1", null)).toBeNull();
  });
});

describe("activeLine", () => {
  it("finds the line spoken at a time", () => {
    const lines = [
      { start: 0.6, end: 2, text: "a", confidence: 0.8 },
      { start: 2, end: 5, text: "b", confidence: null },
    ];
    expect(activeLine(lines, 0.1)).toBe(-1);
    expect(activeLine(lines, 2)).toBe(1);
  });
});

describe("isValidIdNumber", () => {
  it("accepts a number with a correct check digit, also with a lower-case x", () => {
    expect(isValidIdNumber("11010519491231002X")).toBe(true);
    expect(isValidIdNumber("11010519491231002x")).toBe(true);
  });
  it("rejects a wrong check digit, a wrong length or an impossible date", () => {
    expect(isValidIdNumber("110105194912310021")).toBe(false);
    expect(isValidIdNumber("11010519491231002")).toBe(false);
    expect(isValidIdNumber("110105194902300021")).toBe(false);
  });
});

describe("formatConfidence", () => {
  it("shows an engine's score as a percentage", () => {
    expect(formatConfidence(0.42)).toBe("42%");
    expect(formatConfidence(1)).toBe("100%");
  });
  it("shows nothing where no engine gave a score", () => {
    expect(formatConfidence(null)).toBeNull();
    expect(formatConfidence(undefined)).toBeNull();
    expect(formatConfidence(Number.NaN)).toBeNull();
  });
});

describe("formatBytes", () => {
  it("uses the largest fitting unit", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1536)).toBe("1.5 KB");
    expect(formatBytes(5 * 1024 * 1024)).toBe("5.0 MB");
  });
});

describe("requiredNotRun", () => {
  const node = "流程节点 id「身份核验」（身份核验）/ flow node id (identity)";
  it("names the flow node that required a check that did not run, Chinese first", () => {
    const text = requiredNotRun({ ...check("id_card", "not_run", "critical"), required_by: node });
    expect(text).toBe(
      "流程节点 id「身份核验」（身份核验）要求此检查，未执行，须人工复核 / required by flow node id (identity); not run, so the recording needs review",
    );
    expect(text!.indexOf("流程节点")).toBeLessThan(text!.indexOf("flow node"));
  });
  it("says nothing for a check that ran or that nothing required", () => {
    expect(requiredNotRun({ ...check("id_card", "passed", "critical"), required_by: node })).toBeNull();
    expect(requiredNotRun({ ...check("id_card", "failed", "critical"), required_by: node })).toBeNull();
    expect(requiredNotRun({ ...check("portrait", "not_run", "minor"), required_by: null })).toBeNull();
    expect(requiredNotRun(check("portrait", "not_run", "minor"))).toBeNull(); // an older report
  });
  it("keeps a reason without an English half whole", () => {
    expect(requiredNotRun({ ...check("answers", "not_run", "major"), required_by: "节点 qa1" })).toBe(
      "节点 qa1要求此检查，未执行，须人工复核 / required by 节点 qa1; not run, so the recording needs review",
    );
  });
});
