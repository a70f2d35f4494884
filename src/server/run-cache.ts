// Runs Studio opened recently, by (tip, run): the manifest and results digest
// read once, shared by the run document (GET /api/runs/:id?results=false) and
// its results pages, so opening a run reads each once; every row is read only
// when a request needs them (a search, a test's history, no usable digest).
import { currentRows, needsRecovery, openRun, readRun, type OpenedRun, type RunRowsView, type Store } from '../store/index.js';

export interface OpenRun extends OpenedRun {
  /** The planned test ids (made on first call: the run's first requests do not need them). */
  planned(): Set<string>;
  /** Every row, read on first need and kept with the entry. */
  full(): Promise<RunRowsView>;
}

export class RunCache {
  private map = new Map<string, Promise<OpenRun>>();
  constructor(private readonly store: Store, private readonly size = 16) {}

  async get(runId: string): Promise<OpenRun> {
    const tip = await this.store.tip();
    const at = `${tip?.tree ?? ''}\u0000${runId}`;
    const known = this.map.get(at);
    if (known) {
      const run = await known;
      // Its owner died since it was opened (same tip): open it again, which commits the journaled rows.
      if (!needsRecovery(this.store, run.manifest)) return run;
      if (this.map.get(at) === known) this.map.delete(at);
    }
    // Concurrent requests for the run share one opening.
    const opening = openRun({ store: this.store, runId }).then((o) => this.entry(o));
    this.put(at, opening);
    const run = await opening;
    // Opening committed a dead owner's journaled rows: the tip moved, and the entry is the new tip's too.
    if (run.tree !== tip?.tree) this.put(`${run.tree}\u0000${runId}`, opening);
    return run;
  }

  private put(key: string, p: Promise<OpenRun>): void {
    this.map.set(key, p);
    p.catch(() => this.map.get(key) === p && this.map.delete(key));
    if (this.map.size > this.size) this.map.delete(this.map.keys().next().value!);
  }

  private entry(o: OpenedRun): OpenRun {
    let full: Promise<RunRowsView> | null = null;
    let planned: Set<string> | null = null;
    const loadFull = async (): Promise<RunRowsView> => {
      const order = new Map(o.manifest.planned_tests.map((p, i) => [p.test_id, i]));
      const run = await readRun({ store: this.store, runId: o.runId, tree: o.tree });
      const current = [...currentRows(run.rows).values()].sort(
        (a, b) => (order.get(a.test_id) ?? Infinity) - (order.get(b.test_id) ?? Infinity) || (a.test_id < b.test_id ? -1 : 1),
      );
      return { runId: o.runId, current, all: run.rows };
    };
    return {
      ...o,
      planned: () => (planned ??= new Set(o.manifest.planned_tests.map((p) => p.test_id))),
      full: () => {
        full ??= loadFull();
        full.catch(() => (full = null));
        return full;
      },
    };
  }
}
