// What every step of the session page shares: one request at a time, its error shown, the updated
// session handed to the page.
import { ref } from "vue";
import { useI18n } from "vue-i18n";
import { problemText } from "@/api/call";
import type { Session } from "./sessionApi";

export function useStep(emitSession: (s: Session) => void) {
  const { t } = useI18n();
  const busy = ref(false);
  const error = ref("");

  /** Runs ``action`` unless one is running; a returned session goes to the page. */
  async function run(action: () => Promise<Session | void>): Promise<void> {
    if (busy.value) return;
    busy.value = true;
    error.value = "";
    try {
      const s = await action();
      if (s) emitSession(s);
    } catch (err) {
      error.value = problemText(err, t);
    } finally {
      busy.value = false;
    }
  }

  return { busy, error, run };
}
