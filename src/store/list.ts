// `runs list` and GET /api/runs: a page of the committed index (no per-run
// reads). What this module imports is what listing loads: no zod (index rows
// and the query are read by summary-check.ts; the schemas load only to explain
// a value those readers decline), no manifests, no journals.
import { AgentvError } from '../errors.js';
import type { RunsListQuery, RunsListResponse } from '../schemas/api.js';
import type { RunSummary } from '../schemas/summary.js';
import { effectiveStatus } from './owner.js';
import { IndexView, readPage } from './run-index.js';
import { quickListQuery } from './summary-check.js';
import { outcomeOf } from './tally.js';
import type { KnownChunks } from './runs.js';
import type { Store } from './store.js';

/** The query, validated and coerced; a USAGE error names the first problem. */
async function parseQuery(query: Record<string, unknown>): Promise<RunsListQuery> {
  const quick = quickListQuery(query);
  if (quick) return quick;
  const parsed = (await import('../schemas/api.js')).RunsListQuery.safeParse(query);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new AgentvError('USAGE', `${issue.path.join('.') || 'query'}: ${issue.message}`, { issues: parsed.error.issues });
}

/** Running runs' progress counted at one tree, per store (the latest tree only). */
const counts = new WeakMap<Store, { tree: string; runs: Map<string, Promise<RunSummary>> }>();

function countedAt(store: Store, tree: string): Map<string, Promise<RunSummary>> {
  let c = counts.get(store);
  if (!c || c.tree !== tree) counts.set(store, (c = { tree, runs: new Map() }));
  return c.runs;
}

/**
 * A page of runs, newest first (oldest first with `sort: 'started_at'`). Pass `view` to reuse chunk caches across calls
 * on the same tip (Studio does).
 * @example await listRuns({ store, query: { limit: 50 } })
 */
export async function listRuns({
  store,
  query,
  view,
  known,
}: {
  store: Store;
  // Raw values (strings from argv or a querystring) are validated and coerced here.
  query: Record<string, unknown>;
  view?: IndexView;
  /** Row chunks already parsed, by blob id (Studio keeps one across requests). */
  known?: KnownChunks;
}): Promise<RunsListResponse> {
  const q = await parseQuery(query);
  let v = view;
  if (!v) {
    const tip = await store.tip();
    if (!tip) return { runs: [], next_cursor: null, total: 0 };
    v = new IndexView(store, tip.tree);
  }
  // A running run's status is its owner's liveness (a lock file read): once per run per call.
  const liveStatus = new Map<string, RunSummary['status']>();
  const statusOf = (s: RunSummary): RunSummary['status'] => {
    if (s.status !== 'running') return s.status;
    let status = liveStatus.get(s.run_id);
    if (!status) liveStatus.set(s.run_id, (status = effectiveStatus(store, s)));
    return status;
  };
  const live = (s: RunSummary): RunSummary => {
    const status = statusOf(s);
    const withStatus = Object.assign({}, s, { status });
    return Object.assign(withStatus, { outcome: outcomeOf(withStatus) });
  };
  // --commit also finds runs linked to the commit by trailer or note (link.ts).
  const ofCommit = q.commit ? await (await import('./link.js')).commitFilter({ store, rev: q.commit }) : null;
  const filter =
    q.suite || q.target || q.status || ofCommit
      ? (s: RunSummary) =>
          (!q.suite || s.suite === q.suite) &&
          (!q.target || s.target === q.target) &&
          (!ofCommit || ofCommit(s)) &&
          (!q.status || statusOf(s) === q.status)
      : undefined;
  const page = await readPage(v, { limit: q.limit, cursor: q.cursor, filter, asc: q.sort === 'started_at' });
  // A running run is counted from its rows (list-progress.ts, loaded only when a page holds one),
  // once per tree: a repeated page at an unchanged tip reads nothing again.
  const at = v;
  const progress = page.runs.some((s) => s.status === 'running') ? (await import('./list-progress.js')).progressOf : null;
  const memo = progress ? countedAt(store, at.tree) : null;
  const counted = (s: RunSummary) => {
    let p = memo!.get(s.run_id);
    if (!p) memo!.set(s.run_id, (p = progress!(store, at.tree, s, known)));
    return p;
  };
  const runs = await Promise.all(page.runs.map(async (s) => live(progress && s.status === 'running' ? await counted(s) : s)));
  return { runs, next_cursor: page.nextCursor, total: filter ? null : await at.count() };
}
