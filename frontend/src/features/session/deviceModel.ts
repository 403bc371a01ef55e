// The page's own face model (@vladmandic/human: BlazeFace detector + FaceMesh landmarks), served by
// dualrec itself under MODEL_BASE (copied into the build by vite.config.ts; no CDN). Loaded lazily
// after the page started (a separate chunk), cached by the browser (HTTP cache + IndexedDB). When it
// cannot load or stalls, the page goes on with the server's prompts only.
import type { Config, Human } from "@vladmandic/human";
import {
  ActionTracker,
  DevicePromptMachine,
  type ActionProgress,
  type DeviceFace,
  type DeviceFrame,
  type LivenessAction,
  type PromptCode,
} from "./devicePrompts";

/** Where the model files are served from (the package's version is in the path: cached forever);
 * vite.config.ts copies exactly the files loaded here (blazeface + facemesh) ... */
export const MODEL_BASE = `/models/human-${__HUMAN_VERSION__}/`;
/** ... and TF.js's WebAssembly kernels (single-threaded, with and without SIMD). */
export const WASM_BASE = `/models/tfjs-wasm-${__TFJS_WASM_VERSION__}/`;

export type DeviceStatus = "off" | "loading" | "ready" | "unavailable";

const GRID_W = 80;
const GRID_H = 60;
// At most 25 analyses per second while a liveness action is followed, 15 otherwise; and a pause of at
// least half the last analysis' time between two, so a slow phone keeps its page responsive and its
// battery (a busy loop would also slow the recording and the frame uploads on the same device).
const ACTION_INTERVAL_MS = 40;
const WATCH_INTERVAL_MS = 66;
const MIN_IDLE_SHARE = 0.5;

export type Backend = "webgl" | "wasm" | "cpu";

/** WebGL where the device has a GPU; WebAssembly where WebGL is missing or only emulated in software
 * (SwiftShader, llvmpipe: headless browsers, some VMs), where it is far slower than the CPU (measured
 * in headless Chromium: 7.5 s per picture); the plain JavaScript kernels as the last resort. */
export function pickBackend(renderer: string | null, wasm: boolean): Backend {
  if (renderer !== null && !/swiftshader|llvmpipe|software|softpipe/i.test(renderer)) return "webgl";
  return wasm ? "wasm" : "cpu";
}

function webglRenderer(): string | null {
  try {
    const c = document.createElement("canvas");
    const gl = (c.getContext("webgl2") ?? c.getContext("webgl")) as WebGLRenderingContext | null;
    if (!gl) return null;
    const info = gl.getExtension("WEBGL_debug_renderer_info");
    const name = info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER);
    gl.getExtension("WEBGL_lose_context")?.loseContext();
    return String(name);
  } catch {
    return null;
  }
}

/** Eye aspect ratio from FaceMesh points (lid distance / eye width, mean of both eyes). */
function eyeAspect(mesh: number[][]): number | null {
  const d = (a: number, b: number): number => {
    const p = mesh[a];
    const q = mesh[b];
    return p && q ? Math.hypot((p[0] ?? 0) - (q[0] ?? 0), (p[1] ?? 0) - (q[1] ?? 0)) : NaN;
  };
  const right = d(159, 145) / d(33, 133);
  const left = d(386, 374) / d(362, 263);
  const ear = (right + left) / 2;
  return Number.isFinite(ear) ? ear : null;
}

const DEG = 180 / Math.PI;

class FaceModel {
  private grid = document.createElement("canvas");
  private ctx: CanvasRenderingContext2D | null;

  constructor(
    private readonly human: Human,
    readonly backend: string,
  ) {
    this.grid.width = GRID_W;
    this.grid.height = GRID_H;
    this.ctx = this.grid.getContext("2d", { willReadFrequently: true });
  }

