import { describe, expect, it, vi } from "vitest";
import { downsample, encodeWav } from "./answerAudio";
import { ChunkUploader } from "./recorder";
import { inLocale, SessionApi } from "./sessionApi";

describe("answer audio", () => {
  it("encodes 16-bit mono PCM WAV with the right header and clipping", async () => {
    const wav = encodeWav(new Float32Array([0, 0.5, -1, 2]), 16000);
    const view = new DataView(await wav.arrayBuffer());
    expect(String.fromCharCode(...new Uint8Array(await wav.slice(0, 4).arrayBuffer()))).toBe("RIFF");
    expect(view.getUint32(24, true)).toBe(16000);
    expect(view.getUint16(34, true)).toBe(16);
    expect(view.getUint32(40, true)).toBe(8);
    expect(view.getInt16(46, true)).toBe(Math.trunc(0.5 * 0x7fff));
    expect(view.getInt16(48, true)).toBe(-0x7fff);
    expect(view.getInt16(50, true)).toBe(0x7fff); // 2.0 is clipped
  });

  it("downsamples 48 kHz to 16 kHz by averaging", () => {
    const out = downsample(new Float32Array([1, 1, 1, 0, 0, 0]), 48000, 16000);
    expect(Array.from(out)).toEqual([1, 0]);
  });
});

describe("chunk uploader", () => {
  it("retries a failed upload, keeps the order and never loops on a refused chunk", async () => {
    const calls: string[] = [];
    let failOnce = true;
    const api = {
      putChunk: vi.fn(async (segment: number, seq: number) => {
        calls.push(`${segment}/${seq}`);
        if (seq === 1 && failOnce) {
          failOnce = false;
          throw Object.assign(new Error("network"), { problem: { status: 0 } });
        }
        if (seq === 2) throw Object.assign(new Error("refused"), { problem: { status: 409 } });
        return {};
      }),
    } as unknown as SessionApi;
    const uploader = new ChunkUploader(api, 3, async () => undefined);
    for (const seq of [0, 1, 2, 3]) uploader.add(seq, new Blob([`piece ${seq}`]));
    await uploader.drained();
    expect(calls).toEqual(["3/0", "3/1", "3/1", "3/2", "3/3"]);
    expect(uploader.acknowledged).toBe(4);
    expect(uploader.failures).toBe(2);
  });
});

describe("server texts", () => {
  it("show the customer's half of a bilingual reason", () => {
    const why = "朗读准确率 61%，需达到 80% / read 61% of the sentence, 80% needed";
    expect(inLocale(why, "zh-CN")).toBe("朗读准确率 61%，需达到 80%");
    expect(inLocale(why, "en")).toBe("read 61% of the sentence, 80% needed");
    expect(inLocale("只有中文", "en")).toBe("只有中文");
  });
});

describe("session api", () => {
  it("sends a step's request only after the consent it was made during has been answered", async () => {
    const sent: string[] = [];
    let answerConsent: (r: Response) => void = () => undefined;
    const fetchMock = vi.fn((url: string) => {
      sent.push(url.replace(/^.*\/session\/tok/, ""));
      if (url.endsWith("/consent")) return new Promise<Response>((resolve) => (answerConsent = resolve));
      return Promise.resolve(new Response(JSON.stringify({ state: "pending" }), { status: 200 }));
    });
    vi.stubGlobal("fetch", fetchMock);
    try {
      const api = new SessionApi("tok");
      const consent = api.after(api.consent(true, 0));
      const liveness = api.liveness(); // the first step's button, tapped while the consent is on its way
      await new Promise((r) => setTimeout(r, 20));
      expect(sent).toEqual(["/consent"]);
      answerConsent(new Response(JSON.stringify({ status: "running" }), { status: 200 }));
      await consent;
      await liveness;
      expect(sent).toEqual(["/consent", "/liveness"]);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
