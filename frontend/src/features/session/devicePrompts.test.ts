import { describe, expect, it } from "vitest";
import {
  ActionTracker,
  DEFAULT_PROMPT_OPTIONS,
  DevicePromptMachine,
  frameConditions,
  mergeAlerts,
  SpokenOnce,
  type DeviceFace,
  type DeviceFrame,
} from "./devicePrompts";

const W = 640;
const H = 480;

function face(x = 240, y = 150, w = 160, h = 180, pose: Partial<DeviceFace> = {}): DeviceFace {
  return { box: [x, y, w, h], score: 0.9, yaw: 0, pitch: 0, ear: 0.3, ...pose };
}

function frame(t: number, faces: DeviceFace[], luma = 120, texture = 8): DeviceFrame {
  return { t, width: W, height: H, faces, luma, texture };
}

describe("frameConditions", () => {
  it("sees one well-placed face as fine", () => {
    expect([...frameConditions(frame(0, [face()]))]).toEqual([]);
  });
  it("names a missing face and several faces", () => {
    expect([...frameConditions(frame(0, []))]).toEqual(["no_face"]);
    expect([...frameConditions(frame(0, [face(), face(10, 10, 120, 130)]))]).toEqual(["multiple_faces"]);
  });
  it("says covered (dark and flat) instead of no face, dark when there is texture", () => {
    expect([...frameConditions(frame(0, [], 20, 0.4))]).toEqual(["covered"]);
    expect([...frameConditions(frame(0, [face()], 30, 3))]).toEqual(["dark"]);
    expect([...frameConditions(frame(0, [], 30, 3))].sort()).toEqual(["dark", "no_face"]);
  });
  it("names a face cut by the picture's edge and a face too far away", () => {
    expect([...frameConditions(frame(0, [face(0, 100, 150, 170)]))]).toEqual(["out_of_frame"]);
    expect([...frameConditions(frame(0, [face(500, 100, 140, 170)]))]).toEqual(["out_of_frame"]);
    expect([...frameConditions(frame(0, [face(300, 200, 60, 70)]))]).toEqual(["too_small"]);
  });
});

describe("DevicePromptMachine", () => {
  it("raises after two frames in a row at a fast pace, not on one missed detection", () => {
    const m = new DevicePromptMachine();
    expect(m.update(frame(0, [face()])).raised).toEqual([]);
    expect(m.update(frame(40, [])).raised).toEqual([]); // one miss
    expect(m.update(frame(80, [face()])).active).toEqual([]);
    expect(m.update(frame(120, [])).raised).toEqual([]);
    const c = m.update(frame(160, []));
    expect(c.raised).toEqual(["no_face"]);
    expect(c.active).toEqual(["no_face"]);
    expect(m.update(frame(200, [])).raised).toEqual([]); // said once
  });
  it("raises on one frame when frames come slowly (the delay would double)", () => {
    const m = new DevicePromptMachine();
    m.update(frame(0, [face()]));
    expect(m.update(frame(DEFAULT_PROMPT_OPTIONS.slowFrameMs + 10, [face(), face(10, 10, 120, 130)])).raised).toEqual([
      "multiple_faces",
    ]);
  });
  it("clears only after the condition has been gone for clearMs", () => {
    const m = new DevicePromptMachine();
    m.update(frame(0, []));
    m.update(frame(40, []));
    expect(m.active).toEqual(["no_face"]);
    expect(m.update(frame(80, [face()])).cleared).toEqual([]);
    expect(m.update(frame(400, [face()])).active).toEqual(["no_face"]);
    const c = m.update(frame(40 + DEFAULT_PROMPT_OPTIONS.clearMs, [face()]));
    expect(c.cleared).toEqual(["no_face"]);
    expect(c.active).toEqual([]);
  });
  it("orders several prompts as the server does and resets when the model stops", () => {
    const m = new DevicePromptMachine();
    m.update(frame(0, [], 30, 3));
    expect(m.update(frame(40, [], 30, 3)).active).toEqual(["dark", "no_face"]);
    expect(m.stale(40 + DEFAULT_PROMPT_OPTIONS.staleMs + 1)).toBe(true);
    expect(m.reset()).toEqual(["dark", "no_face"]);
    expect(m.active).toEqual([]);
  });
  it("never goes back in time", () => {
    const m = new DevicePromptMachine();
    m.update(frame(1000, []));
    m.update(frame(500, [])); // an older frame counts at the last one's time
    expect(m.active).toEqual(["no_face"]);
  });
});

