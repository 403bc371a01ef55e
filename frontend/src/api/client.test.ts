import { afterEach, describe, expect, it, vi } from "vitest";
import { createApiClient, languageHeaders, setUnauthenticatedHandler } from "./client";
import { i18n } from "@/locales";

function recordingFetch(status = 200, body: unknown = {}) {
  const seen: Request[] = [];
  const impl = vi.fn(async (input: Request) => {
    seen.push(input);
    return new Response(status === 204 ? null : JSON.stringify(body), {
      status,
      headers: { "Content-Type": "application/json" },
    });
  });
  return { seen, impl: impl as unknown as typeof fetch };
}

afterEach(() => setUnauthenticatedHandler(null));

describe("api client", () => {
  it("sends the CSRF header on state-changing requests only", async () => {
    const { seen, impl } = recordingFetch(204);
    const client = createApiClient("http://dualrec.test", impl);
    await client.POST("/api/v1/auth/logout");
    await client.GET("/api/v1/health");
    expect(seen[0]?.headers.get("X-Requested-With")).toBe("dualrec");
    expect(seen[1]?.headers.get("X-Requested-With")).toBeNull();
  });

  it("sends the UI language as Accept-Language on every request", async () => {
    const { seen, impl } = recordingFetch(204);
    const client = createApiClient("http://dualrec.test", impl);
    i18n.global.locale.value = "en";
    await client.GET("/api/v1/health");
    i18n.global.locale.value = "zh-CN";
    await client.POST("/api/v1/auth/logout");
    expect(seen[0]?.headers.get("Accept-Language")).toBe("en");
    expect(seen[1]?.headers.get("Accept-Language")).toBe("zh-CN");
    expect(languageHeaders()).toEqual({ "Accept-Language": "zh-CN" });
  });

  it("reports an expired session on a 401 from a normal endpoint", async () => {
    const expired = vi.fn();
    setUnauthenticatedHandler(expired);
    const { impl } = recordingFetch(401, { status: 401, code: "unauthenticated" });
    const client = createApiClient("http://dualrec.test", impl);
    await client.GET("/api/v1/roles");
    expect(expired).toHaveBeenCalledTimes(1);
  });

  it("does not treat a failed login or the session probe as an expired session", async () => {
    const expired = vi.fn();
    setUnauthenticatedHandler(expired);
    const { impl } = recordingFetch(401, { status: 401, code: "unauthenticated" });
    const client = createApiClient("http://dualrec.test", impl);
    await client.POST("/api/v1/auth/login", { body: { username: "a", password: "b" } });
    await client.GET("/api/v1/auth/me");
    expect(expired).not.toHaveBeenCalled();
  });
});
