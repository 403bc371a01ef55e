// The state one page keeps about its call: media, the Janus call, received tracks, how it ended.
import { ref, shallowRef } from "vue";
import { JanusCall, type CallState, type EndReason, type Grant } from "./janusCall";
import { takeMedia } from "./rtcApi";
import { markSetup } from "./setupTiming";

export function useCall() {
  const local = shallowRef<MediaStream | null>(null);
  const remote = shallowRef<MediaStream | null>(null);
  const remoteTracks = ref(0);
  const call = shallowRef<JanusCall | null>(null);
  const state = ref<CallState | "idle">("idle");
  const ended = ref<"" | EndReason>("");
  const failure = ref("");

  async function start(grant: Grant): Promise<void> {
    ended.value = "";
    failure.value = "";
    // the camera/microphone (opened with the join request) and the Janus session, attach and join
    // go on at once; only the offer waits for the media
    const media = takeMedia().then((stream) => {
      markSetup("media");
      local.value = stream;
      if (ended.value) stopMedia(); // the call ended before the camera opened
      return stream;
    });
    const c = new JanusCall(grant, media, {
      onRemoteStream: (stream) => {
        remote.value = stream;
        remoteTracks.value = stream.getTracks().length;
      },
      onState: (s) => (state.value = s),
      onEnded: (reason, detail) => {
        ended.value = reason;
        failure.value = detail ?? "";
        stopMedia();
      },
    });
    call.value = c;
    await Promise.all([media, c.start()]);
  }

  function stopMedia(): void {
    for (const track of local.value?.getTracks() ?? []) track.stop();
  }

  function hangup(): void {
    call.value?.hangup();
    stopMedia();
  }

  return { local, remote, remoteTracks, call, state, ended, failure, start, hangup };
}
