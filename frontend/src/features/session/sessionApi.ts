// The customer's self-service session API (/api/v1/session/{token}). The signed link token is the
// only credential; bodies are JSON except chunks, images and audio, which are sent raw.
import { ApiError } from "@/api/call";
import { inLanguage } from "@/bilingual";
import type { components } from "@/api/schema";
import { toProblem } from "@/api/problem";
import { languageHeaders } from "@/api/client";
import { currentLocale } from "@/locales";

export type Session = components["schemas"]["SessionOut"];
export type SessionNode = components["schemas"]["SessionNodeOut"];
export type CardResult = components["schemas"]["CardOut"];
export type SpeechResult = components["schemas"]["SpeechOut"];
export type FinishResult = components["schemas"]["FinishOut"];
export type CopyResult = components["schemas"]["CopyOut"];
export type ScoredAttempt = components["schemas"]["ScoredOut"];

/** The customer's language half of a server text written "中文 / English" (see @/bilingual). */
export function inLocale(text: string, locale: string): string {
  return inLanguage(text, locale);
}

export interface LivenessResult {
  action: string;
  passed: boolean;
  reason: string;
  samples: number;
  missed: number;
}

export interface Liveness {
  actions: string[];
  state: string;
  current_action: string | null;
  retries_left: number;
  prompt_zh: string;
  prompt_en: string;
  event?: { kind: string; next_action: string | null; result?: LivenessResult };
  results?: LivenessResult[];
}

export interface Observation {
  type: "observation";
  t: number;
  face_count: number;
  box: number[] | null;
  width: number;
  height: number;
  alerts: string[];
  covered?: boolean;
  dark?: boolean;
  prompts: { code: string; zh: string; en: string }[];
  liveness?: Liveness;
}

const HEADERS = { "X-Requested-With": "dualrec" };

export class SessionApi {
  readonly base: string;
  private ready: Promise<unknown> = Promise.resolve();

  constructor(readonly token: string) {
    this.base = `/api/v1/session/${encodeURIComponent(token)}`;
  }

  /** Requests made while ``pending`` runs are sent after it settles. The page shows the first step
   * (and starts recording) as soon as the customer agrees; the server takes a step's actions and
   * the recording's chunks only once it has recorded the consent — sent earlier they are refused. */
  after<T>(pending: Promise<T>): Promise<T> {
    this.ready = pending.catch(() => undefined);
    return pending;
  }

  private async send<T>(path: string, init: RequestInit = {}): Promise<T> {
    await this.ready;
    let response: Response;
    try {
      response = await fetch(this.base + path, {
        ...init,
        headers: { ...HEADERS, ...languageHeaders(), ...(init.headers ?? {}) },
      });
    } catch (cause) {
      throw new ApiError({ status: 0, code: "network_error", detail: String(cause) });
    }
    if (!response.ok) {
      const body: unknown = await response.json().catch(() => undefined);
      throw new ApiError(toProblem(body, response), response);
    }
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  private json<T>(path: string, body: unknown): Promise<T> {
    return this.send<T>(path, {
      method: "POST",
      body: JSON.stringify(body),
      headers: { "Content-Type": "application/json" },
    });
  }

  state(): Promise<Session> {
    return this.send<Session>("");
  }
  consent(agree: boolean, t: number): Promise<Session> {
    return this.json("/consent", { agree, t });
  }
  connect(): Promise<Session> {
    return this.send<Session>("/connect", { method: "POST" });
  }
  outcome(nodeId: string, kind: "answer" | "no_answer" | "passed" | "failed", t: number, text = "", reason = ""): Promise<Session> {
    return this.json(`/nodes/${encodeURIComponent(nodeId)}/outcome`, { kind, t, text, reason });
  }
  prompt(nodeId: string, text: string, t: number): Promise<void> {
    return this.json("/prompts", { node_id: nodeId, text, t });
  }
  speech(nodeId: string, wav: Blob, t: number): Promise<SpeechResult> {
    return this.send(`/nodes/${encodeURIComponent(nodeId)}/speech?t=${t.toFixed(3)}`, {
      method: "POST",
      body: wav,
      headers: { "Content-Type": "audio/wav" },
    });
  }
  copy(nodeId: string, png: Blob, t: number): Promise<CopyResult> {
    return this.send(`/nodes/${encodeURIComponent(nodeId)}/copy?t=${t.toFixed(3)}`, {
      method: "POST",
      body: png,
      headers: { "Content-Type": "image/png" },
    });
  }
  resume(t: number): Promise<Session> {
    return this.json("/resume", { t });
  }
  help(t: number, note = ""): Promise<Session> {
    return this.json("/help", { t, note });
  }
  putChunk(segment: number, seq: number, data: Blob, sha256: string): Promise<unknown> {
    return this.send(`/chunks/${segment}/${seq}`, {
      method: "PUT",
      body: data,
      headers: { "X-Chunk-SHA256": sha256, "Content-Type": "application/octet-stream" },
    });
  }
  finish(finalSeqs: Record<number, number>, t: number): Promise<FinishResult> {
    return this.json("/finish", { final_seqs: finalSeqs, t });
  }
  liveness(): Promise<Liveness> {
    return this.send<Liveness>("/liveness", { method: "POST" });
  }
  idCard(side: "front" | "back", image: Blob, t: number): Promise<CardResult> {
    return this.send(`/id-card/${side}?t=${t.toFixed(3)}`, {
      method: "POST",
      body: image,
      headers: { "Content-Type": image.type || "image/jpeg" },
    });
  }
  pageUrl(index: number, page: number, width = 720): string {
    return `${this.base}/documents/${index}/pages/${page}.jpg?width=${width}`;
  }
  pageRead(index: number, page: number, t: number): Promise<Session> {
    return this.json(`/documents/${index}/pages/${page}/read`, { t });
  }
  signature(png: Blob, document: number | null, t: number): Promise<Session> {
    const q = document === null ? "" : `document=${document}&`;
    return this.send(`/signature?${q}t=${t.toFixed(3)}`, {
      method: "POST",
      body: png,
      headers: { "Content-Type": "image/png" },
    });
  }
  speechUrl(nodeId: string): string {
    return `${this.base}/speech/${encodeURIComponent(nodeId)}.wav`;
  }
  liveUrl(): string {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    return `${proto}//${location.host}${this.base}/live?lang=${encodeURIComponent(currentLocale())}`;
  }
}

/** SHA-256 of a blob as hex (Web Crypto; the page is served over HTTPS or from localhost). */
export async function sha256Hex(blob: Blob): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
