// The shared desk's state while the call runs (both the desk and the customer's page): each request
// names the seq the page shows and is held by the server until the desk changes (or WAIT_S passes).
import { onBeforeUnmount, ref, watch, type Ref } from "vue";
import { POLL_MS, WAIT_S, type DeskState, type DeskWait } from "./deskApi";

const pause = (ms: number) => new Promise((resolve) => window.setTimeout(resolve, ms));

/**
 * Follows `load` while `inCall()` is true; `stop` runs when the call ends or the component goes.
 * A failed request is retried after POLL_MS (between the accept and the join, after the hang-up, or
 * a network hiccup: the call's own state says the rest). A newer state is never replaced by an older
 * answer (the page's own changes set the state too).
 */
export function useDeskState(
  inCall: () => boolean,
  load: (held: DeskWait) => Promise<DeskState>,
  stop: () => void,
): Ref<DeskState | null> {
  const state = ref<DeskState | null>(null);
  let generation = 0;

  async function follow(mine: number): Promise<void> {
    while (mine === generation) {
      const asked = Date.now();
      const shown = state.value?.seq;
      try {
        const next = await load(shown === undefined ? {} : { after: shown, wait: WAIT_S });
        if (mine !== generation) return;
        if (!state.value || next.seq >= state.value.seq) state.value = next;
        if (Date.now() - asked < 300 && next.seq === shown) await pause(POLL_MS); // not held
      } catch {
        await pause(POLL_MS);
      }
    }
  }

  watch(
    inCall,
    (on) => {
      generation += 1;
      if (on) void follow(generation);
      else stop();
    },
    { immediate: true },
  );
  onBeforeUnmount(() => {
    generation += 1;
    stop();
  });
  return state;
}
