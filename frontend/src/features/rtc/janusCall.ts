// One participant's side of a remote interview: publish the camera/microphone into the task
// attempt's Janus VideoRoom and subscribe to the other party, with the official janus-gateway
// client (bundled by Vite, no CDN). The grant (room, feed ids, signed tokens, ICE servers) comes
// from dualrec after it authenticated the participant; Janus checks the tokens.
import Janus, { type JanusJS } from "janus-gateway";
import adapter from "webrtc-adapter";

export interface Grant {
  role: "agent" | "customer";
  room: number;
  feed_id: number;
  peer_feed_id: number;
  display: string;
  core_token: string;
  room_token: string;
  janus_path: string;
  ice_servers: Record<string, unknown>[];
}

export interface CallEvents {
  onRemoteStream?: (stream: MediaStream) => void;
  onState?: (state: CallState) => void;
  onEnded?: (reason: "hangup" | "room_destroyed" | "error", detail?: string) => void;
}

export type CallState = "connecting" | "publishing" | "waiting_peer" | "connected" | "ended";

/** What the page shows of the media it receives (a first step of the call-quality panel). */
export interface ReceiveStats {
  width: number;
  height: number;
  framesDecoded: number;
  framesPerSecond: number;
  audioEnergy: number; // totalAudioEnergy of the received audio (0 = silence all along)
  audioLevel: number; // the last audio level, 0..1
  packetsLost: number;
  jitter: number; // seconds (audio)
}

let initialised: Promise<void> | null = null;

function initJanus(): Promise<void> {
  initialised ??= new Promise<void>((resolve) => {
    Janus.init({
      debug: false,
      dependencies: Janus.useDefaultDependencies({ adapter }),
      callback: () => resolve(),
    });
  });
  return initialised;
}

/** The Janus server URL for a grant's path: the app's own proxy (same origin) or a public URL. */
export function janusServer(path: string, origin: string = globalThis.location.origin): string {
  return /^https?:\/\//.test(path) ? path : `${origin}${path}`;
}

export class JanusCall {
  private janus: JanusJS.Janus | null = null;
  private publisher: JanusJS.PluginHandle | null = null;
  private subscriber: JanusJS.PluginHandle | null = null;
  private remote = new MediaStream();
  private subscribed = false;
  private ended = false;

  constructor(
    private readonly grant: Grant,
    private readonly local: MediaStream,
    private readonly events: CallEvents = {},
  ) {}

  async start(): Promise<void> {
    await initJanus();
    this.state("connecting");
    await new Promise<void>((resolve, reject) => {
      this.janus = new Janus({
        server: janusServer(this.grant.janus_path),
        token: this.grant.core_token,
        iceServers: this.grant.ice_servers as unknown as RTCIceServer[],
        success: () => resolve(),
        error: (error: unknown) => {
          reject(new Error(String(error)));
          this.finish("error", String(error));
        },
        destroyed: () => this.finish("hangup"),
      });
    });
    await this.attachPublisher();
  }

  /** Leaves the room (the agent's hang-up also ends the call on the server). */
  hangup(): void {
    this.finish("hangup");
  }

  /** The PeerConnections of the call (null before they exist): what useCallStats reads. */
  peerConnections(): { publisher: RTCPeerConnection | null; subscriber: RTCPeerConnection | null } {
    return {
      publisher: (this.publisher?.webrtcStuff?.pc as RTCPeerConnection | undefined) ?? null,
      subscriber: (this.subscriber?.webrtcStuff?.pc as RTCPeerConnection | undefined) ?? null,
    };
  }

  /** The received media, from the subscriber's PeerConnection (null before it exists). */
  async receiveStats(): Promise<ReceiveStats | null> {
    const pc = this.subscriber?.webrtcStuff?.pc as RTCPeerConnection | undefined;
    if (!pc) return null;
    const out: ReceiveStats = {
      width: 0,
      height: 0,
      framesDecoded: 0,
      framesPerSecond: 0,
      audioEnergy: 0,
      audioLevel: 0,
      packetsLost: 0,
      jitter: 0,
    };
    const report = await pc.getStats();
    report.forEach((s: Record<string, unknown>) => {
      if (s.type !== "inbound-rtp") return;
      out.packetsLost += Number(s.packetsLost ?? 0);
      if (s.kind === "video") {
        out.width = Number(s.frameWidth ?? 0);
        out.height = Number(s.frameHeight ?? 0);
        out.framesDecoded = Number(s.framesDecoded ?? 0);
        out.framesPerSecond = Number(s.framesPerSecond ?? 0);
      } else if (s.kind === "audio") {
        out.audioEnergy = Number(s.totalAudioEnergy ?? 0);
        out.audioLevel = Number(s.audioLevel ?? 0);
        out.jitter = Number(s.jitter ?? 0);
      }
    });
    return out;
  }

