import { describe, expect, it } from "vitest";
import { formatSkillGroups, parseSkillGroups, skillGroupsValid } from "./skillGroups";

describe("skill groups as typed", () => {
  it("splits on commas, 、 and spaces, keeps each group once, sorted", () => {
    expect(parseSkillGroups(" 理财、保险, 理财，vip  基金 ")).toEqual(["vip", "保险", "基金", "理财"].sort());
    expect(parseSkillGroups("  ")).toEqual([]);
  });

  it("round-trips what it shows", () => {
    const groups = parseSkillGroups("wealth、insurance");
    expect(parseSkillGroups(formatSkillGroups(groups))).toEqual(groups);
  });

  it("refuses what the server would refuse", () => {
    expect(skillGroupsValid(parseSkillGroups("a、b"))).toBe(true);
    expect(skillGroupsValid(Array.from({ length: 21 }, (_, i) => `g${i}`))).toBe(false);
    expect(skillGroupsValid(["x".repeat(65)])).toBe(false);
  });
});
