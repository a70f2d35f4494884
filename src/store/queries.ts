// The read side used by `runs list`, `runs show` and Studio: pages from the
// committed index (no per-run reads), one run's detail with resume facts.
import { AgentvError } from '../errors.js';
import { RunDetailResponse, RunsListQuery, type ResumeReason, type RunsListResponse } from '../schemas/api.js';
import type { Manifest } from '../schemas/manifest.js';
import type { Row } from '../schemas/row.js';
import type { RunSummary } from '../schemas/summary.js';
import { withInputs } from './inputs.js';
import { commitFilter } from './link.js';
import { effectiveStatus, needsRecovery, recoverRun } from './recover.js';
import { IndexView, readPage } from './run-index.js';
import { countsOf, currentRows, readManifestAt, readRowsAt, readRun, type KnownChunks } from './runs.js';
import { metricsOf, readDigest } from './digest.js';
import { outcomeOf } from './tally.js';
import type { Store } from './store.js';

/**
 * A page of runs, newest first. Pass `view` to reuse chunk caches across calls
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
  const parsed = RunsListQuery.safeParse(query);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new AgentvError('USAGE', `${issue.path.join('.') || 'query'}: ${issue.message}`, { issues: parsed.error.issues });
  }
  const q = parsed.data;
  let v = view;
  if (!v) {
    const tip = await store.tip();
    if (!tip) return { runs: [], next_cursor: null, total: 0 };
    v = new IndexView(store, tip.tree);
  }
  const live = (s: RunSummary): RunSummary => {
    const status = s.status === 'running' ? effectiveStatus(store, s) : s.status;
    return { ...s, status, outcome: outcomeOf({ ...s, status }) };
  };
  // --commit also finds runs linked to the commit by trailer or note (link.ts).
  const ofCommit = q.commit ? await commitFilter({ store, rev: q.commit }) : null;
  const filter =
    q.suite || q.target || q.status || ofCommit
      ? (s: RunSummary) =>
          (!q.suite || s.suite === q.suite) &&
          (!q.target || s.target === q.target) &&
          (!ofCommit || ofCommit(s)) &&
          (!q.status || live(s).status === q.status)
      : undefined;
  const page = await readPage(v, { limit: q.limit, cursor: q.cursor, filter });
  const at = v;
  const runs = await Promise.all(page.runs.map(async (s) => live(s.status === 'running' ? await progressOf(store, at.tree, s, known) : s)));
  return { runs, next_cursor: page.nextCursor, total: filter ? null : await at.count() };
}

/**
 * A running run's index row and manifest counts are written when it starts and
 * when it ends; in between its rows are appended alone. A list shows a running
 * run's progress from its rows, counted by the one counting function (countsOf).
 * `known` (chunks by blob id) spares re-parsing the chunks a previous page read.
 */
async function progressOf(store: Store, tree: string, s: RunSummary, known?: KnownChunks): Promise<RunSummary> {
  try {
    const m = await readManifestAt(store, tree, s.run_id);
    if (!m || m.status !== 'running' || m.slices) return s;
    const { rows } = await readRowsAt(store, tree, s.run_id, null, known);
    const c = countsOf(m.planned_tests, currentRows(rows));
    return { ...s, passed: c.passed, failed: c.failed, errored: c.errored, pass_rate: c.pass_rate, avg_score: c.avg_score };
  } catch {
    return s; // a damaged run still lists, from its index row; fsck names the damage
  }
}

export interface ResumeFacts {
  isResumable: boolean;
  reason: ResumeReason | null;
  missing: string[];
  errored: string[];
}

