// What every paged console list shares: the rows of the current page and the total, the pager's page,
// a loading flag, the failure text, and the filter form with the values the last search applied.
import { getCurrentInstance, onMounted, reactive, ref, shallowRef, watch, type Ref, type WatchSource } from "vue";
import { problemText } from "@/api/call";
import { i18n } from "@/locales";

/** One page of a list endpoint. */
export interface Page<T> {
  items: T[];
  total: number;
}

/** The paging half of a list endpoint's query. */
export interface PageQuery {
  page: number;
  page_size: number;
}

export interface PagedListOptions<F> {
  /** Rows a page (the endpoint's page_size); 20 unless told. */
  pageSize?: number;
  /** The filter form's empty values. */
  filters?: () => F;
  /** State outside the filter form that the query reads (props, tabs): a change reloads from page 1. */
  watch?: WatchSource[];
  /** Runs after each load settles, failed or not (e.g. to schedule the next poll). */
  onSettled?: () => void;
}

/**
 * A paged list. `fetchPage` gets the page and the filters the last `search()` applied (not what the form
 * holds now). It loads when the component mounts and whenever the page or a `watch` source changes. A
 * failed load keeps the rows it had and shows the problem's text; a load overtaken by a newer one is
 * dropped. `last` is the last page that arrived, for whatever else the endpoint sends with its rows.
 */
export function usePagedList<P extends Page<unknown>, F extends object = Record<string, never>>(
  fetchPage: (query: PageQuery, filters: F) => Promise<P>,
  options: PagedListOptions<F> = {},
) {
  const empty = options.filters ?? ((): F => ({}) as F);
  const pageSize = options.pageSize ?? 20;
  const items = ref([]) as Ref<P["items"]>;
  const last = shallowRef<P | null>(null);
  const total = ref(0);
  const page = ref(1);
  const loading = ref(false);
  const error = ref("");
  const filters = reactive(empty()) as F;
  const applied = shallowRef<F>({ ...filters });
  let latest = 0;

  /** Loads the current page again; `quiet` leaves the loading flag alone (a background refresh). */
  async function reload({ quiet = false }: { quiet?: boolean } = {}): Promise<void> {
    const mine = ++latest;
    if (!quiet) loading.value = true;
    try {
      const out = await fetchPage({ page: page.value, page_size: pageSize }, applied.value);
      if (mine !== latest) return;
      last.value = out;
      items.value = out.items;
      total.value = out.total;
      error.value = "";
    } catch (failure) {
      if (mine === latest) error.value = problemText(failure, i18n.global.t);
    } finally {
      if (mine === latest) {
        loading.value = false;
        options.onSettled?.();
      }
    }
  }

  /** Shows page `n` (the pager's v-model does the same). */
  function goTo(n: number): void {
    page.value = Math.max(1, Math.floor(n));
  }

  /** Applies what the filter form holds and shows the first page of the result. */
  function search(): Promise<void> {
    applied.value = { ...filters };
    if (page.value === 1) return reload();
    page.value = 1; // the watcher loads it
    return Promise.resolve();
  }

  /** Empties the filter form and searches again. */
  function reset(): Promise<void> {
    Object.assign(filters, empty());
    return search();
  }

  watch([page, ...(options.watch ?? [])], ([now], [before]) => {
    // an outside filter changed while on a later page: go back to the first, which loads it
    if (now === before && now !== 1) page.value = 1;
    else void reload();
  });
  if (getCurrentInstance()) onMounted(() => void reload());

  return { items, total, last, page, pageSize, loading, error, filters, applied, reload, goTo, search, reset };
}
