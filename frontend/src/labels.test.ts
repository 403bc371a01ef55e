import { afterEach, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { i18n, messages } from "@/locales";
import { ENUMS, PERMISSION_GROUP, actorLabel, groupedPermissions, label, labelKey, labelList, type LabelKind } from "./labels";

const schema = readFileSync(fileURLToPath(new URL("./api/schema.d.ts", import.meta.url)), "utf8");

/** The values of the string-literal union the OpenAPI schema gives for a property, e.g. `mode`. */
function schemaEnum(property: string): string[] {
  const union = new RegExp(`\\b${property}\\??: ((?:"[^"]+" \\| )+"[^"]+")`).exec(schema);
  expect(union, `schema.d.ts lists ${property}`).not.toBeNull();
  return [...(union?.[1] ?? "").matchAll(/"([^"]+)"/g)].map((m) => m[1] ?? "");
}

function lookup(tree: unknown, key: string): unknown {
  return key.split(".").reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], tree);
}

afterEach(() => {
  i18n.global.locale.value = "zh-CN";
});

describe("display names", () => {
  it("exist in both languages for every value of every enum", () => {
    for (const [kind, values] of Object.entries(ENUMS) as [LabelKind, readonly string[]][]) {
      for (const value of values) {
        for (const locale of ["zh-CN", "en"] as const) {
          const text = lookup(messages[locale], labelKey(kind, value));
          expect(typeof text === "string" && text.trim() !== "", `${locale} ${kind} ${value}`).toBe(true);
        }
      }
    }
  });

  it("are Chinese in zh-CN and differ from the raw value", () => {
    for (const [kind, values] of Object.entries(ENUMS) as [LabelKind, readonly string[]][]) {
      for (const value of values) {
        const zh = String(lookup(messages["zh-CN"], labelKey(kind, value)));
        expect(zh, `${kind} ${value}`).toMatch(/[\u4e00-\u9fff]/);
        expect(zh).not.toBe(value);
      }
    }
  });

  it("cover the enums of the OpenAPI schema", () => {
    expect(ENUMS.nodeTypes).toEqual(expect.arrayContaining(schemaEnum("node_type")));
    expect(ENUMS.modes).toEqual(expect.arrayContaining(schemaEnum("mode").filter((m) => m === "self_service" || m === "human")));
    expect(ENUMS.verdicts).toEqual(expect.arrayContaining(["PASS", "REVIEW", "FAIL"]));
    expect(schema).toContain('"PASS" | "REVIEW" | "FAIL"');
  });

  it("group every permission", () => {
    for (const p of ENUMS.permissions) expect(PERMISSION_GROUP[p], p).toBeDefined();
  });

  it("follow the UI language", () => {
    expect(label("auditActions", "flow.published")).toBe("发布流程");
    expect(label("businessTypes", "wealth")).toBe("理财");
    expect(label("customerTypes", "elderly")).toContain("老年");
    i18n.global.locale.value = "en";
    expect(label("auditActions", "flow.published")).toBe("Flow published");
    expect(label("customerTypes", "personal")).toBe("Individual");
  });

  it("show unknown values as they are and empty ones as a dash", () => {
    expect(label("businessTypes", "gold_bars")).toBe("gold_bars");
    expect(label("businessTypes", "")).toBe("—");
    expect(label("businessTypes", null, "无")).toBe("无");
  });

  it("name actors", () => {
    expect(actorLabel("anonymous")).toBe("匿名");
    expect(actorLabel("apikey:ak_123")).toBe("接入系统 ak_123");
    expect(actorLabel("zhangsan")).toBe("zhangsan");
  });

  it("list and group", () => {
    expect(labelList("businessTypes", ["wealth", "insurance"])).toBe("理财、保险");
    expect(labelList("businessTypes", [])).toBe("—");
    const groups = groupedPermissions(["qc:read", "tasks:read", "tasks:write"]);
    expect(groups).toEqual([
      { group: "双录任务", names: ["查看双录任务", "管理双录任务"] },
      { group: "质检", names: ["查看质检结果"] },
    ]);
  });
});
