import { describe, expect, it } from "vitest";
import { markFromDrag } from "./deskApi";

describe("markFromDrag", () => {
  it("turns a drag in any direction into a box on the page", () => {
    expect(markFromDrag("highlight", 0.6, 0.5, 0.2, 0.3)).toEqual({ kind: "highlight", x: 0.2, y: 0.3, w: 0.4, h: 0.2 });
  });
  it("clamps to the page and ignores a click", () => {
    expect(markFromDrag("highlight", -0.2, 0.9, 1.4, 1.2)).toEqual({ kind: "highlight", x: 0, y: 0.9, w: 1, h: 0.1 });
    expect(markFromDrag("highlight", 0.5, 0.5, 0.502, 0.6)).toBeNull();
  });
  it("draws an underline under the dragged stretch, inside the page", () => {
    const m = markFromDrag("underline", 0.1, 0.4, 0.7, 0.42);
    expect(m).toMatchObject({ kind: "underline", x: 0.1, y: 0.42, w: 0.6 });
    const low = markFromDrag("underline", 0.1, 0.99, 0.7, 1.5);
    expect((low?.y ?? 0) + (low?.h ?? 0)).toBeLessThanOrEqual(1);
  });
});
