// The signed-in user, shared by the router guard, the app shell and the pages.
import { computed, readonly, ref } from "vue";
import { api, setUnauthenticatedHandler, type Me } from "@/api/client";
import { ApiError, call } from "@/api/call";

const me = ref<Me | null>(null);
let probe: Promise<Me | null> | null = null;

export const currentUser = readonly(me);
export const isSignedIn = computed(() => me.value !== null);

export function hasPermission(permission: string | undefined): boolean {
  if (!permission) return true;
  return me.value?.permissions.includes(permission) ?? false;
}

/** Loads the session once (GET /auth/me); null when not signed in. */
export function loadSession(): Promise<Me | null> {
  probe ??= call(api.GET("/api/v1/auth/me"))
    .then((user) => {
      me.value = user;
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
  return user;
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
