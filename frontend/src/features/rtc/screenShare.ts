// The agent's screen share in a remote interview: getDisplayMedia published as a second feed in the
// call's VideoRoom (the feed id and the room token bound to it come with the agent's grant; the
// proxy lets nobody else publish as that feed), recorded by Janus like the cameras; the customer's
// page subscribes to it while the shared desk says it is on. Each side uses its own Janus session
// beside the call's (janusCall.ts stays untouched).
import Janus, { type JanusJS } from "janus-gateway";
import adapter from "webrtc-adapter";
import { janusServer, type Grant } from "./janusCall";

export interface ScreenGrant extends Grant {
  screen_feed_id: number;
  screen_room_token?: string;
}

const NO_SUCH_FEED = 428; // JANUS_VIDEOROOM_ERROR_NO_SUCH_FEED: the share is not published yet

let initialised: Promise<void> | null = null;

function initJanus(): Promise<void> {
  initialised ??= new Promise<void>((resolve) => {
    Janus.init({ debug: false, dependencies: Janus.useDefaultDependencies({ adapter }), callback: () => resolve() });
  });
  return initialised;
}

function session(grant: Grant, onGone: (detail: string) => void): Promise<JanusJS.Janus> {
  return new Promise((resolve, reject) => {
    const janus: JanusJS.Janus = new Janus({
      server: janusServer(grant.janus_path),
      token: grant.core_token,
      iceServers: grant.ice_servers as unknown as RTCIceServer[],
      iceTransportPolicy: grant.ice_transport_policy === "relay" ? "relay" : "all",
      success: () => resolve(janus),
      error: (error: unknown) => {
        reject(new Error(String(error)));
        onGone(String(error));
      },
    });
  });
}

/** The agent's side: pick a screen (or tab), publish it, stop it. */
export class ScreenPublisher {
  private janus: JanusJS.Janus | null = null;
  private stream: MediaStream | null = null;
  private stopped = false;

  constructor(
    private readonly grant: ScreenGrant,
    private readonly onEnded: (detail?: string) => void,
  ) {}

  /** Resolves once Janus accepted the published screen (then the customer can subscribe). */
  async start(): Promise<MediaStream> {
    if (!this.grant.screen_room_token) throw new Error("no screen-share token in this grant");
    this.stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 10, max: 15 } }, audio: false });
    const track = this.stream.getVideoTracks()[0];
    if (!track) throw new Error("no screen track");
    track.addEventListener("ended", () => this.stop()); // the browser's own "stop sharing" button
    await initJanus();
    this.janus = await session(this.grant, (detail) => this.finish(detail));
    const g = this.grant;
    await new Promise<void>((resolve, reject) => {
      let handle: JanusJS.PluginHandle | null = null;
      this.janus?.attach({
        plugin: "janus.plugin.videoroom",
        success: (h) => {
          handle = h;
          h.send({
            message: { request: "join", ptype: "publisher", room: g.room, id: g.screen_feed_id, display: "screen", token: g.screen_room_token },
          });
        },
        error: (error) => reject(new Error(String(error))),
        onmessage: (msg, jsep) => {
          if (msg.error_code) {
            reject(new Error(String(msg.error ?? msg.error_code)));
            return;
          }
          if (msg.videoroom === "joined") {
            handle?.createOffer({
              tracks: [{ type: "video", capture: track, recv: false }],
              success: (offer) => handle?.send({ message: { request: "configure", audio: false, video: true }, jsep: offer }),
              error: (error) => reject(new Error(String(error))),
            });
          }
          if (jsep) {
            handle?.handleRemoteJsep({ jsep });
            resolve();
          }
        },
      });
    });
    return this.stream;
  }

  stop(): void {
    this.finish();
  }

  private finish(detail?: string): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.stream?.getTracks() ?? []) t.stop();
    try {
      this.janus?.destroy({ cleanupHandles: true });
    } catch {
      // already gone
    }
    this.onEnded(detail);
  }
}

/** The customer's side: receive the agent's screen share while it is on. */
export class ScreenViewer {
  private janus: JanusJS.Janus | null = null;
  private handle: JanusJS.PluginHandle | null = null;
  private readonly stream = new MediaStream();
  private closed = false;

  constructor(
    private readonly grant: ScreenGrant,
    private readonly onStream: (stream: MediaStream | null) => void,
  ) {}

  async start(): Promise<void> {
    await initJanus();
    this.janus = await session(this.grant, () => this.close());
    this.subscribe(0);
  }

  private subscribe(tries: number): void {
    if (this.closed) return;
    const g = this.grant;
    this.janus?.attach({
      plugin: "janus.plugin.videoroom",
      success: (h) => {
        this.handle = h;
        h.send({ message: { request: "join", ptype: "subscriber", room: g.room, streams: [{ feed: g.screen_feed_id }], token: g.room_token } });
      },
      error: () => this.close(),
      onmessage: (msg, jsep) => {
        if (msg.error_code === NO_SUCH_FEED && tries < 15) {
          // the agent's page says "on" a moment before Janus lists the feed: try again shortly
          this.handle?.detach();
          this.handle = null;
          window.setTimeout(() => this.subscribe(tries + 1), 700);
          return;
        }
        if (msg.error_code || !jsep) return;
        this.handle?.createAnswer({
          jsep,
          tracks: [{ type: "data", capture: false }],
          success: (answer) => this.handle?.send({ message: { request: "start", room: g.room }, jsep: answer }),
          error: () => this.close(),
        });
      },
      onremotetrack: (track, _mid, on) => {
        if (on) {
          if (!this.stream.getTracks().includes(track)) this.stream.addTrack(track);
        } else {
          this.stream.removeTrack(track);
        }
        this.onStream(this.stream.getVideoTracks().length ? this.stream : null);
      },
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.janus?.destroy({ cleanupHandles: true });
    } catch {
      // already gone
    }
    this.onStream(null);
  }
}
