// Streams camera frames to the server's live monitor over a WebSocket, one at a time: a frame is sent,
// its observation awaited, then the next frame follows no sooner than the interval (≥ 2 per second).
import type { Observation } from "./sessionApi";

export class FrameStreamer {
  private ws: WebSocket | null = null;
  private canvas = document.createElement("canvas");
  private timer = 0;
  private waiting = false;
  private stopped = false;

  constructor(
    private readonly url: string,
    private readonly video: HTMLVideoElement,
    private readonly clock: () => number,
    private readonly onObservation: (o: Observation) => void,
    /** Pause between an answer and the next frame; shorter while a blink may be asked. */
    public intervalMs = 450,
  ) {}

  start(): void {
    this.stopped = false;
    this.open();
  }

  private open(): void {
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onopen = () => this.schedule(0);
    ws.onmessage = (e) => {
      this.waiting = false;
      try {
        const msg = JSON.parse(String(e.data)) as { type: string };
        if (msg.type === "observation") this.onObservation(msg as Observation);
      } catch {
        /* a malformed answer is ignored; the next frame goes on */
      }
      this.schedule(this.intervalMs);
    };
    ws.onclose = () => {
      this.waiting = false;
      if (!this.stopped) window.setTimeout(() => this.open(), 1500); // the network came back
    };
  }

  private schedule(ms: number): void {
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => this.send(), ms);
  }

  private send(): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN || this.waiting) return;
    const v = this.video;
    if (!v.videoWidth) {
      this.schedule(200);
      return;
    }
    const scale = Math.min(1, 640 / v.videoWidth);
    this.canvas.width = Math.round(v.videoWidth * scale);
    this.canvas.height = Math.round(v.videoHeight * scale);
    this.canvas.getContext("2d")?.drawImage(v, 0, 0, this.canvas.width, this.canvas.height);
    const image = this.canvas.toDataURL("image/jpeg", 0.75).split(",", 2)[1] ?? "";
    this.waiting = true;
    ws.send(JSON.stringify({ type: "frame", t: this.clock(), image }));
  }

  /** The current camera picture as a JPEG blob (ID card capture). */
  snapshot(): Promise<Blob | null> {
    const v = this.video;
    const c = document.createElement("canvas");
    c.width = v.videoWidth;
    c.height = v.videoHeight;
    c.getContext("2d")?.drawImage(v, 0, 0);
    return new Promise((resolve) => c.toBlob((b) => resolve(b), "image/jpeg", 0.92));
  }

  stop(): void {
    this.stopped = true;
    window.clearTimeout(this.timer);
    this.ws?.close();
    this.ws = null;
  }
}
