import { describe, expect, it } from "vitest";
import type { Session } from "./sessionApi";
import { useStep } from "./useStep";

describe("useStep", () => {
  it("hands the new session on only once the step is no longer busy", async () => {
    const seen: boolean[] = [];
    const step = useStep(() => seen.push(step.busy.value));
    await step.run(async () => ({ status: "active" }) as unknown as Session);
    expect(seen).toEqual([false]); // the next node may send its own request straight away
  });

  it("runs one request at a time and shows a failure", async () => {
    const step = useStep(() => undefined);
    let release: () => void = () => undefined;
    const first = step.run(() => new Promise<void>((resolve) => (release = resolve)));
    let second = false;
    await step.run(async () => {
      second = true;
    });
    expect(second).toBe(false);
    release();
    await first;
    await step.run(() => Promise.reject(new TypeError("offline")));
    expect(step.error.value).not.toBe("");
    expect(step.busy.value).toBe(false);
  });
});