/** Whether a run has work left, and why (the `resume_reason` of the API). */
export function resumeFacts(m: Manifest, status: Manifest['status'], current: Map<string, Pick<Row, 'execution_status'>>): ResumeFacts {
  const missing: string[] = [];
  const errored: string[] = [];
  for (const p of m.planned_tests) {
    const r = current.get(p.test_id);
    if (!r) missing.push(p.test_id);
    else if (r.execution_status === 'execution_error') errored.push(p.test_id);
  }
  const work = missing.length + errored.length > 0;
  if (status === 'running' || !work) return { isResumable: false, reason: null, missing, errored };
  // A sharded run with tests missing is `incomplete` whatever its slices' ends: a slice is still to come or to resume.
  const reason: ResumeReason =
    m.slices && missing.length
      ? 'incomplete'
      : status === 'interrupted' ? 'interrupted' : status === 'stopped' ? 'stopped' : missing.length ? 'incomplete' : 'execution_errors';
  return { isResumable: true, reason, missing, errored };
}

/** What a run's facts need of a test's current row. */
type CurrentFacts = Pick<Row, 'execution_status' | 'passed' | 'score'>;

/** The run document's fields computed from the current rows (or the digest's view of them). */
function runFacts(manifest: Manifest, status: Manifest['status'], current: Map<string, CurrentFacts>) {
  const facts = resumeFacts(manifest, status, current);
  // Counts from the rows as they are now: a running run's manifest has none yet.
  const counts = countsOf(manifest.planned_tests, current);
  return {
    run: { ...manifest, status, counts, outcome: outcomeOf({ status, planned_test_count: manifest.planned_test_count, ...counts }) },
    planned_test_count: manifest.planned_test_count,
    is_resumable: facts.isResumable,
    resume_reason: facts.reason,
    has_not_ok: manifest.planned_tests.some((p) => current.get(p.test_id)?.execution_status !== 'ok'),
    missing_test_ids: facts.missing,
    events: manifest.events,
  };
}

/**
 * One run: manifest, current row per test (planned order first), resume facts.
 * Commits rows a dead owner left in its journal first, so nothing finished is hidden.
 * Without results, a run whose digest covers its rows is answered from the
 * manifest and the digest alone: no row is read, however many tests it has.
 */
export async function showRun({
  store,
  runId,
  history = false,
  onWarning,
  results: withResults = true,
}: {
  store: Store;
  runId: string;
  history?: boolean;
  /** Told what recovery could not read (damaged journal lines); also recorded in the run's events. */
  onWarning?: (message: string) => void;
  /** false: leave rows out (a page that pages them); counts, facts and missing ids still come from them. */
  results?: boolean;
}): Promise<RunDetailResponse> {
  if (!withResults) {
    const tip = await store.tip();
    const manifest = tip ? await readManifestAt(store, tip.tree, runId) : null;
    if (!tip || !manifest) throw new AgentvError('RUN_NOT_FOUND', `run ${runId} not found`, { run_id: runId });
    const digest = needsRecovery(store, manifest) ? null : await readDigest(store, tip.tree, runId);
    if (digest) {
      const current = new Map(digest.items.map((i) => [i.test_id, i]));
      return RunDetailResponse.parse({ ...runFacts(manifest, effectiveStatus(store, manifest), current), results: [], metrics: digest.metrics });
    }
  }
  let run = await readRun({ store, runId });
  if (needsRecovery(store, run.manifest)) {
    const recovery = await recoverRun({ store, runId });
    if (recovery?.warning) onWarning?.(recovery.warning);
    if (recovery) run = await readRun({ store, runId });
  }
  const { manifest, rows } = run;
  const status = effectiveStatus(store, manifest);
  const current = currentRows(rows);
  const order = new Map(manifest.planned_tests.map((p, i) => [p.test_id, i]));
  const results = [...current.values()].sort(
    (a, b) => (order.get(a.test_id) ?? Infinity) - (order.get(b.test_id) ?? Infinity) || (a.test_id < b.test_id ? -1 : 1),
  );
  const currentSet = new Set(results);
  // Inputs are content-addressed and never removed, so any tip at or after the read has them.
  const tree = withResults ? (await store.tip())!.tree : '';
  return RunDetailResponse.parse({
    ...runFacts(manifest, status, current),
    results: withResults ? await withInputs(store, tree, results) : [],
    ...(history && withResults ? { history: await withInputs(store, tree, rows.filter((r) => !currentSet.has(r))) } : {}),
    metrics: metricsOf(manifest.planned_tests, current),
  });
}