  private luma(video: HTMLVideoElement): { luma: number; texture: number } {
    const ctx = this.ctx;
    if (!ctx) return { luma: 128, texture: 10 };
    ctx.drawImage(video, 0, 0, GRID_W, GRID_H);
    const px = ctx.getImageData(0, 0, GRID_W, GRID_H).data;
    const y = new Float32Array(GRID_W * GRID_H);
    let sum = 0;
    for (let i = 0; i < y.length; i++) {
      const v = 0.299 * (px[i * 4] ?? 0) + 0.587 * (px[i * 4 + 1] ?? 0) + 0.114 * (px[i * 4 + 2] ?? 0);
      y[i] = v;
      sum += v;
    }
    let dx = 0;
    let dy = 0;
    for (let r = 0; r < GRID_H; r++) {
      for (let c = 0; c < GRID_W; c++) {
        const v = y[r * GRID_W + c] ?? 0;
        if (c + 1 < GRID_W) dx += Math.abs((y[r * GRID_W + c + 1] ?? 0) - v);
        if (r + 1 < GRID_H) dy += Math.abs((y[(r + 1) * GRID_W + c] ?? 0) - v);
      }
    }
    const texture = (dx / ((GRID_W - 1) * GRID_H) + dy / (GRID_W * (GRID_H - 1))) / 2;
    return { luma: sum / y.length, texture };
  }

  /** ``landmarks``: run FaceMesh too (head pose and eyes, for a liveness action); without it only
   * the detector runs (face count and boxes: the prompts), several times faster. */
  async analyse(video: HTMLVideoElement, landmarks: boolean): Promise<DeviceFrame> {
    const t = performance.now();
    const { luma, texture } = this.luma(video);
    const result = await this.human.detect(video, { face: { mesh: { enabled: landmarks } } } as Partial<Config>);
    if (result.error) throw new Error(result.error);
    const faces: DeviceFace[] = result.face.map((f) => ({
      box: [f.box[0], f.box[1], f.box[2], f.box[3]],
      score: f.score,
      yaw: f.rotation ? f.rotation.angle.yaw * DEG : null,
      pitch: f.rotation ? f.rotation.angle.pitch * DEG : null,
      ear: f.mesh.length >= 468 ? eyeAspect(f.mesh as number[][]) : null,
    }));
    return { t, width: video.videoWidth, height: video.videoHeight, faces, luma, texture };
  }
}

async function loadModel(backend: Backend): Promise<FaceModel> {
  const { Human } = await import("@vladmandic/human");
  const off = { enabled: false };
  const config: Partial<Config> = {
    backend,
    modelBasePath: MODEL_BASE,
    wasmPath: WASM_BASE, // never a CDN
    cacheModels: true,
    warmup: "none",
    cacheSensitivity: 0, // every picture is analysed afresh (a face that left must be seen at once)
    debug: false,
    filter: { ...off } as Config["filter"],
    gesture: off,
    body: off as Config["body"],
    hand: off as Config["hand"],
    object: off as Config["object"],
    segmentation: off as Config["segmentation"],
    face: {
      enabled: true,
      detector: {
        modelPath: "blazeface.json",
        rotation: false,
        maxDetected: 3, // several faces must be counted
        skipFrames: 0, // detect in every picture: a second face entering is seen at once
        skipTime: 0,
        minConfidence: 0.5,
      },
      mesh: { enabled: true, modelPath: "facemesh.json" },
      iris: off,
      attention: off,
      emotion: off,
      description: off,
      antispoof: off,
      liveness: off,
    } as Config["face"],
  };
  const human = new Human(config);
  await human.load();
  const running = human.tf.getBackend();
  if (running !== backend) throw new Error(`the ${backend} backend did not start (${running || "none"})`);
  const loaded = human.models.loaded();
  if (!loaded.includes("blazeface") || !loaded.includes("facemesh")) {
    throw new Error(`face model files did not load (${loaded.join(",") || "none"})`);
  }
  return new FaceModel(human, running);
}

/** The best backend this browser has; WebAssembly that does not start falls back to the CPU. */
async function loadBestModel(): Promise<FaceModel> {
  const backend = pickBackend(webglRenderer(), typeof WebAssembly === "object");
  try {
    return await loadModel(backend);
  } catch (err) {
    if (backend !== "wasm" || /did not load/.test(String(err))) throw err;
    return loadModel("cpu");
  }
}

