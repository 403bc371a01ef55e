import { beforeEach, describe, expect, it, vi } from "vitest";

// the UI language and the API, as the session module sees them
const ui = vi.hoisted(() => ({ locale: "zh-CN", saved: [] as string[], stored: "zh-CN" }));

vi.mock("@/locales", () => ({
  currentLocale: () => ui.locale,
  setLocale: (locale: string) => {
    ui.locale = locale;
  },
}));
vi.mock("@/api/call", () => ({
  ApiError: class extends Error {},
  call: (p: Promise<unknown>) => p,
}));
vi.mock("@/api/client", () => ({
  setUnauthenticatedHandler: () => undefined,
  api: {
    POST: async () => ({ username: "admin", language: ui.stored, permissions: [] }),
    GET: async () => null,
    PUT: async (_path: string, init: { body: { language: string } }) => {
      ui.saved.push(init.body.language);
      ui.stored = init.body.language;
      return { username: "admin", language: ui.stored, permissions: [] };
    },
  },
}));

const session = await import("./session");

beforeEach(() => {
  session.forgetSession();
  Object.assign(ui, { locale: "zh-CN", saved: [], stored: "zh-CN" });
});

describe("the UI language and the signed-in user's setting", () => {
  it("a language picked on the sign-in page becomes the user's setting at sign-in", async () => {
    await session.chooseLanguage("en"); // signed out: nothing to save yet
    expect(ui.saved).toEqual([]);
    const user = await session.signIn("admin", "x");
    expect(ui.saved).toEqual(["en"]);
    expect(ui.locale).toBe("en");
    expect(user.language).toBe("en");
  });

  it("without a choice on the sign-in page, the user's saved setting is adopted", async () => {
    ui.stored = "en";
    await session.signIn("admin", "x");
    expect(ui.locale).toBe("en");
    expect(ui.saved).toEqual([]);
  });

  it("signed in, a choice is saved at once", async () => {
    await session.signIn("admin", "x");
    await session.chooseLanguage("en");
    expect(ui.saved).toEqual(["en"]);
    expect(ui.locale).toBe("en");
  });
});
