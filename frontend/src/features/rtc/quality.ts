// Call quality (SPEC §8) from the browser's side: what getStats says of the last interval, as the
// report dualrec scores (POST …/quality), and the sending policy for weak networks (audio first,
// the picture degrades before the sound does). Pure functions of stats reports: unit-tested.

export interface QualityReport {
  width: number;
  height: number;
  fps: number;
  video_kbps: number;
  audio_kbps: number;
  loss_pct: number;
  video_loss_pct: number;
  jitter_ms: number;
  jitter_buffer_ms: number | null;
  rtt_ms: number;
  freezes: number;
  freeze_s: number;
  concealed_pct: number;
  send_width: number;
  send_height: number;
  send_fps: number;
  limitation: "" | "none" | "cpu" | "bandwidth" | "other";
  has_audio: boolean;
  has_video: boolean;
}

/** The cumulative counters of one moment; a report is the difference of two of them. */
export interface Counters {
  at: number; // ms
  videoBytes: number;
  audioBytes: number;
  audioReceived: number;
  audioLost: number;
  videoReceived: number;
  videoLost: number;
  freezes: number;
  freezeSeconds: number;
  jbDelay: number; // seconds (audio jitterBufferDelay)
  jbEmitted: number;
  concealed: number;
  samples: number;
  width: number;
  height: number;
  fps: number;
  jitter: number; // seconds (audio)
  rtt: number | null; // seconds
  sendWidth: number;
  sendHeight: number;
  sendFps: number;
  limitation: string;
  hasAudio: boolean;
  hasVideo: boolean;
}

type Stat = Record<string, unknown>;
const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);
const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));
const round = (v: number, digits = 1): number => Math.round(v * 10 ** digits) / 10 ** digits;

/** The counters of the subscriber's (received) and the publisher's (sent) stats reports. */
export function readCounters(received: Stat[], sent: Stat[], at: number): Counters {
  const c: Counters = {
    at, videoBytes: 0, audioBytes: 0, audioReceived: 0, audioLost: 0, videoReceived: 0, videoLost: 0,
    freezes: 0, freezeSeconds: 0, jbDelay: 0, jbEmitted: 0, concealed: 0, samples: 0, width: 0, height: 0,
    fps: 0, jitter: 0, rtt: null, sendWidth: 0, sendHeight: 0, sendFps: 0, limitation: "", hasAudio: false,
    hasVideo: false,
  };
  // round-trip time: the ICE path's own measurement (STUN consent checks every few seconds) on the
  // selected pairs; RTCP's remote-inbound figure only when there is none (it goes stale when
  // receiver reports stop coming)
  const rtts: number[] = [];
  const rtcpRtts: number[] = [];
  const selected = (s: Stat): boolean =>
    s.type === "candidate-pair" && s.nominated === true && s.state === "succeeded" && typeof s.currentRoundTripTime === "number";
  for (const s of received) {
    if (s.type === "inbound-rtp" && s.kind === "video") {
      c.hasVideo = true;
      c.videoBytes += num(s.bytesReceived);
      c.videoReceived += num(s.packetsReceived);
      c.videoLost += Math.max(0, num(s.packetsLost));
      c.freezes += num(s.freezeCount);
      c.freezeSeconds += num(s.totalFreezesDuration);
      c.width = num(s.frameWidth);
      c.height = num(s.frameHeight);
      c.fps = num(s.framesPerSecond);
    } else if (s.type === "inbound-rtp" && s.kind === "audio") {
      c.hasAudio = true;
      c.audioBytes += num(s.bytesReceived);
      c.audioReceived += num(s.packetsReceived);
      c.audioLost += Math.max(0, num(s.packetsLost));
      c.jitter = num(s.jitter);
      c.jbDelay += num(s.jitterBufferDelay);
      c.jbEmitted += num(s.jitterBufferEmittedCount);
      c.concealed += num(s.concealedSamples);
      c.samples += num(s.totalSamplesReceived);
    } else if (selected(s)) {
      rtts.push(s.currentRoundTripTime as number);
    }
  }
  for (const s of sent) {
    if (s.type === "outbound-rtp" && s.kind === "video") {
      c.sendWidth = num(s.frameWidth);
      c.sendHeight = num(s.frameHeight);
      c.sendFps = num(s.framesPerSecond);
      c.limitation = typeof s.qualityLimitationReason === "string" ? s.qualityLimitationReason : "";
    } else if (selected(s)) {
      rtts.push(s.currentRoundTripTime as number);
    } else if (s.type === "remote-inbound-rtp" && typeof s.roundTripTime === "number") {
      rtcpRtts.push(s.roundTripTime);
    }
  }
  const best = rtts.length ? rtts : rtcpRtts;
  c.rtt = best.length ? Math.max(...best) : null;
  return c;
}

