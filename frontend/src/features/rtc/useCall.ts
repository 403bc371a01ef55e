// The state one page keeps about its call: media, the Janus call, received tracks, how it ended.
import { ref, shallowRef } from "vue";
import { JanusCall, type CallState, type Grant } from "./janusCall";
import { openMedia } from "./rtcApi";

export function useCall() {
  const local = shallowRef<MediaStream | null>(null);
  const remote = shallowRef<MediaStream | null>(null);
  const remoteTracks = ref(0);
  const call = shallowRef<JanusCall | null>(null);
  const state = ref<CallState | "idle">("idle");
  const ended = ref<"" | "hangup" | "room_destroyed" | "error">("");
  const failure = ref("");

  async function start(grant: Grant): Promise<void> {
    ended.value = "";
    failure.value = "";
    local.value = await openMedia();
    const c = new JanusCall(grant, local.value, {
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
    await c.start();
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
