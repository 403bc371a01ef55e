// The shared desk's state, polled while the call runs (both the desk and the customer's page).
import { onBeforeUnmount, ref, watch, type Ref } from "vue";
import { POLL_MS, type DeskState } from "./deskApi";

/**
 * Polls `load` every POLL_MS while `inCall()` is true; `stop` runs when the call ends or the
 * component goes. A failed poll is left to the next tick (the call's own state says the rest).
 */
export function useDeskState(inCall: () => boolean, load: () => Promise<DeskState>, stop: () => void): Ref<DeskState | null> {
  const state = ref<DeskState | null>(null);
  let timer = 0;

  async function poll(): Promise<void> {
    try {
      state.value = await load();
    } catch {
      // between the accept and the join, after the hang-up, or a network hiccup: the next tick tries again
    }
  }

  watch(
    inCall,
    (on) => {
      window.clearInterval(timer);
      timer = 0;
      if (on) {
        void poll();
        timer = window.setInterval(() => void poll(), POLL_MS);
      } else {
        stop();
      }
    },
    { immediate: true },
  );
  onBeforeUnmount(() => {
    window.clearInterval(timer);
    stop();
  });
  return state;
}