const LIMITS = new Set(["none", "cpu", "bandwidth", "other"]);

/** The report of the interval between two counters (null when there is no interval yet). */
export function toReport(prev: Counters | null, cur: Counters): QualityReport | null {
  if (!prev || cur.at <= prev.at) return null;
  const seconds = (cur.at - prev.at) / 1000;
  const kbps = (bytes: number): number => round(clamp((Math.max(0, bytes) * 8) / 1000 / seconds, 0, 100_000));
  const lossPct = (lost: number, got: number): number => {
    const expected = Math.max(0, lost) + Math.max(0, got);
    return expected > 0 ? round(clamp((100 * Math.max(0, lost)) / expected, 0, 100), 2) : 0;
  };
  const emitted = cur.jbEmitted - prev.jbEmitted;
  const samples = cur.samples - prev.samples;
  return {
    width: clamp(Math.round(cur.width), 0, 8192),
    height: clamp(Math.round(cur.height), 0, 8192),
    fps: round(clamp(cur.fps, 0, 240)),
    video_kbps: kbps(cur.videoBytes - prev.videoBytes),
    audio_kbps: clamp(kbps(cur.audioBytes - prev.audioBytes), 0, 10_000),
    loss_pct: lossPct(cur.audioLost - prev.audioLost, cur.audioReceived - prev.audioReceived),
    video_loss_pct: lossPct(cur.videoLost - prev.videoLost, cur.videoReceived - prev.videoReceived),
    jitter_ms: round(clamp(cur.jitter * 1000, 0, 60_000)),
    jitter_buffer_ms: emitted > 0 ? round(clamp(((cur.jbDelay - prev.jbDelay) / emitted) * 1000, 0, 60_000)) : null,
    rtt_ms: round(clamp((cur.rtt ?? 0) * 1000, 0, 60_000)),
    freezes: clamp(cur.freezes - prev.freezes, 0, 1000),
    freeze_s: round(clamp(cur.freezeSeconds - prev.freezeSeconds, 0, 3600), 2),
    concealed_pct: samples > 0 ? round(clamp((100 * (cur.concealed - prev.concealed)) / samples, 0, 100), 2) : 0,
    send_width: clamp(Math.round(cur.sendWidth), 0, 8192),
    send_height: clamp(Math.round(cur.sendHeight), 0, 8192),
    send_fps: round(clamp(cur.sendFps, 0, 240)),
    limitation: (LIMITS.has(cur.limitation) ? cur.limitation : "") as QualityReport["limitation"],
    has_audio: cur.hasAudio,
    has_video: cur.hasVideo,
  };
}

/** The sending policy: the video sender caps its bit rate and keeps the frame rate while the
 *  network is weak (the resolution drops first, down to the encoder's minimum), the audio
 *  sender is marked high priority so congestion control starves the picture before the sound. */
export const VIDEO_MAX_BITRATE = 900_000;
export const AUDIO_MAX_BITRATE = 48_000;

export async function applySendPolicy(pc: RTCPeerConnection): Promise<boolean> {
  let applied = false;
  for (const sender of pc.getSenders()) {
    const kind = sender.track?.kind;
    if (kind !== "audio" && kind !== "video") continue;
    const params = sender.getParameters() as RTCRtpSendParameters & { degradationPreference?: string };
    if (!params.encodings?.length) params.encodings = [{}];
    for (const enc of params.encodings as (RTCRtpEncodingParameters & { networkPriority?: string })[]) {
      enc.maxBitrate = kind === "video" ? VIDEO_MAX_BITRATE : AUDIO_MAX_BITRATE;
      enc.priority = kind === "audio" ? "high" : "low";
      enc.networkPriority = kind === "audio" ? "high" : "low";
      if (kind === "video") enc.maxFramerate = 25;
    }
    if (kind === "video") params.degradationPreference = "maintain-framerate";
    try {
      await sender.setParameters(params);
      applied = true;
    } catch {
      // a browser that refuses a field keeps its defaults; the call goes on
    }
  }
  return applied;
}
