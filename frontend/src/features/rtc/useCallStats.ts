// Every 2 s: read both PeerConnections' getStats, report the interval to dualrec (which scores it:
// audio MOS estimate, video grade) and keep the answer (own and the other party's score) for the
// page; the first time the publisher has its senders, apply the weak-network sending policy.
import { onBeforeUnmount, ref, shallowRef, watch, type Ref } from "vue";
import type { Schemas } from "@/api/client";
import type { JanusCall } from "./janusCall";
import { applySendPolicy, readCounters, toReport, type Counters, type QualityReport } from "./quality";

export type QualityAnswer = Schemas["QualityReportOut"];
export const REPORT_INTERVAL_MS = 2000;

async function statsOf(pc: RTCPeerConnection | null): Promise<Record<string, unknown>[]> {
  if (!pc) return [];
  const out: Record<string, unknown>[] = [];
  (await pc.getStats()).forEach((s: Record<string, unknown>) => out.push(s));
  return out;
}

export function useCallStats(
  call: Ref<JanusCall | null>,
  state: Ref<string>,
  send: (report: QualityReport) => Promise<QualityAnswer>,
) {
  const answer = shallowRef<QualityAnswer | null>(null);
  const sent = ref(0);
  const failure = ref("");
  const policyApplied = ref(false);
  let prev: Counters | null = null;
  let timer = 0;
  let busy = false;

  async function tick(): Promise<void> {
    const c = call.value;
    if (!c || busy) return;
    busy = true;
    try {
      const { publisher, subscriber } = c.peerConnections();
      if (publisher && !policyApplied.value && publisher.getSenders().some((s) => s.track)) {
        policyApplied.value = await applySendPolicy(publisher);
      }
      if (!subscriber) return;
      const cur = readCounters(await statsOf(subscriber), await statsOf(publisher), performance.now());
      const report = toReport(prev, cur);
      prev = cur;
      if (!report) return;
      answer.value = await send(report);
      sent.value += 1;
      failure.value = "";
    } catch (err) {
      failure.value = err instanceof Error ? err.message : String(err);
    } finally {
      busy = false;
    }
  }

  function stop(): void {
    window.clearInterval(timer);
    timer = 0;
  }

  watch(
    state,
    (s) => {
      if ((s === "connected" || s === "waiting_peer" || s === "publishing") && !timer) {
        timer = window.setInterval(() => void tick(), REPORT_INTERVAL_MS);
      } else if (s === "ended" || s === "idle") {
        stop();
        prev = null;
      }
    },
    { immediate: true },
  );
  onBeforeUnmount(stop);

  return { answer, sent, failure, policyApplied };
}
