import { describe, expect, it, vi } from "vitest";
import { effectScope, nextTick, ref } from "vue";
import { ApiError } from "@/api/call";
import { usePagedList, type Page, type PageQuery } from "./usePagedList";

type Filters = { q: string };

/** A fake endpoint: rows "r1".."r<total>", filtered by q, answering in order unless told to wait. */
function endpoint(total = 45) {
  const calls: { query: PageQuery; filters: Filters }[] = [];
  const fetchPage = vi.fn(async (query: PageQuery, filters: Filters): Promise<Page<string>> => {
    calls.push({ query, filters: { ...filters } });
    const rows = Array.from({ length: total }, (_, i) => `r${i + 1}`).filter((r) => r.includes(filters.q));
    const start = (query.page - 1) * query.page_size;
    return { items: rows.slice(start, start + query.page_size), total: rows.length };
  });
  return { fetchPage, calls };
}

function inScope<T>(make: () => T): T {
  const scope = effectScope();
  return scope.run(make) as T;
}

/** Lets watchers run and the fake requests settle. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i += 1) {
    await nextTick();
    await Promise.resolve();
  }
}

describe("usePagedList", () => {
  it("loads a page, then the page the pager asks for", async () => {
    const { fetchPage, calls } = endpoint();
    const list = inScope(() => usePagedList(fetchPage, { filters: () => ({ q: "" }) }));
    await list.reload();
    expect(list.items.value).toHaveLength(20);
    expect(list.total.value).toBe(45);
    expect(calls[0]?.query).toEqual({ page: 1, page_size: 20 });

    list.page.value = 3; // what PagerBar's v-model does
    await settle();
    expect(calls.at(-1)?.query).toEqual({ page: 3, page_size: 20 });
    expect(list.items.value).toEqual(["r41", "r42", "r43", "r44", "r45"]);
    expect(list.loading.value).toBe(false);

    list.goTo(2);
    await settle();
    expect(list.items.value[0]).toBe("r21");
  });

  it("sends the filters the last search applied, from page 1", async () => {
    const { fetchPage, calls } = endpoint();
    const list = inScope(() => usePagedList(fetchPage, { filters: () => ({ q: "" }), pageSize: 10 }));
    await list.reload();
    list.page.value = 2;
    await settle();

    list.filters.q = "4"; // typed, not searched yet
    list.page.value = 3;
    await settle();
    expect(calls.at(-1)?.filters).toEqual({ q: "" });

    await list.search();
    await settle();
    expect(list.page.value).toBe(1);
    expect(calls.at(-1)).toEqual({ query: { page: 1, page_size: 10 }, filters: { q: "4" } });
    expect(list.items.value).toEqual(["r4", "r14", "r24", "r34", "r40", "r41", "r42", "r43", "r44", "r45"]);
    expect(list.applied.value).toEqual({ q: "4" });

    const before = calls.length;
    await list.reset();
    await settle();
    expect(list.filters.q).toBe("");
    expect(calls.length).toBe(before + 1); // on page 1 already: one load, not two
    expect(list.total.value).toBe(45);
  });

  it("keeps the rows it had when a load fails, and shows the problem", async () => {
    const { fetchPage } = endpoint();
    const list = inScope(() => usePagedList(fetchPage, { filters: () => ({ q: "" }) }));
    await list.reload();
    const shown = [...list.items.value];

    fetchPage.mockRejectedValueOnce(new ApiError({ status: 403, detail: "没有权限" }));
    list.page.value = 2;
    await settle();
    expect(list.error.value).toBe("没有权限");
    expect(list.items.value).toEqual(shown);
    expect(list.total.value).toBe(45);
    expect(list.loading.value).toBe(false);

    await list.reload();
    expect(list.error.value).toBe("");
    expect(list.items.value[0]).toBe("r21");
  });

  it("flags loading, except for a quiet refresh", async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const list = inScope(() =>
      usePagedList(async () => {
        await gate;
        return { items: ["a"], total: 1 };
      }),
    );
    const pending = list.reload();
    expect(list.loading.value).toBe(true);
    release();
    await pending;
    expect(list.loading.value).toBe(false);

    const quiet = list.reload({ quiet: true });
    expect(list.loading.value).toBe(false);
    await quiet;
  });

  it("drops a load that a newer one overtook", async () => {
    const answers: ((page: Page<string>) => void)[] = [];
    const list = inScope(() =>
      usePagedList(() => new Promise<Page<string>>((resolve) => answers.push(resolve))),
    );
    const first = list.reload();
    const second = list.reload();
    answers[1]?.({ items: ["new"], total: 1 });
    await second;
    answers[0]?.({ items: ["old"], total: 9 });
    await first;
    expect(list.items.value).toEqual(["new"]);
    expect(list.total.value).toBe(1);
  });

  it("goes back to page 1 when outside state the query reads changes", async () => {
    const tab = ref("mine");
    const seen: { page: number; tab: string }[] = [];
    const settled = vi.fn();
    const list = inScope(() =>
      usePagedList(
        async (q) => {
          seen.push({ page: q.page, tab: tab.value });
          return { items: [q.page], total: 100 };
        },
        { watch: [tab], onSettled: settled },
      ),
    );
    list.page.value = 4;
    await settle();
    tab.value = "all";
    await settle();
    expect(seen).toEqual([
      { page: 4, tab: "mine" },
      { page: 1, tab: "all" },
    ]);
    expect(list.last.value).toEqual({ items: [1], total: 100 });
    expect(settled).toHaveBeenCalledTimes(2);
  });
});
