import { describe, expect, it, vi } from "vitest";
import { ApiError } from "@/api/call";
import { toProblem } from "@/api/problem";
import { useSubmit } from "./useSubmit";

const invalid = () =>
  new ApiError(
    toProblem(
      {
        status: 422,
        detail: "请求内容不合法 / the request is invalid",
        errors: [{ loc: ["username"], msg: "too short" }],
      },
      new Response(null, { status: 422 }),
    ),
  );

describe("useSubmit", () => {
  it("is busy while the action runs and returns its result", async () => {
    const form = useSubmit();
    let release: (value: string) => void = () => undefined;
    const pending = form.run(() => new Promise<string>((resolve) => (release = resolve)));
    expect(form.busy.value).toBe(true);
    release("saved");
    expect(await pending).toBe("saved");
    expect(form.busy.value).toBe(false);
    expect(form.error.value).toBe("");
  });

  it("ignores a second submit while the first is running", async () => {
    const form = useSubmit();
    let release: () => void = () => undefined;
    const action = vi.fn(() => new Promise<void>((resolve) => (release = resolve)));
    const first = form.run(action);
    const second = await form.run(action);
    expect(second).toBeUndefined();
    expect(action).toHaveBeenCalledTimes(1);
    release();
    await first;
    await form.run(async () => undefined);
    expect(form.busy.value).toBe(false);
  });

  it("maps a problem body to the top-level text and the field errors", async () => {
    const form = useSubmit();
    const onError = vi.fn();
    const out = await form.run(() => Promise.reject(invalid()), { onError });
    expect(out).toBeUndefined();
    expect(form.busy.value).toBe(false);
    expect(form.error.value).toBe("请求内容不合法"); // one language: the UI's half of the pair
    expect(form.fields.value).toEqual({ username: "too short" });
    expect(onError).toHaveBeenCalledOnce();

    // a domain error names its fields in a map
    const refused = new ApiError({ status: 409, detail: "驳回须填写意见", fields: { comment: "required" } });
    await form.run(() => Promise.reject(refused));
    expect(form.fields.value).toEqual({ comment: "required" });

    // the next try starts clean
    await form.run(async () => "ok");
    expect(form.error.value).toBe("");
    expect(form.fields.value).toEqual({});
  });

  it("stops at client-side checks without sending", async () => {
    const form = useSubmit();
    const action = vi.fn(async () => "sent");
    const out = await form.run(action, { validate: () => ({ name: "Required" }) });
    expect(out).toBeUndefined();
    expect(action).not.toHaveBeenCalled();
    expect(form.busy.value).toBe(false);
    expect(form.fields.value).toEqual({ name: "Required" });

    expect(await form.run(action, { validate: () => ({}) })).toBe("sent");
  });

  it("lets the form word the failure, and shows a network failure generically", async () => {
    const form = useSubmit();
    await form.run(() => Promise.reject(invalid()), { message: () => "" });
    expect(form.error.value).toBe("");
    expect(form.fields.value).toEqual({ username: "too short" });

    await form.run(() => Promise.reject(new TypeError("fetch failed")));
    expect(form.error.value).not.toBe("");
    expect(form.fields.value).toEqual({});
  });

  it("fail() and clear() set and forget errors found without a request", () => {
    const form = useSubmit();
    form.fail("Enter your username and password");
    expect(form.error.value).toBe("Enter your username and password");
    form.fail("x", { reason: "Required" });
    expect(form.fields.value).toEqual({ reason: "Required" });
    form.clear();
    expect(form.error.value).toBe("");
    expect(form.fields.value).toEqual({});
  });
});
