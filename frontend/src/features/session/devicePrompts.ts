// On-device prompts: what the page's own face model sees in the camera, turned into the same alert
// codes the server's live monitor uses (core/live_alerts.py) plus two the server does not raise
// (face out of the frame, face too small), debounced over consecutive analysed frames, and merged
// with the server's alerts by code. The page only guides the customer: nothing decided here is sent
// to the server as proof, the server's own checks on the frames it receives decide.
//
// Pure logic (no DOM), unit-tested in devicePrompts.test.ts.

export type PromptCode =
  | "covered"
  | "dark"
  | "no_face"
  | "multiple_faces"
  | "not_customer"
  | "out_of_frame"
  | "too_small";

/** The order prompts are shown in when several hold (the server's ALERT_PRIORITY, then ours). */
export const PROMPT_PRIORITY: readonly PromptCode[] = [
  "covered",
  "dark",
  "no_face",
  "multiple_faces",
  "not_customer",
  "out_of_frame",
  "too_small",
];

/** One face found by the model: box in pixels of the analysed picture; angles in degrees. */
export interface DeviceFace {
  box: [number, number, number, number]; // x, y, width, height
  score: number;
  yaw: number | null; // + turned to the image's right
  pitch: number | null; // + chin down
  ear: number | null; // eye aspect ratio (mean of both eyes), open ≈ 0.25–0.35
}

/** One analysed camera picture. ``t``: milliseconds (performance.now()). */
export interface DeviceFrame {
  t: number;
  width: number;
  height: number;
  faces: DeviceFace[];
  luma: number; // mean luma 0..255
  texture: number; // mean |difference| between neighbouring cells of an ~80-wide grid
}

export interface PromptOptions {
  coveredLuma: number; // as the server: dark AND (almost) no texture → covered
  coveredTexture: number;
  darkLuma: number;
  edgeFraction: number; // a face box within this fraction of the picture's edge: out of the frame
  minFaceFraction: number; // a face narrower than this fraction of the picture: too small
  // a condition shows after raiseFrames analysed frames in a row, or after one frame that came
  // slowFrameMs after the last (a slow device: waiting for a second frame would double the delay;
  // a fast one sees two frames within ~100 ms) ...
  raiseFrames: number;
  slowFrameMs: number;
  clearMs: number; // ... and goes after it has not been seen for this long
  staleMs: number; // no analysed frame for this long: the device's prompts are dropped
}

export const DEFAULT_PROMPT_OPTIONS: PromptOptions = {
  coveredLuma: 70,
  coveredTexture: 1.0,
  darkLuma: 45,
  edgeFraction: 0.01,
  minFaceFraction: 0.15,
  raiseFrames: 2,
  slowFrameMs: 150,
  clearMs: 600,
  staleMs: 3000,
};

/** The conditions that hold in one analysed frame (not yet debounced). */
export function frameConditions(f: DeviceFrame, o: PromptOptions = DEFAULT_PROMPT_OPTIONS): Set<PromptCode> {
  const out = new Set<PromptCode>();
  const covered = f.luma < o.coveredLuma && f.texture < o.coveredTexture;
  if (covered) {
    out.add("covered"); // a covered lens shows no face either: say the cause only
    return out;
  }
  if (f.luma < o.darkLuma) out.add("dark");
  if (f.faces.length === 0) out.add("no_face");
  else if (f.faces.length > 1) out.add("multiple_faces");
  else {
    const [x, y, w, h] = (f.faces[0] as DeviceFace).box;
    const mx = o.edgeFraction * f.width;
    const my = o.edgeFraction * f.height;
    if (x < mx || y < my || x + w > f.width - mx || y + h > f.height - my) out.add("out_of_frame");
    else if (w < o.minFaceFraction * f.width) out.add("too_small");
  }
  return out;
}

interface Track {
  seen: number; // consecutive frames showing the condition
  lastSeen: number; // ms
  active: boolean;
}

export interface PromptChange {
  raised: PromptCode[];
  cleared: PromptCode[];
  active: PromptCode[]; // most important first
}

/** Debounces the conditions of consecutive frames into shown prompts. */
export class DevicePromptMachine {
  private tracks = new Map<PromptCode, Track>();
  private lastT = -Infinity;

  constructor(readonly options: PromptOptions = DEFAULT_PROMPT_OPTIONS) {}

  get active(): PromptCode[] {
    return PROMPT_PRIORITY.filter((c) => this.tracks.get(c)?.active === true);
  }

  /** The last analysed frame is older than ``staleMs`` at ``now``: the model stalled or stopped. */
  stale(now: number): boolean {
    return now - this.lastT > this.options.staleMs;
  }

  update(f: DeviceFrame): PromptChange {
    return this.feed(f.t, frameConditions(f, this.options));
  }

