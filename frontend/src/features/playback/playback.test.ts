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
    const none = { idCards: [], faces: null, liveness: null, liveMatch: null };
    expect(identityOf({})).toEqual(none);
    expect(identityOf(null)).toEqual(none);
    expect(identityOf({ identity: { id_card: "x", face_comparison: { samples: "bad" }, liveness: {} } })).toEqual(none);
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

  it("reads a self-service session's live proof: liveness, the live comparison", () => {
    const live = { passed: true, distance: 0.39, threshold: 0.6, time: 11, captured_at: "2026-03-01T10:00:05+00:00" };
    const liveness = { passed: true, actions: ["shake", "nod"], reason: "", time: 8.5, frame: "evidence/live_liveness.jpg", captured_at: "x" };
    const identity = identityOf({ identity: { id_card: [], face_comparison: { reference: "live_session", live }, liveness } });
    expect(identity.liveMatch).toEqual(live);
    expect(identity.liveness?.actions).toEqual(["shake", "nod"]);
    expect(identity.faces).toBeNull(); // no recording samples compared
  });

  it("builds the evidence links", () => {
    expect(litigationUrl("a/b")).toBe("/api/v1/recordings/a%2Fb/litigation.pdf");
    expect(litigationUrl("r1", true)).toBe("/api/v1/recordings/r1/litigation.pdf?unmask=true");
    expect(litigationUrl("r1", false, "en")).toBe("/api/v1/recordings/r1/litigation.pdf?lang=en");
    expect(litigationUrl("r1", true, "zh-CN")).toBe("/api/v1/recordings/r1/litigation.pdf?unmask=true&lang=zh-CN");
    expect(packageUrl("r1")).toBe("/api/v1/recordings/r1/evidence-package.zip");
    expect(pushPending("queued") && pushPending("running")).toBe(true);
    expect(pushPending("done") || pushPending("failed")).toBe(false);
  });
});
