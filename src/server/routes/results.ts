// A run's rows in pages (GET /api/runs/:run_id/results), one test whole
// (GET /api/runs/:run_id/results/:test_id) and a suite's trend from the index
// (GET /api/trends). A page of a run with a results digest (src/store/digest.ts)
// reads only the row chunks that hold its rows, so the first page of a
// 10,000-test run costs about what a 100-test run's does; a search, a test's
// history or a run without a fresh digest read every row once per ref tip.
import type { FastifyInstance } from 'fastify';
import { ResultsPage, ResultsQuery, TestDetail, TestParams, TrendsQuery, TrendsResponse } from '../../schemas/run-results.js';
import { RunParams } from '../../schemas/studio.js';
import { AgentvError } from '../../errors.js';
import {
  currentRows,
  needsRecovery,
  pageOf,
  pageResults,
  preview,
  readDigest,
  readDigestRows,
  readInputs,
  readManifestAt,
  readRun,
  readTrend,
  recoverRun,
  testDetail,
  withInputs,
  type LoadedDigest,
  type RowsPage,
  type RunRowsView,
  type Store,
} from '../../store/index.js';
import { parseRequest, respond } from '../validate.js';
import type { IndexCache } from './runs.js';

interface Loaded {
  runId: string;
  planned: Set<string>;
  /** The tree the run was read at (rows and inputs are read at it too). */
  tree: string;
  /** The run's digest when it covers its rows: pages then read only their rows. */
  digest: LoadedDigest | null;
  /** Every row, read on first need (a search, a test's history, a digest that did not hold). */
  full(): Promise<RunRowsView>;
}

/** Recently opened runs, by (tip, run). */
class RunRowsCache {
  private map = new Map<string, Promise<Loaded>>();
  constructor(private readonly store: Store) {}

  async get(runId: string): Promise<Loaded> {
    let tip = await this.store.tip();
    const known = tip && this.map.get(`${tip.tree}\u0000${runId}`);
    if (known) return known;
    let manifest = tip ? await readManifestAt(this.store, tip.tree, runId) : null;
    if (!tip || !manifest) throw new AgentvError('RUN_NOT_FOUND', `run ${runId} not found`, { run_id: runId });
    // Rows a dead owner left in its journal are committed first, as the run page does.
    if (needsRecovery(this.store, manifest) && (await recoverRun({ store: this.store, runId }))) {
      tip = (await this.store.tip())!;
      manifest = (await readManifestAt(this.store, tip.tree, runId)) ?? manifest;
    }
    const tree = tip.tree;
    const key = `${tree}\u0000${runId}`;
    let hit = this.map.get(key);
    if (!hit) {
      const order = new Map(manifest.planned_tests.map((p, i) => [p.test_id, i]));
      let full: Promise<RunRowsView> | null = null;
      const loadFull = async (): Promise<RunRowsView> => {
        const run = await readRun({ store: this.store, runId, tree });
        const current = [...currentRows(run.rows).values()].sort(
          (a, b) => (order.get(a.test_id) ?? Infinity) - (order.get(b.test_id) ?? Infinity) || (a.test_id < b.test_id ? -1 : 1),
        );
        return { runId, current, all: run.rows };
      };
      hit = readDigest(this.store, tree, runId).then((digest) => ({
        runId,
        planned: new Set(order.keys()),
        tree,
        digest,
        full: () => {
          full ??= loadFull();
          full.catch(() => (full = null));
          return full;
        },
      }));
      hit.catch(() => this.map.delete(key));
      this.map.set(key, hit);
      if (this.map.size > 16) this.map.delete(this.map.keys().next().value!);
    }
    return hit;
  }
}

/** A page of rows: from the digest (reading only the page's row chunks) unless the query searches or the digest does not hold. */
async function pageRows(store: Store, run: Loaded, query: ResultsQuery): Promise<RowsPage> {
  const q = query.q?.trim();
  if (run.digest && !q) {
    const page = pageOf(run.digest.items, query);
    const rows = await readDigestRows(store, run.tree, run.runId, page.items);
    if (rows) return { rows, next_cursor: page.next_cursor, total: page.total };
  }
  const view = await run.full();
  // A search looks into inputs too: read them once for this (tip, run), not per page.
  if (q && !view.inputs) view.inputs = await readInputs(store, run.tree, view.current.flatMap((r) => (r.input_ref ? [r.input_ref] : [])));
  return pageResults(view, query);
}

export async function resultsRoutes(app: FastifyInstance, { store, cache }: { store: Store; cache: IndexCache }) {
  const rows = new RunRowsCache(store);

  app.get('/api/runs/:run_id/results', async (req) => {
    const { run_id } = parseRequest(RunParams, req.params, 'run id');
    const query = parseRequest(ResultsQuery, req.query, 'query');
    const run = await rows.get(run_id);
    const page = await pageRows(store, run, query);
    const results = (await withInputs(store, run.tree, page.rows)).map(preview);
    return respond(ResultsPage, { results, next_cursor: page.next_cursor, total: page.total });
  });

  app.get('/api/runs/:run_id/results/:test_id', async (req) => {
    const { run_id, test_id } = parseRequest(TestParams, req.params, 'test');
    const run = await rows.get(run_id);
    const { planned, tree } = run;
    const d = testDetail(await run.full(), test_id, planned.has(test_id));
    const [result = null, ...history] = await withInputs(store, tree, [...(d.result ? [d.result] : []), ...d.history]);
    return respond(TestDetail, { run_id: d.run_id, test_id: d.test_id, result: d.result ? result : null, history: d.result ? history : [result!, ...history].filter(Boolean) });
  });

  app.get('/api/trends', async (req) => {
    const q = parseRequest(TrendsQuery, req.query, 'query');
    return respond(TrendsResponse, await readTrend(await cache.current(), q));
  });
}
