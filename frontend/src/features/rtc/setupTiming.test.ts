import { describe, expect, it } from "vitest";
import { markSetup, resetSetupMarks } from "./setupTiming";

const marks = () =>
  performance
    .getEntriesByType("mark")
    .filter((m) => m.name.startsWith("rtc:"))
    .map((m) => m.name);

describe("the set-up marks", () => {
  it("marks each step once per call, and a new call starts a new timeline", () => {
    resetSetupMarks();
    markSetup("start");
    markSetup("session");
    markSetup("session"); // a second event of the same step keeps the first time
    expect(marks()).toEqual(["rtc:start", "rtc:session"]);
    performance.mark("other"); // the page's other marks are left alone
    resetSetupMarks();
    expect(marks()).toEqual([]);
    expect(performance.getEntriesByName("other")).toHaveLength(1);
    markSetup("session");
    expect(marks()).toEqual(["rtc:session"]);
  });
});
