import { describe, expect, it } from "vitest";
import en from "./en";
import zhCN from "./zh-CN";

type Tree = { readonly [key: string]: string | Tree };

function flatten(tree: Tree, prefix = ""): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(tree)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (typeof value === "string") out.set(path, value);
    else for (const [k, v] of flatten(value, path)) out.set(k, v);
  }
  return out;
}

const placeholders = (text: string): string[] => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? "").sort();

describe("locale files", () => {
  const zh = flatten(zhCN);
  const english = flatten(en);

  it("have the same keys in zh-CN and en", () => {
    expect([...english.keys()].sort()).toEqual([...zh.keys()].sort());
  });

  it("have no empty texts", () => {
    for (const [key, text] of [...zh, ...english]) {
      expect(text.trim(), key).not.toBe("");
    }
  });

  it("use the same placeholders in both languages", () => {
    for (const [key, text] of zh) {
      expect(placeholders(english.get(key) ?? ""), key).toEqual(placeholders(text));
    }
  });

  it("has the login messages the product requires", () => {
    expect(zhCN.login.badCredentials).toBe("用户名或密码错误");
    expect(zhCN.login.lockedOut).toBe("账户已锁定，请 {minutes} 分钟后再试");
  });

  it("is Chinese in zh-CN for the navigation", () => {
    for (const text of Object.values(zhCN.nav)) expect(text).toMatch(/[\u4e00-\u9fff]/);
  });
});
