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
import { countsOf, currentRows, readRun } from './runs.js';
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
}: {
  store: Store;
  // Raw values (strings from argv or a querystring) are validated and coerced here.
  query: Record<string, unknown>;
  view?: IndexView;
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
  return { runs: page.runs.map(live), next_cursor: page.nextCursor, total: filter ? null : await v.count() };
}

export interface ResumeFacts {
  isResumable: boolean;
  reason: ResumeReason | null;
  missing: string[];
  errored: string[];
}

/** Whether a run has work left, and why (the `resume_reason` of the API). */
export function resumeFacts(m: Manifest, status: Manifest['status'], current: Map<string, Row>): ResumeFacts {
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

/**
 * One run: manifest, current row per test (planned order first), resume facts.
 * Commits rows a dead owner left in its journal first, so nothing finished is hidden.
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
  const facts = resumeFacts(manifest, status, current);
  // Counts from the rows as they are now: a running run's manifest has none yet.
  const counts = countsOf(manifest.planned_tests, current);
  const hasNotOk = manifest.planned_tests.some((p) => current.get(p.test_id)?.execution_status !== 'ok');
  // Inputs are content-addressed and never removed, so any tip at or after the read has them.
  const tree = withResults ? (await store.tip())!.tree : '';
  return RunDetailResponse.parse({
    run: { ...manifest, status, counts, outcome: outcomeOf({ status, planned_test_count: manifest.planned_test_count, ...counts }) },
    results: withResults ? await withInputs(store, tree, results) : [],
    ...(history && withResults ? { history: await withInputs(store, tree, rows.filter((r) => !currentSet.has(r))) } : {}),
    planned_test_count: manifest.planned_test_count,
    is_resumable: facts.isResumable,
    resume_reason: facts.reason,
    has_not_ok: hasNotOk,
    metrics: metricsOf(manifest.planned_tests, current),
    missing_test_ids: facts.missing,
    events: manifest.events,
  });
}

/** Aggregates per named metric over the current rows of the planned tests. */
export function metricsOf(planned: { test_id: string }[], current: Map<string, Row>) {
  const by = new Map<string, { metric: string; passed: number; total: number; sum: number }>();
  for (const p of planned) {
    for (const a of current.get(p.test_id)?.assertions ?? []) {
      if (!a.metric) continue;
      const m = by.get(a.metric) ?? { metric: a.metric, passed: 0, total: 0, sum: 0 };
      m.total++;
      m.sum += a.score;
      if (a.passed) m.passed++;
      by.set(a.metric, m);
    }
  }
  return [...by.values()].map(({ sum, ...m }) => ({ ...m, avg_score: m.total ? sum / m.total : 0 }));
}
