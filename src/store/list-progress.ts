// A running run's progress for a list page. Its index row and manifest counts
// are written when it starts and when it ends; in between its rows are appended
// alone, so a list counts a running run from its rows, by the one counting
// function (countsOf). Loaded by list.ts only when a page holds a running run,
// so a list of finished runs reads no manifest and loads no schema.
import type { RunSummary } from '../schemas/summary.js';
import { countsOf, currentRows, readManifestAt, readRowsAt, type KnownChunks } from './runs.js';
import type { Store } from './store.js';

/** `s` with its counts from the run's rows at `tree`; `known` (chunks by blob id) spares re-parsing chunks an earlier page read. */
export async function progressOf(store: Store, tree: string, s: RunSummary, known?: KnownChunks): Promise<RunSummary> {
  try {
    const m = await readManifestAt(store, tree, s.run_id);
    if (!m || m.status !== 'running' || m.slices) return s;
    const { rows } = await readRowsAt(store, tree, s.run_id, null, known);
    const c = countsOf(m.planned_tests, currentRows(rows));
    return Object.assign({}, s, { passed: c.passed, failed: c.failed, errored: c.errored, pass_rate: c.pass_rate, avg_score: c.avg_score });
  } catch {
    return s; // a damaged run still lists, from its index row; fsck names the damage
  }
}
