import { describe, expect, it } from "vitest";
import { clampSpeed, identityOf, litigationUrl, packageUrl, pushPending, similarityPercent, SPEEDS } from "./playback";

describe("playback helpers", () => {
  it("offers 0.5× to 2× and falls back to 1×", () => {
    expect(SPEEDS[0]).toBe(0.5);
    expect(SPEEDS[SPEEDS.length - 1]).toBe(2);
    expect(clampSpeed(1.5)).toBe(1.5);
    expect(clampSpeed(3)).toBe(1);
    expect(clampSpeed(Number.NaN)).toBe(1);
  });

  it("reads the identity section and tolerates reports without one", () => {
    expect(identityOf({})).toEqual({ idCards: [], faces: null });
    expect(identityOf(null)).toEqual({ idCards: [], faces: null });
    expect(identityOf({ identity: { id_card: "x", face_comparison: { samples: "bad" } } })).toEqual({
      idCards: [],
      faces: null,
    });
    const sample = { time: 2.5, distance: 0.3, similarity: 0.75, match: true, frame: "evidence/face_01.jpg" };
    const report = {
      identity: {
        id_card: [{ side: "front", time: 1.9, frame: null, name: "张*", id_number: "110105********002X", check_digit_valid: true }],
        face_comparison: { threshold: 0.6, compared: 7, median_distance: 0.3, samples: [sample] },
      },
    };
    const identity = identityOf(report);
    expect(identity.idCards[0]?.id_number).toBe("110105********002X");
    expect(identity.faces?.samples).toEqual([sample]);
    expect(similarityPercent(sample)).toBe("75%");
  });

  it("builds the evidence links", () => {
    expect(litigationUrl("a/b")).toBe("/api/v1/recordings/a%2Fb/litigation.pdf");
    expect(litigationUrl("r1", true)).toBe("/api/v1/recordings/r1/litigation.pdf?unmask=true");
    expect(packageUrl("r1")).toBe("/api/v1/recordings/r1/evidence-package.zip");
    expect(pushPending("queued") && pushPending("running")).toBe(true);
    expect(pushPending("done") || pushPending("failed")).toBe(false);
  });
});
