// Records the session with MediaRecorder and uploads it in numbered chunks as it goes: each chunk is
// acknowledged by the server with its SHA-256, failed uploads are retried with backoff, so a closed
// tab loses at most the last timeslice. A reconnection records a new segment (numbering restarts).
import { sha256Hex, type SessionApi } from "./sessionApi";

export const TIMESLICE_MS = 2000;

export function pickMimeType(): string {
  const candidates = ["video/webm;codecs=vp8,opus", "video/webm;codecs=vp9,opus", "video/webm", "video/mp4"];
  return candidates.find((c) => typeof MediaRecorder !== "undefined" && MediaRecorder.isTypeSupported(c)) ?? "";
}

export class ChunkUploader {
  private queue: { seq: number; blob: Blob }[] = [];
  private running = false;
  private idle: (() => void)[] = [];
  acknowledged = 0;
  failures = 0;

  constructor(
    private readonly api: SessionApi,
    readonly segment: number,
    private readonly sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
  ) {}

  add(seq: number, blob: Blob): void {
    this.queue.push({ seq, blob });
    void this.pump();
  }

  /** Resolves when every queued chunk was acknowledged. */
  drained(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    while (this.queue.length > 0) {
      const next = this.queue[0];
      if (!next) break;
      const hash = await sha256Hex(next.blob);
      for (let attempt = 0; ; attempt++) {
        try {
          await this.api.putChunk(this.segment, next.seq, next.blob, hash);
          break;
        } catch (err) {
          this.failures++;
          const status = (err as { problem?: { status?: number } }).problem?.status ?? 0;
          if (status === 409 || status === 422) break; // refused for good: never loop on it
          await this.sleep(Math.min(8000, 500 * 2 ** attempt));
        }
      }
      this.queue.shift();
      this.acknowledged++;
    }
    this.running = false;
    this.idle.splice(0).forEach((resolve) => resolve());
  }
}

export class SessionRecorder {
  private recorder: MediaRecorder | null = null;
  private seq = 0;
  private startedAt = 0;
  readonly uploader: ChunkUploader;

  constructor(
    api: SessionApi,
    readonly segment: number,
    private readonly stream: MediaStream,
  ) {
    this.uploader = new ChunkUploader(api, segment);
  }

  start(): void {
    const mimeType = pickMimeType();
    this.recorder = new MediaRecorder(this.stream, mimeType ? { mimeType } : undefined);
    this.recorder.ondataavailable = (e) => {
      if (e.data && e.data.size > 0) this.uploader.add(this.seq++, e.data);
    };
    this.recorder.start(TIMESLICE_MS);
    this.startedAt = performance.now();
  }

  /** Seconds on this segment's recording clock (the server's markers use it). */
  now(): number {
    return this.startedAt ? (performance.now() - this.startedAt) / 1000 : 0;
  }

  /** Stops recording, uploads the rest; resolves with the last chunk number (-1: none). */
  async stop(): Promise<number> {
    const rec = this.recorder;
    if (rec && rec.state !== "inactive") {
      await new Promise<void>((resolve) => {
        rec.addEventListener("stop", () => resolve(), { once: true });
        rec.stop();
      });
    }
    await this.uploader.drained();
    return this.seq - 1;
  }
}
