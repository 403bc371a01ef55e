import { describe, expect, it } from "vitest";
import { SPEED_STORAGE_KEY, loadSpeed, saveSpeed } from "./speedStore";

function memory(): Storage {
  const data = new Map<string, string>();
  return {
    getItem: (k: string) => data.get(k) ?? null,
    setItem: (k: string, v: string) => void data.set(k, v),
    removeItem: (k: string) => void data.delete(k),
    clear: () => data.clear(),
    key: () => null,
    get length() {
      return data.size;
    },
  };
}

describe("playback speed storage", () => {
  it("keeps the chosen speed", () => {
    const storage = memory();
    expect(loadSpeed(storage)).toBe(1);
    saveSpeed(1.5, storage);
    expect(storage.getItem(SPEED_STORAGE_KEY)).toBe("1.5");
    expect(loadSpeed(storage)).toBe(1.5);
  });

  it("ignores what is not an offered speed", () => {
    const storage = memory();
    storage.setItem(SPEED_STORAGE_KEY, "16");
    expect(loadSpeed(storage)).toBe(1);
    storage.setItem(SPEED_STORAGE_KEY, "fast");
    expect(loadSpeed(storage)).toBe(1);
  });
});
