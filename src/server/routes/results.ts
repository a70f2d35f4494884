// A run's rows in pages (GET /api/runs/:run_id/results), one test whole
// (GET /api/runs/:run_id/results/:test_id) and a suite's trend from the index
// (GET /api/trends). A run's rows are read once per ref tip and kept for the
// next pages, so paging a 10,000-test run does not re-read it per page.
import type { FastifyInstance } from 'fastify';
import { ResultsPage, ResultsQuery, TestDetail, TestParams, TrendsQuery, TrendsResponse } from '../../schemas/run-results.js';
import { RunParams } from '../../schemas/studio.js';
import { AgentvError } from '../../errors.js';
import { currentRows, needsRecovery, pageResults, preview, readInputs, readManifestAt, readRun, readTrend, recoverRun, testDetail, withInputs, type RunRowsView, type Store } from '../../store/index.js';
import { parseRequest, respond } from '../validate.js';
import type { IndexCache } from './runs.js';

interface Loaded {
  view: RunRowsView;
  planned: Set<string>;
  /** The tree the rows were read at (their inputs are read at it too). */
  tree: string;
}

/** Parsed rows of recently read runs, by (tip, run). */
class RunRowsCache {
  private map = new Map<string, Promise<Loaded>>();
  constructor(private readonly store: Store) {}

  async get(runId: string): Promise<Loaded> {
    let tip = await this.store.tip();
    const known = tip && this.map.get(`${tip.tree}\u0000${runId}`);
    if (known) return known;
    const manifest = tip ? await readManifestAt(this.store, tip.tree, runId) : null;
    if (!tip || !manifest) throw new AgentvError('RUN_NOT_FOUND', `run ${runId} not found`, { run_id: runId });
    // Rows a dead owner left in its journal are committed first, as the run page does.
    if (needsRecovery(this.store, manifest) && (await recoverRun({ store: this.store, runId }))) tip = (await this.store.tip())!;
    const tree = tip.tree;
    const key = `${tree}\u0000${runId}`;
    let hit = this.map.get(key);
    if (!hit) {
      hit = (async () => {
        const run = await readRun({ store: this.store, runId, tree });
        const cur = currentRows(run.rows);
        const order = new Map(run.manifest.planned_tests.map((p, i) => [p.test_id, i]));
        const current = [...cur.values()].sort(
          (a, b) => (order.get(a.test_id) ?? Infinity) - (order.get(b.test_id) ?? Infinity) || (a.test_id < b.test_id ? -1 : 1),
        );
        return { view: { runId, current, all: run.rows }, planned: new Set(order.keys()), tree };
      })();
      hit.catch(() => this.map.delete(key));
      this.map.set(key, hit);
      if (this.map.size > 16) this.map.delete(this.map.keys().next().value!);
    }
    return hit;
  }
}

export async function resultsRoutes(app: FastifyInstance, { store, cache }: { store: Store; cache: IndexCache }) {
  const rows = new RunRowsCache(store);

  app.get('/api/runs/:run_id/results', async (req) => {
    const { run_id } = parseRequest(RunParams, req.params, 'run id');
    const query = parseRequest(ResultsQuery, req.query, 'query');
    const { view, tree } = await rows.get(run_id);
    // A search looks into inputs too: read them once for this (tip, run), not per page.
    if (query.q?.trim() && !view.inputs) view.inputs = await readInputs(store, tree, view.current.flatMap((r) => (r.input_ref ? [r.input_ref] : [])));
    const page = pageResults(view, query);
    const results = (await withInputs(store, tree, page.rows)).map(preview);
    return respond(ResultsPage, { results, next_cursor: page.next_cursor, total: page.total });
  });

  app.get('/api/runs/:run_id/results/:test_id', async (req) => {
    const { run_id, test_id } = parseRequest(TestParams, req.params, 'test');
    const { view, planned, tree } = await rows.get(run_id);
    const d = testDetail(view, test_id, planned.has(test_id));
    const [result = null, ...history] = await withInputs(store, tree, [...(d.result ? [d.result] : []), ...d.history]);
    return respond(TestDetail, { run_id: d.run_id, test_id: d.test_id, result: d.result ? result : null, history: d.result ? history : [result!, ...history].filter(Boolean) });
  });

  app.get('/api/trends', async (req) => {
    const q = parseRequest(TrendsQuery, req.query, 'query');
    return respond(TrendsResponse, await readTrend(await cache.current(), q));
  });
}
