// One participant's side of a remote interview: publish the camera/microphone into the task
// attempt's Janus VideoRoom and subscribe to the other party, with the official janus-gateway
// client (bundled by Vite, no CDN). The grant (room, feed ids, signed tokens, ICE servers) comes
// from dualrec after it authenticated the participant; Janus checks the tokens.
import Janus, { type JanusJS } from "janus-gateway";
import adapter from "webrtc-adapter";
import { markSetup } from "./setupTiming";

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
  ice_transport_policy?: "all" | "relay";
}

/** How a call ended: hung up, its room closed, an error, or this party joined again elsewhere. */
export type EndReason = "hangup" | "room_destroyed" | "error" | "replaced";

export interface CallEvents {
  onRemoteStream?: (stream: MediaStream) => void;
  onState?: (state: CallState) => void;
  onEnded?: (reason: EndReason, detail?: string) => void;
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

// The other party's picture must arrive this long after subscribing, or the subscription is made
// again (a lost offer, ICE that never completes); and how often that is tried before giving up
const RESUBSCRIBE_AFTER_MS = 15_000;
const MAX_RESUBSCRIBES = 4;
const MAX_ICE_RESTARTS = 3;
const NO_SUCH_FEED = 428; // JANUS_VIDEOROOM_ERROR_NO_SUCH_FEED: the other party is not publishing

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
  private subscription = 0; // counts subscriptions: an attach that answers for an older one is dropped
  private receiving = false; // the current subscription delivered the other party's tracks
  private resubscribes = 0;
  private iceRestarts = 0;
  private subscribeTimer: ReturnType<typeof setTimeout> | null = null;
  private ended = false;

