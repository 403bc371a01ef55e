// What every console form shares: one request at a time, a busy flag for the submit button, the
// failure's text at the top, and the problem's field errors next to their fields.
import { ref } from "vue";
import { ApiError, problemText } from "@/api/call";
import { fieldErrors } from "@/api/problem";
import { i18n } from "@/locales";

export interface SubmitOptions {
  /** Checks made before sending: field → message; any entry stops the submit and shows those. */
  validate?: () => Record<string, string>;
  /** The top-level text for a failure (default: the problem's detail); "" shows none. */
  message?: (failure: unknown) => string;
  /** Anything else a failure updates (e.g. a list of row problems). */
  onError?: (failure: unknown) => void;
}

export function useSubmit() {
  const busy = ref(false);
  const error = ref("");
  const fields = ref<Record<string, string>>({});

  /**
   * Runs `action` unless a submit is still running (then nothing happens and it returns undefined).
   * Clears the previous errors, runs `validate`, and on a failure sets the top-level text and the field
   * errors from the problem body; returns what `action` returned, or undefined when it did not succeed.
   * `busy` is still set while `action` runs: whatever may start the next submit at once belongs after
   * `run` returns, not inside `action`.
   */
  async function run<R>(action: () => Promise<R>, options: SubmitOptions = {}): Promise<R | undefined> {
    if (busy.value) return undefined;
    error.value = "";
    fields.value = options.validate?.() ?? {};
    if (Object.keys(fields.value).length) return undefined;
    busy.value = true;
    try {
      return await action();
    } catch (failure) {
      error.value = options.message ? options.message(failure) : problemText(failure, i18n.global.t);
      fields.value = failure instanceof ApiError ? fieldErrors(failure.problem) : {};
      options.onError?.(failure);
      return undefined;
    } finally {
      busy.value = false;
    }
  }

  /** Shows a failure found without sending anything (a top-level text, optionally field errors). */
  function fail(message: string, byField: Record<string, string> = {}): void {
    error.value = message;
    fields.value = byField;
  }

  /** Forgets the errors (a dialog opened afresh). */
  function clear(): void {
    error.value = "";
    fields.value = {};
  }

  return { busy, error, fields, run, fail, clear };
}
