// What every step of the session page shares: one request at a time, its error shown, the updated
// session handed to the page.
import { useSubmit } from "@/composables/useSubmit";
import type { Session } from "./sessionApi";

export function useStep(emitSession: (s: Session) => void) {
  const { busy, error, run: submit } = useSubmit();

  /** Runs ``action`` unless one is running; a returned session goes to the page once no longer busy. */
  async function run(action: () => Promise<Session | void>): Promise<void> {
    const s = await submit(action);
    if (s) emitSession(s); // after busy is cleared: the next node's step may start a request at once
  }

  return { busy, error, run };
}
