// Upload of a recording with progress (fetch has no upload progress, so XMLHttpRequest is used).
import { CSRF_HEADER, type Recording, type Schemas } from "@/api/client";
import { currentLocale } from "@/locales";
import { ApiError } from "@/api/call";
import { toProblem } from "@/api/problem";

export type RecordingMode = "self_service" | "human";
export type Task = Schemas["TaskOut"];

/** Task statuses that take a recording uploaded in the console (services/tasks ACCEPTS_RECORDING):
 * the customer has not recorded yet, or the self-service flow handed over to staff. */
export const TASK_TAKES_RECORDING: readonly string[] = ["created", "handover"];

export interface UploadInput {
  file: File;
  runningNo: string;
  customerName: string;
  idNumber: string;
  mode: RecordingMode;
  idPhoto: File | null;
  /** The task the recording is for: its customer data and flow apply (only the mode is sent). */
  taskId?: string | null;
  /** Without a task: the published flow to check the recording against. */
  flowCode?: string | null;
}

/** The multipart form POST /recordings expects. */
export function uploadForm(input: UploadInput): FormData {
  const form = new FormData();
  form.append("file", input.file, input.file.name);
  if (input.taskId) {
    form.append("task_id", input.taskId);
    form.append("task", JSON.stringify({ mode: input.mode }));
  } else {
    const task: Record<string, string> = { running_no: input.runningNo.trim(), mode: input.mode };
    if (input.customerName.trim()) task.customer_name = input.customerName.trim();
    if (input.idNumber.trim()) task.id_number = input.idNumber.trim().toUpperCase();
    form.append("task", JSON.stringify(task));
    if (input.flowCode) form.append("flow_code", input.flowCode);
  }
  if (input.idPhoto) form.append("id_photo", input.idPhoto, input.idPhoto.name);
  return form;
}

/** Task search results by running number and by customer name, each task once, newest first. */
export function mergeTasks(...lists: readonly (readonly Task[])[]): Task[] {
  const seen = new Map<string, Task>();
  for (const list of lists) for (const task of list) if (!seen.has(task.id)) seen.set(task.id, task);
  return [...seen.values()].sort((a, b) => b.created_at.localeCompare(a.created_at));
}

function parseBody(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * Sends the form; `onProgress` gets the uploaded fraction (0–1). Resolves with the created
 * recording, rejects with ApiError (status 0 for a network failure or an abort).
 */
export function uploadRecording(
  form: FormData,
  onProgress: (fraction: number) => void,
  signal?: AbortSignal,
): Promise<Recording> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/v1/recordings");
    xhr.setRequestHeader(CSRF_HEADER.name, CSRF_HEADER.value);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("Accept-Language", currentLocale());
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => {
      const body = parseBody(xhr.responseText);
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve(body as Recording);
        return;
      }
      const headers = new Headers();
      const retry = xhr.getResponseHeader("Retry-After");
      if (retry) headers.set("Retry-After", retry);
      const response = new Response(null, { status: xhr.status, headers });
      reject(new ApiError(toProblem(body, response), response));
    };
    xhr.onerror = () => reject(new ApiError({ status: 0, code: "network_error" }));
    xhr.onabort = () => reject(new ApiError({ status: 0, code: "aborted" }));
    signal?.addEventListener("abort", () => xhr.abort());
    xhr.send(form);
  });
}