  private state(state: CallState): void {
    this.events.onState?.(state);
  }

  private finish(reason: "hangup" | "room_destroyed" | "error", detail?: string): void {
    if (this.ended) return;
    this.ended = true;
    this.state("ended");
    try {
      this.janus?.destroy({ cleanupHandles: true });
    } catch {
      // already gone
    }
    this.events.onEnded?.(reason, detail);
  }

  private attachPublisher(): Promise<void> {
    const g = this.grant;
    return new Promise<void>((resolve, reject) => {
      this.janus?.attach({
        plugin: "janus.plugin.videoroom",
        success: (handle) => {
          this.publisher = handle;
          handle.send({
            message: {
              request: "join",
              ptype: "publisher",
              room: g.room,
              id: g.feed_id,
              display: g.display,
              token: g.room_token,
            },
          });
          resolve();
        },
        error: (error) => reject(new Error(error)),
        onmessage: (msg, jsep) => this.onPublisherMessage(msg, jsep),
      });
    });
  }

  private onPublisherMessage(msg: JanusJS.Message, jsep?: JanusJS.JSEP): void {
    const event = msg.videoroom as string | undefined;
    if (msg.error_code) {
      this.finish("error", String(msg.error ?? msg.error_code));
      return;
    }
    if (event === "joined") {
      this.publish();
      this.state("waiting_peer");
    } else if (event === "destroyed") {
      this.finish("room_destroyed");
      return;
    }
    const publishers = (msg.publishers ?? []) as { id: number }[];
    if (publishers.some((p) => p.id === this.grant.peer_feed_id)) this.subscribe();
    if (jsep) this.publisher?.handleRemoteJsep({ jsep });
  }

  private publish(): void {
    const audio = this.local.getAudioTracks()[0];
    const video = this.local.getVideoTracks()[0];
    const tracks: JanusJS.TrackOption[] = [];
    if (audio) tracks.push({ type: "audio", capture: audio, recv: false });
    if (video) tracks.push({ type: "video", capture: video, recv: false });
    this.publisher?.createOffer({
      tracks,
      success: (jsep) => {
        this.publisher?.send({ message: { request: "configure", audio: !!audio, video: !!video }, jsep });
        this.state("publishing");
      },
      error: (error) => this.finish("error", String(error)),
    });
  }

  private subscribe(): void {
    if (this.subscribed) return;
    this.subscribed = true;
    const g = this.grant;
    this.janus?.attach({
      plugin: "janus.plugin.videoroom",
      success: (handle) => {
        this.subscriber = handle;
        handle.send({
          message: {
            request: "join",
            ptype: "subscriber",
            room: g.room,
            streams: [{ feed: g.peer_feed_id }],
            token: g.room_token,
          },
        });
      },
      error: (error) => this.finish("error", error),
      onmessage: (msg, jsep) => {
        if (msg.error_code) {
          this.finish("error", String(msg.error ?? msg.error_code));
          return;
        }
        if (!jsep) return;
        this.subscriber?.createAnswer({
          jsep,
          tracks: [{ type: "data", capture: false }],
          success: (answer) => this.subscriber?.send({ message: { request: "start", room: g.room }, jsep: answer }),
          error: (error) => this.finish("error", String(error)),
        });
      },
      onremotetrack: (track, _mid, on) => {
        if (on) {
          if (!this.remote.getTracks().includes(track)) this.remote.addTrack(track);
        } else {
          this.remote.removeTrack(track);
        }
        this.events.onRemoteStream?.(this.remote);
        if (on) this.state("connected");
      },
    });
  }
}