export interface DeviceMonitorEvents {
  prompts(active: PromptCode[], raised: PromptCode[]): void;
  progress(p: ActionProgress | null): void;
  status(s: DeviceStatus, detail: string): void;
  /** About once a second: analyses so far and the mean time of one over the last second (ms). */
  stats?(analyses: number, meanMs: number): void;
}

/** Runs the face model on the preview video as fast as it answers (≤ 25/s) and reports prompts. */
export class DeviceMonitor {
  private model: FaceModel | null = null;
  private machine = new DevicePromptMachine();
  private tracker: ActionTracker | null = null;
  private timer = 0;
  private watchdog = 0;
  private stopped = false;
  private lastActive = "";
  status: DeviceStatus = "off";
  backend = "";
  analyses = 0;
  private window = { since: 0, count: 0, ms: 0 };

  constructor(
    private readonly video: HTMLVideoElement,
    private readonly on: DeviceMonitorEvents,
  ) {}

  /** Starts loading the model without holding up the page, then analyses the preview. */
  start(): void {
    this.stopped = false;
    this.setStatus("loading", "");
    window.setTimeout(() => void this.load(), 0);
  }

  private setStatus(s: DeviceStatus, detail: string): void {
    this.status = s;
    this.on.status(s, detail);
  }

  private async load(): Promise<void> {
    try {
      const model = await loadBestModel();
      if (this.stopped) return;
      this.model = model;
      this.backend = model.backend;
      this.setStatus("ready", model.backend);
      // an analysis that hangs (or a throttled background tab) must not leave old prompts shown
      this.watchdog = window.setInterval(() => {
        if (this.machine.active.length && this.machine.stale(performance.now())) {
          this.machine.reset();
          this.lastActive = "";
          this.on.prompts([], []);
        }
      }, 500);
      this.loop();
    } catch (err) {
      this.setStatus("unavailable", err instanceof Error ? err.message : String(err));
    }
  }

  /** The liveness action the server asks for now (null: none). */
  setAction(action: LivenessAction | null): void {
    if (this.tracker?.action === action) return;
    this.tracker = action ? new ActionTracker(action) : null;
    this.on.progress(this.tracker ? this.tracker.state() : null);
  }

  private loop(): void {
    if (this.stopped || !this.model) return;
    const started = performance.now();
    const v = this.video;
    const next = (): void => {
      const took = performance.now() - started;
      const interval = this.tracker ? ACTION_INTERVAL_MS : WATCH_INTERVAL_MS;
      const wait = Math.max(0, interval - took, took * MIN_IDLE_SHARE);
      this.timer = window.setTimeout(() => this.loop(), wait);
    };
    if (!v.videoWidth || v.readyState < 2) {
      next();
      return;
    }
    this.model
      .analyse(v, this.tracker !== null)
      .then((frame) => {
        if (this.stopped) return;
        this.analyses += 1;
        const end = performance.now();
        const w = this.window;
        w.count += 1;
        w.ms += end - started;
        if (end - w.since >= 1000) {
          this.on.stats?.(this.analyses, w.ms / w.count);
          this.window = { since: end, count: 0, ms: 0 };
        }
        const change = this.machine.update(frame);
        const key = change.active.join(",");
        if (change.raised.length || key !== this.lastActive) this.on.prompts(change.active, change.raised);
        this.lastActive = key;
        if (this.tracker) {
          const face = frame.faces.length === 1 ? (frame.faces[0] as DeviceFace) : null;
          this.on.progress(this.tracker.feed(face));
        }
        next();
      })
      .catch((err: unknown) => {
        // the model broke (e.g. the GPU context was lost): the server's prompts alone from now on
        this.machine.reset();
        this.on.prompts([], []);
        this.on.progress(null);
        this.model = null;
        this.setStatus("unavailable", err instanceof Error ? err.message : String(err));
      });
  }

  stop(): void {
    this.stopped = true;
    window.clearTimeout(this.timer);
    window.clearInterval(this.watchdog);
    this.model = null;
  }
}
