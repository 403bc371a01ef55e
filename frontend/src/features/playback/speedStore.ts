// The playback speed the user chose last, kept in localStorage so it survives a reload.
import { clampSpeed } from "./playback";

export const SPEED_STORAGE_KEY = "dualrec.playbackSpeed";

/** The stored speed (1× when none, or when what is stored is not a speed the page offers). */
export function loadSpeed(storage: Pick<Storage, "getItem"> | undefined = globalThis.localStorage): number {
  const raw = storage?.getItem(SPEED_STORAGE_KEY);
  return raw === null || raw === undefined ? 1 : clampSpeed(Number(raw));
}

export function saveSpeed(rate: number, storage: Pick<Storage, "setItem"> | undefined = globalThis.localStorage): void {
  try {
    storage?.setItem(SPEED_STORAGE_KEY, String(clampSpeed(rate)));
  } catch {
    // storage full or disabled (private mode): the speed is kept for this page only
  }
}