  feed(t: number, present: Set<PromptCode>): PromptChange {
    const now = Math.max(t, this.lastT);
    const slow = Number.isFinite(this.lastT) && now - this.lastT >= this.options.slowFrameMs;
    this.lastT = now;
    const raised: PromptCode[] = [];
    const cleared: PromptCode[] = [];
    for (const code of PROMPT_PRIORITY) {
      const tr = this.tracks.get(code) ?? { seen: 0, lastSeen: -Infinity, active: false };
      if (present.has(code)) {
        tr.seen += 1;
        tr.lastSeen = now;
        if (!tr.active && (tr.seen >= this.options.raiseFrames || slow)) {
          tr.active = true;
          raised.push(code);
        }
      } else {
        tr.seen = 0;
        if (tr.active && now - tr.lastSeen >= this.options.clearMs) {
          tr.active = false;
          cleared.push(code);
        }
      }
      this.tracks.set(code, tr);
    }
    return { raised, cleared, active: this.active };
  }

  /** Forget everything (the model stopped): the server's prompts alone are shown. */
  reset(): PromptCode[] {
    const was = this.active;
    this.tracks.clear();
    this.lastT = -Infinity;
    return was;
  }
}

/** The prompts to show: the server's alerts and the device's, one per code, most important first
 * (codes the page does not know, from a newer server, come last in the server's order). */
export function mergeAlerts(device: readonly string[], server: readonly string[]): string[] {
  const all = new Set([...server, ...device]);
  const known = PROMPT_PRIORITY.filter((c) => all.has(c));
  const unknown = [...all].filter((c) => !(PROMPT_PRIORITY as readonly string[]).includes(c));
  return [...known, ...unknown];
}

/** Says each prompt once: a code said (by the device or for the server) within ``repeatMs`` is not
 * said again, so a prompt the server raises after the device already said it stays silent. */
export class SpokenOnce {
  private said = new Map<string, number>();

  constructor(readonly repeatMs = 8000) {}

  take(code: string, now: number): boolean {
    const at = this.said.get(code);
    if (at !== undefined && now - at < this.repeatMs) return false;
    this.said.set(code, now);
    return true;
  }
}

// ---- liveness action progress -----------------------------------------------------------------

export type LivenessAction = "blink" | "nod" | "shake";

export interface ActionProgress {
  action: LivenessAction;
  progress: number; // 0..1: how far the movement has gone (1: out and back / closed and reopened)
  phase: "waiting" | "moving" | "returning" | "done";
}

export interface ProgressOptions {
  turnDeg: number; // the server's nod_deg / shake_deg
  returnFraction: number;
  closedRatio: number; // EAR below this × the open baseline: closed (the server's blink_closed_ratio)
  openRatio: number;
  baselineFrames: number;
}

export const DEFAULT_PROGRESS_OPTIONS: ProgressOptions = {
  turnDeg: 10,
  returnFraction: 0.5,
  closedRatio: 0.6,
  openRatio: 0.85,
  baselineFrames: 3,
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** How far the customer got with the action the server asked for, from the device's landmarks.
 * Guidance only: the server judges the action on the frames it receives. */
export class ActionTracker {
  private base: number[] = [];
  private peak = 0; // largest excursion from the baseline (degrees, or EAR drop fraction)
  private done = false;

  constructor(
    readonly action: LivenessAction,
    readonly options: ProgressOptions = DEFAULT_PROGRESS_OPTIONS,
  ) {}

  private measure(face: DeviceFace): number | null {
    if (this.action === "blink") return face.ear;
    return this.action === "nod" ? face.pitch : face.yaw;
  }

  feed(face: DeviceFace | null): ActionProgress {
    const value = face ? this.measure(face) : null;
    if (value === null || !Number.isFinite(value) || this.done) return this.state();
    const o = this.options;
    if (this.base.length < o.baselineFrames) {
      this.base.push(value);
      return this.state();
    }
    const base = median(this.base);
    if (this.action === "blink") {
      if (base <= 0) return this.state();
      const drop = (base - value) / (base * (1 - o.closedRatio)); // 1: closed as far as the server needs
      this.peak = Math.max(this.peak, drop);
      if (this.peak >= 1 && value >= o.openRatio * base) this.done = true;
    } else {
      const away = Math.abs(value - base) / o.turnDeg;
      this.peak = Math.max(this.peak, away);
      if (this.peak >= 1 && away <= this.peak * (1 - o.returnFraction)) this.done = true;
    }
    return this.state();
  }

  state(): ActionProgress {
    if (this.done) return { action: this.action, progress: 1, phase: "done" };
    if (this.base.length < this.options.baselineFrames) return { action: this.action, progress: 0, phase: "waiting" };
    const out = Math.min(1, Math.max(0, this.peak));
    // the way out is the first 80 % of the bar, the way back the rest
    return out >= 1
      ? { action: this.action, progress: 0.8, phase: "returning" }
      : { action: this.action, progress: 0.8 * out, phase: "moving" };
  }
}
