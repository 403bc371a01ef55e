// dualrec's side of a call: the agent's join/hang-up (console session) and the customer's join (link token).
import { api, type Schemas } from "@/api/client";
import { call } from "@/api/call";
import type { Grant } from "./janusCall";
import type { QualityReport } from "./quality";
import type { QualityAnswer } from "./useCallStats";
import { markSetup, resetSetupMarks } from "./setupTiming";

// The camera and microphone are opened while dualrec answers the join request (they do not depend
// on it): useCall takes the stream from here. A refused join stops them again.
let warm: Promise<MediaStream> | null = null;

/** The stream opened for the join in flight, or a new one. */
export function takeMedia(): Promise<MediaStream> {
  const media = warm ?? openMedia();
  warm = null;
  return media;
}

function dropWarmMedia(): void {
  const media = warm;
  warm = null;
  void media?.then(
    (stream) => stream.getTracks().forEach((track) => track.stop()),
    () => undefined,
  );
}

async function joining(request: () => Promise<Grant>): Promise<Grant> {
  resetSetupMarks();
  markSetup("start");
  dropWarmMedia();
  warm = openMedia();
  warm.catch(() => undefined); // reported by useCall when it takes the stream
  try {
    const grant = await request();
    markSetup("grant");
    return grant;
  } catch (err) {
    dropWarmMedia();
    throw err;
  }
}

export async function agentJoin(taskId: string): Promise<Grant> {
  return joining(() => call(api.POST("/api/v1/rtc/tasks/{task_id}/join", { params: { path: { task_id: taskId } } })));
}

export async function agentHangup(taskId: string): Promise<string> {
  const out = await call(api.POST("/api/v1/rtc/tasks/{task_id}/hangup", { params: { path: { task_id: taskId } } }));
  return out.job_id;
}

export async function customerEntry(token: string): Promise<{ human: boolean; status: string; calls?: boolean }> {
  return call(api.GET("/api/v1/rtc/entry/{token}", { params: { path: { token } } }));
}

export async function customerJoin(token: string): Promise<Grant> {
  return joining(() => call(api.POST("/api/v1/rtc/entry/{token}/join", { params: { path: { token } } })));
}

/** Camera and microphone for a call (browser processing on: echo cancellation, noise suppression). */
export function openMedia(): Promise<MediaStream> {
  return navigator.mediaDevices.getUserMedia({
    video: { width: { ideal: 1280 }, height: { ideal: 720 }, facingMode: "user" },
    audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
  });
}

/** The agent's browser reports what it received over the last interval; the answer scores it. */
export async function agentQuality(taskId: string, body: QualityReport): Promise<QualityAnswer> {
  return call(
    api.POST("/api/v1/rtc/tasks/{task_id}/quality", { params: { path: { task_id: taskId } }, body }),
  );
}

/** The customer's browser reports the same with its link token. */
export async function customerQuality(token: string, body: QualityReport): Promise<QualityAnswer> {
  return call(api.POST("/api/v1/rtc/entry/{token}/quality", { params: { path: { token } }, body }));
}

// ---- the interviewer queue (SPEC §3.2) and the desk ------------------------------------------------

export type CustomerQueue = Schemas["CustomerQueueOut"];
export type AgentQueue = Schemas["AgentQueueOut"];
export type QueueEntry = Schemas["QueueEntryOut"];
export type Desk = Schemas["DeskOut"];

export async function customerEnqueue(token: string): Promise<CustomerQueue> {
  return call(api.POST("/api/v1/rtc/entry/{token}/queue", { params: { path: { token } } }));
}

/** The customer's place; with ``wait`` the server holds the answer up to that many seconds while the
 * customer is still waiting and answers at once when an interviewer takes the call. */
export async function customerQueue(token: string, wait = 0): Promise<CustomerQueue> {
  return call(api.GET("/api/v1/rtc/entry/{token}/queue", { params: { path: { token }, query: { wait } } }));
}

export async function customerLeave(token: string): Promise<CustomerQueue> {
  return call(api.POST("/api/v1/rtc/entry/{token}/queue/leave", { params: { path: { token } } }));
}

export async function agentQueue(allGroups = false): Promise<AgentQueue> {
  return call(api.GET("/api/v1/rtc/queue", { params: { query: { all_groups: allGroups } } }));
}

/** 示忙 (away: pause taking customers; the customers' wait no longer counts this interviewer) or 示闲. */
export async function setAway(away: boolean): Promise<AgentQueue> {
  return call(api.PUT("/api/v1/rtc/queue/away", { body: { away } }));
}

export async function acceptNext(): Promise<QueueEntry> {
  return call(api.POST("/api/v1/rtc/queue/accept-next"));
}

export async function acceptEntry(entryId: number): Promise<QueueEntry> {
  return call(api.POST("/api/v1/rtc/queue/{entry_id}/accept", { params: { path: { entry_id: entryId } } }));
}

export async function deskData(taskId: string): Promise<Desk> {
  return call(api.GET("/api/v1/rtc/tasks/{task_id}/desk", { params: { path: { task_id: taskId } } }));
}

export async function markNode(taskId: string, nodeId: string, kind: "start" | "end"): Promise<Schemas["DeskMark"]> {
  return call(
    api.POST("/api/v1/rtc/tasks/{task_id}/marks", {
      params: { path: { task_id: taskId } },
      body: { node_id: nodeId, kind },
    }),
  );
}

/** "约 3 分钟" style wait text: whole minutes, at least one. */
export function waitMinutes(seconds: number): number {
  return Math.max(1, Math.ceil(seconds / 60));
}
