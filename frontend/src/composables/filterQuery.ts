// Query parameters shared by the console's list filters.

/** since/until from <input type="datetime-local"> values (local time, no zone) as ISO 8601 instants. */
export function rangeQuery(since: string, until: string): { since?: string; until?: string } {
  const query: { since?: string; until?: string } = {};
  if (since) query.since = new Date(since).toISOString();
  if (until) query.until = new Date(until).toISOString();
  return query;
}

/** The branch filter's value as a query (absent for "all"). */
export function branchQuery(branchId: number | null): { branch_id?: string } {
  return branchId !== null ? { branch_id: String(branchId) } : {};
}
