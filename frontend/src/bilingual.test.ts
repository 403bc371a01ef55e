import { describe, expect, it } from "vitest";
import { inLanguage, isBilingual, splitBilingual } from "./bilingual";

describe("splitBilingual", () => {
  it("splits a server message into its halves", () => {
    expect(splitBilingual("签名为空 / the signature is empty")).toEqual({ zh: "签名为空", en: "the signature is empty" });
  });

  it("splits a pair whose English half quotes a Chinese name", () => {
    const text = "未找到节点「录音录像告知」，无法确认客户应答 / node 录音录像告知 not found in the recording; the answer cannot be confirmed";
    expect(inLanguage(text, "zh-CN")).toBe("未找到节点「录音录像告知」，无法确认客户应答");
    expect(inLanguage(text, "en")).toBe("node 录音录像告知 not found in the recording; the answer cannot be confirmed");
    expect(isBilingual(text)).toBe(true);
  });

  it("splits why a flow attempt ended (the server's flow.* messages) into whole halves", () => {
    const silent = "「朗读确认」未应答（共 2 次） / Step 朗读确认: no answer (tries: 2)";
    expect(inLanguage(silent, "zh-CN")).toBe("「朗读确认」未应答（共 2 次）");
    expect(inLanguage(silent, "en")).toBe("Step 朗读确认: no answer (tries: 2)");
    const failed = "「活体」未通过：光线太暗（共 3 次） / Step 活体: not passed: too dark (tries: 3)";
    expect(inLanguage(failed, "zh-CN")).toBe("「活体」未通过：光线太暗（共 3 次）");
    expect(inLanguage(failed, "en")).toBe("Step 活体: not passed: too dark (tries: 3)");
  });

  it("splits after full-width punctuation without a space", () => {
    const text = "必读话术未完整宣读，覆盖率 0%：「理财非存款」/ required statement not read completely (0%)";
    expect(inLanguage(text, "zh-CN")).toBe("必读话术未完整宣读，覆盖率 0%：「理财非存款」");
    expect(inLanguage(text, "en")).toBe("required statement not read completely (0%)");
    expect(inLanguage("同框人数不足（同框要求）/ fewer than two people (same frame) 4.0s", "en")).toBe(
      "fewer than two people (same frame) 4.0s",
    );
    expect(splitBilingual("反欺诈提问 1/2")).toBeNull();
  });

  it("keeps a ' / ' inside the Chinese half", () => {
    expect(splitBilingual("产品 / 金额须填写 / product and amount are required")).toEqual({
      zh: "产品 / 金额须填写",
      en: "product and amount are required",
    });
  });

  it("keeps a ' / ' inside the English half", () => {
    expect(splitBilingual("仅支持 MP4 或 MOV / only MP4 / MOV files")).toEqual({
      zh: "仅支持 MP4 或 MOV",
      en: "only MP4 / MOV files",
    });
  });

  it("does not split texts that are not pairs", () => {
    expect(splitBilingual("产品 / 金额")).toBeNull();
    expect(splitBilingual("MP4 / MOV / WebM")).toBeNull();
    expect(splitBilingual("第 1 / 3 页")).toBeNull();
    expect(splitBilingual("/auth/password")).toBeNull();
    expect(splitBilingual("")).toBeNull();
  });
});

describe("inLanguage", () => {
  it("picks the half of the language", () => {
    const text = "账户已锁定，请 15 分钟后再试 / account locked, try again in 15 min";
    expect(inLanguage(text, "zh-CN")).toBe("账户已锁定，请 15 分钟后再试");
    expect(inLanguage(text, "en")).toBe("account locked, try again in 15 min");
  });

  it("handles several joined messages", () => {
    const text = "画面冻结 / frozen picture; 未检测到人脸 / no face; in the first 5 s";
    expect(inLanguage(text, "zh-CN")).toBe("画面冻结；未检测到人脸");
    expect(inLanguage(text, "en")).toBe("frozen picture; no face; in the first 5 s");
  });

  it("leaves single-language texts alone", () => {
    expect(inLanguage("已通过", "en")).toBe("已通过");
    expect(inLanguage("plain English", "zh-CN")).toBe("plain English");
    expect(inLanguage(null, "zh-CN")).toBe("");
  });

  it("reduces pairs nested in one text phrase by phrase", () => {
    const text =
      "必需的检查未执行 / required check not run (流程录像 / a recording made to a flow): 可比对的人脸样本不足 / fewer than two face samples";
    expect(inLanguage(text, "zh-CN")).toBe("必需的检查未执行(流程录像): 可比对的人脸样本不足");
    expect(inLanguage(text, "en")).toBe("required check not run (a recording made to a flow): fewer than two face samples");
    const node =
      "必需的检查未执行 / required check not run (流程节点 identity「身份核实」（身份核实）/ flow node identity (Identity verification)): 未提供身份证照片 / no ID photo supplied";
    expect(inLanguage(node, "zh-CN")).toBe("必需的检查未执行(流程节点 identity「身份核实」（身份核实）): 未提供身份证照片");
    expect(inLanguage(node, "en")).toBe(
      "required check not run (flow node identity (Identity verification)): no ID photo supplied",
    );
    expect(isBilingual(inLanguage(text, "zh-CN"))).toBe(false);
    expect(isBilingual(inLanguage(text, "en"))).toBe(false);
  });

  it("tells a bilingual text", () => {
    expect(isBilingual("文件损坏 / damaged file")).toBe(true);
    expect(isBilingual("文件损坏")).toBe(false);
  });
});
