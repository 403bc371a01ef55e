import { describe, expect, it } from "vitest";
import { applySendPolicy, AUDIO_MAX_BITRATE, readCounters, toReport, VIDEO_MAX_BITRATE } from "./quality";

const inboundVideo = (o: Record<string, unknown>) => ({ type: "inbound-rtp", kind: "video", ...o });
const inboundAudio = (o: Record<string, unknown>) => ({ type: "inbound-rtp", kind: "audio", ...o });

describe("call-quality report from getStats", () => {
  const first = readCounters(
    [
      inboundVideo({ bytesReceived: 100_000, packetsReceived: 900, packetsLost: 10, freezeCount: 1, totalFreezesDuration: 0.5 }),
      inboundAudio({ bytesReceived: 20_000, packetsReceived: 500, packetsLost: 0, jitter: 0.01, jitterBufferDelay: 10, jitterBufferEmittedCount: 200_000, concealedSamples: 1000, totalSamplesReceived: 480_000 }),
    ],
    [],
    10_000,
  );
  const second = readCounters(
    [
      inboundVideo({ bytesReceived: 350_000, packetsReceived: 1100, packetsLost: 60, freezeCount: 3, totalFreezesDuration: 2.0, frameWidth: 320, frameHeight: 240, framesPerSecond: 14.6 }),
      inboundAudio({ bytesReceived: 28_000, packetsReceived: 570, packetsLost: 30, jitter: 0.085, jitterBufferDelay: 10 + 96_000 * 0.12, jitterBufferEmittedCount: 200_000 + 96_000, concealedSamples: 1000 + 24_000, totalSamplesReceived: 480_000 + 96_000 }),
      { type: "candidate-pair", nominated: true, state: "succeeded", currentRoundTripTime: 0.3 },
      { type: "candidate-pair", nominated: false, state: "failed", currentRoundTripTime: 9 },
    ],
    [
      { type: "outbound-rtp", kind: "video", frameWidth: 640, frameHeight: 360, framesPerSecond: 25, qualityLimitationReason: "bandwidth" },
      { type: "remote-inbound-rtp", kind: "audio", roundTripTime: 1.4 }, // stale RTCP: not used
      { type: "candidate-pair", nominated: true, state: "succeeded", currentRoundTripTime: 0.12 },
    ],
    12_000,
  );

  it("is the difference of two moments", () => {
    const r = toReport(first, second);
    expect(r).toEqual({
      width: 320,
      height: 240,
      fps: 14.6,
      video_kbps: 1000, // 250 000 bytes in 2 s
      audio_kbps: 32,
      loss_pct: 30, // 30 lost of 100 expected
      video_loss_pct: 20, // 50 of 250
      jitter_ms: 85,
      jitter_buffer_ms: 120,
      rtt_ms: 300, // the worst of the paths
      freezes: 2,
      freeze_s: 1.5,
      concealed_pct: 25,
      send_width: 640,
      send_height: 360,
      send_fps: 25,
      limitation: "bandwidth",
      has_audio: true,
      has_video: true,
    });
  });

  it("needs an interval and stays within the API's bounds", () => {
    expect(toReport(null, second)).toBeNull();
    expect(toReport(second, second)).toBeNull();
    const odd = readCounters([inboundVideo({ frameWidth: 1e9, framesPerSecond: Infinity, packetsLost: -5 })], [{ type: "outbound-rtp", kind: "video", qualityLimitationReason: "<script>" }], 14_000);
    const r = toReport(second, odd);
    expect(r?.width).toBe(8192);
    expect(r?.fps).toBe(0);
    expect(r?.limitation).toBe("");
    expect(r?.has_audio).toBe(false);
  });
});

describe("sending policy", () => {
  it("caps the bit rates, puts audio first and keeps the frame rate", async () => {
    const applied: Record<string, unknown>[] = [];
    const sender = (kind: string) => ({
      track: { kind },
      getParameters: () => ({ encodings: [{}] }),
      setParameters: async (p: Record<string, unknown>) => {
        applied.push({ kind, ...p });
      },
    });
    const pc = { getSenders: () => [sender("audio"), sender("video"), { track: null }] } as unknown as RTCPeerConnection;
    expect(await applySendPolicy(pc)).toBe(true);
    const [audio, video] = applied as { kind: string; encodings: Record<string, unknown>[]; degradationPreference?: string }[];
    expect(audio?.encodings[0]).toMatchObject({ maxBitrate: AUDIO_MAX_BITRATE, priority: "high", networkPriority: "high" });
    expect(video?.encodings[0]).toMatchObject({ maxBitrate: VIDEO_MAX_BITRATE, priority: "low", maxFramerate: 25 });
    expect(video?.degradationPreference).toBe("maintain-framerate");
  });
});
