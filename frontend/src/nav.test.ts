import { describe, expect, it } from "vitest";
import { NAV, visibleNav } from "./nav";
import zhCN from "./locales/zh-CN";

const keys = (permissions: string[]): string[] =>
  visibleNav(permissions).flatMap((section) => section.items.map((item) => item.key));

describe("visibleNav", () => {
  it("shows only home to a user without permissions", () => {
    expect(keys([])).toEqual(["home"]);
    expect(visibleNav([]).map((s) => s.key)).toEqual(["businessSection"]);
  });

  it("shows the admin pages an admin holds", () => {
    const admin = ["users:read", "roles:read", "branches:read", "audit:read"];
    expect(keys(admin)).toEqual(["home", "users", "roles", "branches", "audit", "auditExports", "integrityAudit"]);
  });

  it("hides user management from an interviewer", () => {
    const interviewer = ["tasks:read", "tasks:write", "interview:conduct", "recordings:read"];
    const visible = keys(interviewer);
    expect(visible).toContain("tasks");
    expect(visible).not.toContain("users");
    expect(visible).not.toContain("audit");
  });

  it("needs the exact permission, not its write sibling", () => {
    expect(keys(["users:write"])).not.toContain("users");
  });

  it("has a label for every entry", () => {
    for (const section of NAV) {
      expect(zhCN.nav).toHaveProperty(section.key);
      for (const item of section.items) expect(zhCN.nav).toHaveProperty(item.key);
    }
  });
});
