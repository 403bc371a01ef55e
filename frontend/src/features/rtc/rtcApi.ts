// dualrec's side of a call: the agent's join/hang-up (console session) and the customer's join (link token).
import { api, type Schemas } from "@/api/client";
import { call } from "@/api/call";
import type { Grant } from "./janusCall";
import type { QualityReport } from "./quality";
import type { QualityAnswer } from "./useCallStats";

export async function agentJoin(taskId: string): Promise<Grant> {
  return call(api.POST("/api/v1/rtc/tasks/{task_id}/join", { params: { path: { task_id: taskId } } }));
}

export async function agentHangup(taskId: string): Promise<string> {
  const out = await call(api.POST("/api/v1/rtc/tasks/{task_id}/hangup", { params: { path: { task_id: taskId } } }));
  return out.job_id;
}

export async function customerEntry(token: string): Promise<{ human: boolean; status: string; calls?: boolean }> {
  return call(api.GET("/api/v1/rtc/entry/{token}", { params: { path: { token } } }));
}

export async function customerJoin(token: string): Promise<Grant> {
  return call(api.POST("/api/v1/rtc/entry/{token}/join", { params: { path: { token } } }));
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

export async function customerQueue(token: string): Promise<CustomerQueue> {
  return call(api.GET("/api/v1/rtc/entry/{token}/queue", { params: { path: { token } } }));
}

export async function customerLeave(token: string): Promise<CustomerQueue> {
  return call(api.POST("/api/v1/rtc/entry/{token}/queue/leave", { params: { path: { token } } }));
}

export async function agentQueue(allGroups = false): Promise<AgentQueue> {
  return call(api.GET("/api/v1/rtc/queue", { params: { query: { all_groups: allGroups } } }));
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
