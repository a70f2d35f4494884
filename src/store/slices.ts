// Sharded runs (SPEC 3.9): each slice of a run writes only its own part,
// runs/<ab>/<cd>/<run>/shards/<I>-of-<N>/{manifest.json,rows/}, so N machines
// filling one run never write the same file and their histories merge as a
// plain union. The run's manifest.json is a projection of the parts, rewritten
// by every slice write and by every merge that joins parts: this module is that
// projection, a pure function of the parts (plus the planned set recorded
// before them), so whichever side computes it, it says the same.
import type { RunStatus } from '../schemas/common.js';
import type { Manifest, PlannedTest, RunCounts, RunEvent, SliceSummary } from '../schemas/manifest.js';
import { SLICES_DIR, parseSliceKey, runDir } from './layout.js';
import { MODE_DIR } from '../git/index.js';
import type { Store } from './store.js';

/** Slice parts present in a tree, by slice index (entries that are not slices are ignored). */
export async function slicePartOids(store: Store, tree: string, runId: string): Promise<{ key: string; index: number; count: number; oid: string }[]> {
  const entries = (await store.readTree(tree, `${runDir(runId)}/${SLICES_DIR}`)) ?? [];
  const out: { key: string; index: number; count: number; oid: string }[] = [];
  for (const e of entries) {
    const s = e.mode === MODE_DIR ? parseSliceKey(e.name) : null;
    if (s) out.push({ key: e.name, ...s, oid: e.oid });
  }
  return out.sort((a, b) => a.index - b.index);
}

/** Planned tests of `base` with every part's planned tests (a part's input_hash is its slice's current one). */
function plannedUnion(base: PlannedTest[], parts: Manifest[]): PlannedTest[] {
  const byId = new Map(base.map((p) => [p.test_id, p]));
  for (const part of parts) for (const p of part.planned_tests) byId.set(p.test_id, p);
  return [...byId.values()];
}

/** Sum of the parts' counts: slices are disjoint, so their counts add up. */
function sumCounts(parts: Manifest[]): RunCounts | null {
  const counted = parts.filter((p) => p.counts);
  if (!counted.length) return null;
  let completed = 0, passed = 0, failed = 0, errored = 0, scoreSum = 0;
  for (const { counts: c } of counted) {
    completed += c!.completed_count;
    passed += c!.passed;
    failed += c!.failed;
    errored += c!.errored;
    scoreSum += (c!.avg_score ?? 0) * c!.completed_count;
  }
  return { completed_count: completed, passed, failed, errored, pass_rate: completed ? passed / completed : null, avg_score: completed ? scoreSum / completed : null };
}

/**
 * The whole run's status from its slices: `running` while any slice runs;
 * `completed` once every slice has arrived and completed; otherwise the
 * slices' worst end (failed, then interrupted, then stopped), and `stopped`
 * when every slice present completed but some have not arrived (readers then
 * say the run is resumable because it is `incomplete`).
 */
export function sliceStatus(parts: Pick<Manifest, 'status'>[], count: number): RunStatus {
  const has = (s: RunStatus) => parts.some((p) => p.status === s);
  if (has('running')) return 'running';
  if (parts.length >= count && parts.every((p) => p.status === 'completed')) return 'completed';
  if (has('failed')) return 'failed';
  if (has('interrupted')) return 'interrupted';
  return 'stopped';
}

/**
 * The whole-run manifest of a sharded run: `base` (the run's manifest.json, or
 * the first slice's view of it) for what every slice shares (suite, target,
 * options, source), the planned set of all slices, and from the parts: status,
 * counts (summed), owner and host (of the first running slice), times, and
 * every slice's events (each naming its slice), oldest first.
 */
export function wholeManifest(base: Manifest, parts: Manifest[], count: number): Manifest {
  const sorted = [...parts].sort((a, b) => a.slice!.index - b.slice!.index);
  const status = sliceStatus(sorted, count);
  const running = sorted.find((p) => p.status === 'running');
  const first = running ?? sorted[0];
  const startedAt = [base.started_at, ...sorted.map((p) => p.started_at)].sort()[0]!;
  const ends = sorted.map((p) => p.finished_at).filter((x): x is string => x !== null).sort();
  const events: RunEvent[] = sorted
    .flatMap((p) => p.events.map((e) => ({ ...e, detail: `slice ${p.slice!.index}/${count}${e.detail ? `: ${e.detail}` : ''}` })))
    .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  const planned = plannedUnion(base.planned_tests, sorted);
  const arrived: SliceSummary[] = sorted.map((p) => ({
    index: p.slice!.index,
    status: p.status,
    host: p.host,
    started_at: p.started_at,
    finished_at: p.finished_at,
    planned_test_count: p.planned_test_count,
    completed_count: p.counts?.completed_count ?? 0,
  }));
  const { slice: _slice, ...rest } = base;
  return {
    ...rest,
    planned_tests: planned,
    planned_test_count: planned.length,
    started_at: startedAt,
    finished_at: status === 'running' ? null : (ends[ends.length - 1] ?? null),
    status,
    counts: sumCounts(sorted),
    owner: running?.owner ?? null,
    host: first?.host ?? base.host,
    events,
    slices: { count, arrived },
  };
}

/**
 * Why a slice cannot join a run (null when it can): the run must be split into
 * as many slices, of the same suite (suite_hash) and target (name and
 * configuration hash). SPEC 3.9: such slices are refused (exit 2).
 */
export function sliceMismatch(run: Manifest, part: Pick<Manifest, 'slice' | 'suite_hash' | 'target' | 'run_id'>): string | null {
  const id = run.run_id;
  const slice = part.slice!;
  if (!run.slices) return `run ${id} is not a sharded run; --shard ${slice.index}/${slice.count} cannot add a slice to it (start a new run with another --run-id)`;
  if (run.slices.count !== slice.count) return `run ${id} is split into ${run.slices.count} slices, not ${slice.count}: use --shard I/${run.slices.count}`;
  if (run.suite_hash !== part.suite_hash) {
    return `run ${id}: slice ${slice.index}/${slice.count} has a different suite (suite_hash ${part.suite_hash.slice(0, 12)}, the run's is ${run.suite_hash.slice(0, 12)}); every slice of one run must run the same suite`;
  }
  if (run.target.name !== part.target.name || run.target.config_hash !== part.target.config_hash) {
    return `run ${id}: slice ${slice.index}/${slice.count} has a different target (${part.target.name} ${part.target.config_hash.slice(0, 12)}, the run's is ${run.target.name} ${run.target.config_hash.slice(0, 12)}); every slice of one run must use the same target`;
  }
  return null;
}
