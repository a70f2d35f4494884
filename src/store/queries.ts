// The read side used by `runs show` and Studio: one run's detail with resume
// facts. Listing (a page of the index) is list.ts, kept apart so that
// `runs list` loads none of the manifest, row and input readers below.
import { AgentvError } from '../errors.js';
import type { ResumeReason, RunDetailResponse } from '../schemas/api.js';
import type { Manifest } from '../schemas/manifest.js';
import type { RowWithInput } from '../schemas/input.js';
import type { Row } from '../schemas/row.js';
import { withInputs } from './inputs.js';
import { effectiveStatus } from './owner.js';
import { needsRecovery } from './recovery-check.js';
import { currentRows, readManifestAt, readRun } from './runs.js';
import { metricsOf, planFacts, readDigest, type LoadedDigest, type PlanFacts } from './digest.js';
import { outcomeOf } from './tally.js';
import type { Store } from './store.js';

export { listRuns } from './list.js';

/** Recovery writes (rows, manifest, index): loaded only for a run that has something to recover. */
async function recover(store: Store, runId: string) {
  return (await import('./recover.js')).recoverRun({ store, runId });
}

export interface ResumeFacts {
  isResumable: boolean;
  reason: ResumeReason | null;
  missing: string[];
  errored: string[];
}

/** Why a run with `missing` tests and `errored` errored ones can be resumed, or null while it runs or has no work left. */
function resumeReasonOf(m: Manifest, status: Manifest['status'], missing: number, errored: number): ResumeReason | null {
  if (status === 'running' || missing + errored === 0) return null;
  // A sharded run with tests missing is `incomplete` whatever its slices' ends: a slice is still to come or to resume.
  if (m.slices && missing) return 'incomplete';
  return status === 'interrupted' ? 'interrupted' : status === 'stopped' ? 'stopped' : missing ? 'incomplete' : 'execution_errors';
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
  const reason = resumeReasonOf(m, status, missing.length, errored.length);
  return { isResumable: reason !== null, reason, missing, errored };
}

/**
 * The run document (RunDetailResponse, keys in its order) from the planned tests' facts (from the
 * current rows, or as the digest carries them). Built from values the readers checked, each
 * what its schema's parse returns, so it is not parsed again (that would load zod for `runs show`).
 */
function runDocument(
  manifest: Manifest,
  status: Manifest['status'],
  facts: PlanFacts,
  rows: { results: RowWithInput[]; history?: RowWithInput[]; metrics: RunDetailResponse['metrics'] },
): RunDetailResponse {
  // Counts from the rows as they are now: a running run's manifest has none yet.
  const { counts } = facts;
  const reason = resumeReasonOf(manifest, status, facts.missing.length, facts.errored);
  return {
    run: { ...manifest, status, counts, outcome: outcomeOf({ status, planned_test_count: manifest.planned_test_count, ...counts }) },
    results: rows.results,
    ...(rows.history && { history: rows.history }),
    planned_test_count: manifest.planned_test_count,
    is_resumable: reason !== null,
    resume_reason: reason,
    has_not_ok: facts.not_ok > 0,
    missing_test_ids: facts.missing,
    metrics: rows.metrics,
    events: manifest.events,
  };
}

/** A run as read at one tree: its manifest, and its results digest when that covers its rows. */
export interface OpenedRun {
  runId: string;
  tree: string;
  manifest: Manifest;
  digest: LoadedDigest | null;
}

/**
 * Open a run at the tip: commits rows a dead owner left in its journal first
 * (as every reader of the run does), then reads its manifest and digest. Studio
 * keeps the result per (tip, run), so the run document and the first results
 * page read the manifest and the digest once.
 */
export async function openRun({ store, runId, onWarning }: { store: Store; runId: string; onWarning?: (message: string) => void }): Promise<OpenedRun> {
  let tip = await store.tip();
  let manifest = tip ? await readManifestAt(store, tip.tree, runId) : null;
  if (!tip || !manifest) throw new AgentvError('RUN_NOT_FOUND', `run ${runId} not found`, { run_id: runId });
  if (needsRecovery(store, manifest)) {
    const recovery = await recover(store, runId);
    if (recovery?.warning) onWarning?.(recovery.warning);
    if (recovery) {
      tip = (await store.tip())!;
      manifest = (await readManifestAt(store, tip.tree, runId)) ?? manifest;
    }
  }
  // A run still to be recovered (its owner's journal unreadable here) is read from its rows.
  const digest = needsRecovery(store, manifest) ? null : await readDigest(store, tip.tree, runId);
  return { runId, tree: tip.tree, manifest, digest };
}

/**
 * One run: manifest, current row per test (planned order first), resume facts.
 * Commits rows a dead owner left in its journal first, so nothing finished is hidden.
 * Without results, a run whose digest covers its rows is answered from the
 * manifest and the digest alone: no row is read, however many tests it has
 * (`opened`: the run as the caller already opened it at the tip).
 */
export async function showRun({
  store,
  runId,
  history = false,
  onWarning,
  results: withResults = true,
  opened,
}: {
  store: Store;
  runId: string;
  history?: boolean;
  /** Told what recovery could not read (damaged journal lines); also recorded in the run's events. */
  onWarning?: (message: string) => void;
  /** false: leave rows out (a page that pages them); counts, facts and missing ids still come from them. */
  results?: boolean;
  opened?: OpenedRun;
}): Promise<RunDetailResponse> {
  if (!withResults) {
    const { manifest, digest } = opened ?? (await openRun({ store, runId, onWarning }));
    if (digest) {
      return runDocument(manifest, effectiveStatus(store, manifest), digest.facts, { results: [], metrics: digest.metrics });
    }
  }
  let run = await readRun({ store, runId });
  if (needsRecovery(store, run.manifest)) {
    const recovery = await recover(store, runId);
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
  return runDocument(manifest, status, planFacts(manifest.planned_tests, current), {
    results: withResults ? await withInputs(store, tree, results) : [],
    history: history && withResults ? await withInputs(store, tree, rows.filter((r) => !currentSet.has(r))) : undefined,
    metrics: metricsOf(manifest.planned_tests, current),
  });
}

