import { describe, expect, it } from "vitest";
import { groupReasons } from "./reasons";

const frozen = (i: number): string => `frozen_picture: 画面冻结 ${i}.0 秒 / picture frozen for ${i}.0 s`;

describe("groupReasons", () => {
  it("folds 33 reasons of one check into one line with a count, in the UI language", () => {
    const reasons = [
      "file_integrity: 文件被截断 / the file is truncated",
      ...Array.from({ length: 33 }, (_, i) => frozen(i + 1)),
      "silence: 静音 / silence",
    ];
    const groups = groupReasons(reasons, "zh-CN");
    expect(groups.map((g) => [g.key, g.title, g.count])).toEqual([
      ["file_integrity", "文件完整性", 1],
      ["frozen_picture", "画面冻结", 33],
      ["silence", "静音/音量过低", 1],
    ]);
    expect(groups[1]?.messages[0]).toBe("画面冻结 1.0 秒");
    expect(groups[1]?.messages).toHaveLength(33);
    const english = groupReasons(reasons, "en");
    expect(english[0]?.messages).toEqual(["the file is truncated"]);
  });

  it("keeps reasons that name no check as their own line", () => {
    const groups = groupReasons(["风险分 80 ≥ 60 / risk score 80 ≥ 60"], "zh-CN");
    expect(groups).toEqual([{ key: "风险分 80 ≥ 60", title: "", count: 1, messages: ["风险分 80 ≥ 60"] }]);
  });

  it("merges identical messages", () => {
    const groups = groupReasons(["silence: 静音 / silence", "silence: 静音 / silence"], "en");
    expect(groups[0]).toMatchObject({ count: 2, messages: ["silence"] });
  });
});
