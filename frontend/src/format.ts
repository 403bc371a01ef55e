import { currentLocale } from "@/locales";

/** Local date and time of an ISO timestamp, in the UI language; "" for null. */
export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(currentLocale(), {
    dateStyle: "medium",
    timeStyle: "medium",
  }).format(date);
}

/** True when an ISO timestamp (e.g. a lock expiry) lies in the future. */
export function isFuture(iso: string | null | undefined, now: Date = new Date()): boolean {
  if (!iso) return false;
  const time = new Date(iso).getTime();
  return Number.isFinite(time) && time > now.getTime();
}