describe("mergeAlerts and SpokenOnce", () => {
  it("shows one prompt per code, server or device, most important first", () => {
    expect(mergeAlerts(["no_face"], ["no_face"])).toEqual(["no_face"]);
    expect(mergeAlerts(["multiple_faces"], ["covered", "not_customer"])).toEqual([
      "covered",
      "multiple_faces",
      "not_customer",
    ]);
    expect(mergeAlerts([], ["new_code", "no_face"])).toEqual(["no_face", "new_code"]);
    expect(mergeAlerts([], [])).toEqual([]);
  });
  it("says a prompt the device already said not again for the server", () => {
    const s = new SpokenOnce(8000);
    expect(s.take("no_face", 0)).toBe(true);
    expect(s.take("no_face", 1500)).toBe(false); // the server raised it 1.5 s later
    expect(s.take("multiple_faces", 1500)).toBe(true);
    expect(s.take("no_face", 9000)).toBe(true);
  });
});

describe("ActionTracker", () => {
  it("follows a head shake out and back", () => {
    const t = new ActionTracker("shake");
    expect(t.feed(face(240, 150, 160, 180, { yaw: 1 })).phase).toBe("waiting");
    expect(t.feed(face(240, 150, 160, 180, { yaw: 1 })).phase).toBe("waiting");
    expect(t.feed(face(240, 150, 160, 180, { yaw: 1 }))).toEqual({ action: "shake", progress: 0, phase: "moving" });
    const half = t.feed(face(240, 150, 160, 180, { yaw: 6 }));
    expect(half.phase).toBe("moving");
    expect(half.progress).toBeCloseTo(0.4, 5);
    expect(t.feed(face(240, 150, 160, 180, { yaw: 13 })).phase).toBe("returning");
    expect(t.feed(null).phase).toBe("returning"); // a frame without a face changes nothing
    expect(t.feed(face(240, 150, 160, 180, { yaw: 4 }))).toEqual({ action: "shake", progress: 1, phase: "done" });
  });
  it("does not take a nod for a shake", () => {
    const t = new ActionTracker("shake");
    for (let i = 0; i < 3; i++) t.feed(face());
    expect(t.feed(face(240, 150, 160, 180, { pitch: 20, yaw: 0 })).progress).toBe(0);
  });
  it("follows a blink: eyes closed below 60 % of open, then open again", () => {
    const t = new ActionTracker("blink");
    for (let i = 0; i < 3; i++) t.feed(face(240, 150, 160, 180, { ear: 0.3 }));
    expect(t.feed(face(240, 150, 160, 180, { ear: 0.24 })).progress).toBeCloseTo(0.4, 5);
    expect(t.feed(face(240, 150, 160, 180, { ear: 0.1 })).phase).toBe("returning");
    expect(t.feed(face(240, 150, 160, 180, { ear: 0.2 })).phase).toBe("returning"); // not open yet
    expect(t.feed(face(240, 150, 160, 180, { ear: 0.28 })).phase).toBe("done");
  });
  it("a still face never completes a nod", () => {
    const t = new ActionTracker("nod");
    for (let i = 0; i < 30; i++) t.feed(face(240, 150, 160, 180, { pitch: (i % 3) * 0.5 }));
    expect(t.state().phase).toBe("moving");
    expect(t.state().progress).toBeLessThan(0.2);
  });
});
