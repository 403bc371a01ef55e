// dualrec's side of a call: the agent's join/hang-up (console session) and the customer's join (link token).
import { api } from "@/api/client";
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

export async function customerEntry(token: string): Promise<{ human: boolean; status: string }> {
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
