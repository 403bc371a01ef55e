// The public URL customer links are built on (settings.public_url / DUALREC_PUBLIC_URL) against the
// address the console was reached from.

/** The origin a customer link points at ("http://127.0.0.1:8000/h5/…" → "http://127.0.0.1:8000"). */
export function linkBase(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

/** True for a loopback host name or address (a phone cannot reach it). */
export function isLoopback(url: string): boolean {
  try {
    return LOOPBACK.test(new URL(url).hostname);
  } catch {
    return false;
  }
}

/**
 * True when links built on `publicUrl` may not open for the customer: it differs from the origin the
 * console was reached from (scheme, host or port), unless both are this machine's loopback (local
 * development, where 127.0.0.1 and localhost are the same place).
 */
export function publicUrlMismatch(publicUrl: string, consoleOrigin: string): boolean {
  const base = linkBase(publicUrl);
  const here = linkBase(consoleOrigin);
  if (!base || base === here) return false;
  if (isLoopback(base) && isLoopback(here)) {
    try {
      return new URL(base).port !== new URL(here).port || new URL(base).protocol !== new URL(here).protocol;
    } catch {
      return true;
    }
  }
  return true;
}
