// The playback page's extras: playback speeds, the report's identity evidence (ID card frames, face
// comparison; for a self-service session the liveness challenge, the card as read live and the live
// face comparison), and the evidence links (signed litigation report, evidence package, archive push).

export const SPEEDS = [0.5, 0.75, 1, 1.25, 1.5, 2] as const;

/** A playback rate the page offers (0.5×–2×); anything else falls back to 1×. */
export function clampSpeed(value: number): number {
  return (SPEEDS as readonly number[]).includes(value) ? value : 1;
}

export interface IdCardFrame {
  side: string;
  time: number | null; // null: read live at a moment the recording does not contain
  frame: string | null;
  name: string | null; // masked
  id_number: string | null; // masked
  check_digit_valid: boolean | null;
  passed?: boolean; // read in the live session: did this side pass there
  source?: string; // "live_session": read by the self-service session, not in the video
  captured_at?: string;
}

export interface FaceSample {
  time: number;
  distance: number;
  similarity: number;
  match: boolean;
  frame: string | null;
}

/** The self-service session's own comparison: the card's portrait against the liveness face. */
export interface LiveFaceMatch {
  passed: boolean;
  distance: number | null;
  threshold: number;
  time: number | null;
  captured_at: string;
}

export interface FaceComparison {
  reference?: string; // "live_session": the recording's faces against the face verified live
  threshold: number;
  compared: number;
  median_distance: number;
  samples: FaceSample[];
}

/** The liveness challenge of a self-service session. */
export interface LivenessEvidence {
  passed: boolean;
  actions: string[];
  reason: string;
  time: number | null;
  frame: string | null;
  captured_at: string;
}

export interface IdentityEvidence {
  idCards: IdCardFrame[];
  faces: FaceComparison | null;
  liveness: LivenessEvidence | null;
  liveMatch: LiveFaceMatch | null;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** The report's identity section; reports made before it existed (or without a sink) have none. */
export function identityOf(report: unknown): IdentityEvidence {
  const identity = isObject(report) && isObject(report.identity) ? report.identity : {};
  const cards = Array.isArray(identity.id_card) ? (identity.id_card as IdCardFrame[]) : [];
  const comparison = isObject(identity.face_comparison) ? identity.face_comparison : null;
  const faces = comparison && Array.isArray(comparison.samples) ? (comparison as unknown as FaceComparison) : null;
  const live = comparison && isObject(comparison.live) ? (comparison.live as unknown as LiveFaceMatch) : null;
  const liveness =
    isObject(identity.liveness) && Array.isArray(identity.liveness.actions)
      ? (identity.liveness as unknown as LivenessEvidence)
      : null;
  return { idCards: cards, faces, liveness, liveMatch: live };
}

/** "0.42" with the match verdict's class, for a face sample. */
export function similarityPercent(sample: FaceSample): string {
  return `${Math.round(sample.similarity * 100)}%`;
}

/** The signed litigation report, in one language (`lang`: the UI's, when given). */
export function litigationUrl(recordingId: string, unmask = false, lang?: string): string {
  const base = `/api/v1/recordings/${encodeURIComponent(recordingId)}/litigation.pdf`;
  const query = new URLSearchParams();
  if (unmask) query.set("unmask", "true");
  if (lang) query.set("lang", lang);
  const q = query.toString();
  return q ? `${base}?${q}` : base;
}

export function packageUrl(recordingId: string): string {
  return `/api/v1/recordings/${encodeURIComponent(recordingId)}/evidence-package.zip`;
}

export type PushState = "queued" | "running" | "done" | "failed";

/** Whether a push is still going (the page keeps polling it). */
export const pushPending = (status: string): boolean => status === "queued" || status === "running";
