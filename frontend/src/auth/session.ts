// The signed-in user, shared by the router guard, the app shell and the pages.
import { computed, readonly, ref } from "vue";
import { api, setUnauthenticatedHandler, type Me } from "@/api/client";
import { ApiError, call } from "@/api/call";
import { currentLocale, setLocale, type Locale } from "@/locales";

const me = ref<Me | null>(null);
let probe: Promise<Me | null> | null = null;

export const currentUser = readonly(me);
export const isSignedIn = computed(() => me.value !== null);

export function hasPermission(permission: string | undefined): boolean {
  if (!permission) return true;
  return me.value?.permissions.includes(permission) ?? false;
}

// A language picked on the sign-in page (signed out): the user's choice just now, saved as their
// setting when they sign in, instead of the setting saved earlier
let chosenSignedOut: Locale | null = null;

/** A user's own language setting (saved on the server) wins over this browser's choice. */
function adoptLanguage(user: Me): void {
  if (user.language && user.language !== currentLocale()) setLocale(user.language);
}

/** Saves the UI language as the signed-in user's own setting (no-op when signed out). */
export async function saveLanguage(language: Locale): Promise<void> {
  if (me.value === null) return;
  me.value = await call(api.PUT("/api/v1/auth/me/language", { body: { language } }));
}

/** The language switch: the UI follows at once; signed in, the choice becomes the user's own
 * setting (messages and reports follow it); signed out, it is saved at the next sign-in. */
export async function chooseLanguage(language: Locale): Promise<void> {
  setLocale(language);
  if (me.value === null) {
    chosenSignedOut = language;
    return;
  }
  await saveLanguage(language);
}

/** Loads the session once (GET /auth/me); null when not signed in. */
export function loadSession(): Promise<Me | null> {
  probe ??= call(api.GET("/api/v1/auth/me"))
    .then((user) => {
      me.value = user;
      if (user) adoptLanguage(user);
      return user;
    })
    .catch((error: unknown) => {
      probe = null;
      if (error instanceof ApiError && error.problem.status === 401) {
        me.value = null;
        return null;
      }
      throw error;
    });
  return probe;
}

export async function signIn(username: string, password: string): Promise<Me> {
  const user = await call(api.POST("/api/v1/auth/login", { body: { username, password } }));
  me.value = user;
  probe = Promise.resolve(user);
  const chosen = chosenSignedOut;
  chosenSignedOut = null;
  if (chosen !== null && chosen !== user.language) {
    await saveLanguage(chosen).catch(() => adoptLanguage(user)); // not saved: the saved one stays
  } else {
    adoptLanguage(user);
  }
  return me.value ?? user;
}

export async function signOut(): Promise<void> {
  try {
    await call(api.POST("/api/v1/auth/logout"));
  } finally {
    forgetSession();
  }
}

export function forgetSession(): void {
  me.value = null;
  probe = Promise.resolve(null);
}

export function onSessionExpired(handler: () => void): void {
  setUnauthenticatedHandler(() => {
    if (me.value === null) return;
    forgetSession();
    handler();
  });
}