  constructor(
    private readonly grant: Grant,
    private readonly local: Promise<MediaStream>,
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
        // "relay" (DUALREC_RTC_ICE_TRANSPORT_POLICY): media only through the TURN servers above
        iceTransportPolicy: this.grant.ice_transport_policy === "relay" ? "relay" : "all",
        success: () => {
          markSetup("session");
          resolve();
        },
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

  private finish(reason: EndReason, detail?: string): void {
    if (this.ended) return;
    this.ended = true;
    this.clearSubscribeTimer();
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
          markSetup("attached");
          this.publisher = handle;
          // join and publish in one request (joinandconfigure): the offer goes with the join, Janus'
          // answer comes with "joined" — one round trip less than join, wait, configure
          void this.publish(false, {
            request: "joinandconfigure",
            ptype: "publisher",
            room: g.room,
            id: g.feed_id,
            display: g.display,
            token: g.room_token,
          });
          resolve();
        },
        error: (error) => reject(new Error(error)),
        onmessage: (msg, jsep) => this.onPublisherMessage(msg, jsep),
        webrtcState: (up) => {
          if (up) markSetup("published"); // ICE and DTLS done: the own media flows to Janus
        },
        // the own media's path broke (a network change on a phone): the same publication, new ICE
        iceState: (state) => {
          if (state === "failed" && !this.ended && this.iceRestarts < MAX_ICE_RESTARTS) {
            this.iceRestarts++;
            markSetup("ice-restart");
            void this.publish(true);
          }
        },
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
      markSetup("joined"); // the answer to the offer comes with it (below)
      this.state("waiting_peer");
    } else if (event === "destroyed") {
      this.finish("room_destroyed");
      return;
    }
    if (msg.leaving === "ok" && msg.reason === "kicked") {
      // dualrec removes a party's older connection when the same party joins again
      this.finish("replaced");
      return;
    }
    // the other party left or lost its connection: wait for it to publish again
    const gone = msg.unpublished ?? msg.leaving ?? msg.kicked;
    if (gone !== undefined && Number(gone) === this.grant.peer_feed_id) {
      this.dropSubscriber();
      this.resubscribes = 0;
      this.state("waiting_peer");
    }
    const publishers = (msg.publishers ?? []) as { id: number }[];
    if (publishers.some((p) => p.id === this.grant.peer_feed_id)) this.subscribe();
    if (jsep) {
      markSetup("answer");
      this.publisher?.handleRemoteJsep({ jsep });
    }
  }

  /** Sends the own media's offer: with ``join`` (the first publication: the join's own fields), else
   * as a ``configure`` of the publication that exists (an ICE restart). */
  private async publish(iceRestart = false, join?: { request: string; [field: string]: unknown }): Promise<void> {
    let local: MediaStream;
    try {
      local = await this.local;
    } catch (error) {
      this.finish("error", String(error));
      return;
    }
    if (this.ended) return;
    const audio = local.getAudioTracks()[0];
    const video = local.getVideoTracks()[0];
    const tracks: JanusJS.TrackOption[] = [];
    if (audio) tracks.push({ type: "audio", capture: audio, recv: false });
    if (video) tracks.push({ type: "video", capture: video, recv: false });
    this.publisher?.createOffer({
      // an ICE restart renegotiates the PeerConnection that exists: its tracks stay as they are
      ...(iceRestart ? { iceRestart: true } : { tracks }),
      success: (jsep) => {
        markSetup("offer");
        const media = { audio: !!audio, video: !!video };
        this.publisher?.send({ message: join ? { ...join, ...media } : { request: "configure", ...media }, jsep });
        if (!iceRestart) this.state("publishing");
      },
      error: (error) => this.finish("error", String(error)),
    });
  }

  private subscribe(): void {
    if (this.subscribed || this.ended) return;
    this.subscribed = true;
    this.receiving = false;
    const mine = ++this.subscription;
    markSetup("peer");
    const g = this.grant;
    this.armSubscribeTimer();
    this.janus?.attach({
      plugin: "janus.plugin.videoroom",
      success: (handle) => {
        if (this.ended || mine !== this.subscription) {
          handle.detach(); // dropped (or made again) while the attach was under way
          return;
        }
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
        if (msg.error_code === NO_SUCH_FEED) {
          // the other party stopped publishing before the subscription: its next publication
          // (a "publishers" event on the own handle) subscribes again
          this.dropSubscriber();
          return;
        }
        if (msg.error_code) {
          this.finish("error", String(msg.error ?? msg.error_code));
          return;
        }
        if (!jsep) return;
        markSetup("peer-offer");
        this.subscriber?.createAnswer({
          jsep,
          tracks: [{ type: "data", capture: false }],
          success: (answer) => this.subscriber?.send({ message: { request: "start", room: g.room }, jsep: answer }),
          error: (error) => this.finish("error", String(error)),
        });
      },
      webrtcState: (up) => {
        if (up) markSetup("received"); // ICE and DTLS done on the receiving side
      },
      iceState: (state) => {
        if (state === "failed") this.resubscribe();
      },
      onremotetrack: (track, _mid, on) => {
        if (on && track.kind === "video") {
          // the first packets of the other party's picture
          if (!track.muted) markSetup("remote-video");
          else track.addEventListener("unmute", () => markSetup("remote-video"), { once: true });
        }
        if (on) {
          if (!this.remote.getTracks().includes(track)) this.remote.addTrack(track);
        } else {
          this.remote.removeTrack(track);
        }
        this.events.onRemoteStream?.(this.remote);
        if (on) {
          this.receiving = true;
          this.clearSubscribeTimer();
          markSetup("connected");
          this.state("connected");
        }
      },
    });
  }

  /** No picture from the other party within RESUBSCRIBE_AFTER_MS: subscribe again. */
  private armSubscribeTimer(): void {
    this.clearSubscribeTimer();
    this.subscribeTimer = setTimeout(() => {
      this.subscribeTimer = null;
      if (!this.receiving) this.resubscribe();
    }, RESUBSCRIBE_AFTER_MS);
  }

  private clearSubscribeTimer(): void {
    if (this.subscribeTimer !== null) clearTimeout(this.subscribeTimer);
    this.subscribeTimer = null;
  }

  /** The subscription failed (ICE, or nothing arrived): a new one, a limited number of times. */
  private resubscribe(): void {
    if (this.ended || !this.subscribed) return;
    if (this.resubscribes >= MAX_RESUBSCRIBES) {
      this.finish("error", "the other party's media did not arrive");
      return;
    }
    this.resubscribes++;
    markSetup("resubscribe");
    this.dropSubscriber();
    this.subscribe();
  }

  /** Leaves the subscription (its tracks leave the remote stream); a later subscribe() makes a new one. */
  private dropSubscriber(): void {
    this.clearSubscribeTimer();
    this.subscribed = false;
    this.subscription++; // an attach still under way belongs to no subscription now
    this.receiving = false;
    const handle = this.subscriber;
    this.subscriber = null;
    for (const track of this.remote.getTracks()) this.remote.removeTrack(track);
    this.events.onRemoteStream?.(this.remote);
    try {
      handle?.detach();
    } catch {
      // the session is already gone
    }
  }
}
