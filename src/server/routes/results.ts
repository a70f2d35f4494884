// A run's rows in pages (GET /api/runs/:run_id/results), one test whole
// (GET /api/runs/:run_id/results/:test_id) and a suite's trend from the index
// (GET /api/trends). A page of a run with a results digest (src/store/digest.ts)
// reads only the row chunks that hold its rows, so the first page of a
// 10,000-test run costs about what a 100-test run's does; a search, a test's
// history or a run without a fresh digest read every row once per ref tip.
import type { FastifyInstance } from 'fastify';
import { ResultsPage, ResultsQuery, TestDetail, TestParams, TrendsQuery, TrendsResponse } from '../../schemas/run-results.js';
import { RunParams } from '../../schemas/studio.js';
import { pageOf, pageResults, positionCursor, preview, readDigestRows, readInputs, readTrend, testDetail, withInputs, type DigestItem, type RowsPage, type Store } from '../../store/index.js';
import type { OpenRun, RunCache } from '../run-cache.js';
import { parseRequest, respond } from '../validate.js';
import type { IndexCache } from './runs.js';

function firstPage(items: DigestItem[], more: boolean, total: number) {
  return { items, next_cursor: more ? positionCursor(items.length - 1, items[items.length - 1]!.test_id) : null, total };
}

/** A page of rows: from the digest (reading only the page's row chunks) unless the query searches or the digest does not hold. */
async function pageRows(store: Store, run: OpenRun, query: ResultsQuery): Promise<RowsPage> {
  const q = query.q?.trim();
  const d = run.digest;
  if (d && !q) {
    // The first page in display order is the digest's first entries: no other entry is looked at.
    const first = !query.sort && !query.status && !query.cursor;
    const page = first ? firstPage(d.slice(0, query.limit), query.limit < d.size, d.size) : pageOf(d.items(), query);
    const rows = await readDigestRows(store, run.tree, run.runId, page.items);
    if (rows) return { rows, next_cursor: page.next_cursor, total: page.total };
  }
  const view = await run.full();
  // A search looks into inputs too: read them once for this (tip, run), not per page.
  if (q && !view.inputs) view.inputs = await readInputs(store, run.tree, view.current.flatMap((r) => (r.input_ref ? [r.input_ref] : [])));
  return pageResults(view, query);
}

export async function resultsRoutes(app: FastifyInstance, { store, cache, runs }: { store: Store; cache: IndexCache; runs: RunCache }) {
  app.get('/api/runs/:run_id/results', async (req) => {
    const { run_id } = parseRequest(RunParams, req.params, 'run id');
    const query = parseRequest(ResultsQuery, req.query, 'query');
    const run = await runs.get(run_id);
    const page = await pageRows(store, run, query);
    const results = (await withInputs(store, run.tree, page.rows)).map(preview);
    return respond(ResultsPage, { results, next_cursor: page.next_cursor, total: page.total });
  });

  app.get('/api/runs/:run_id/results/:test_id', async (req) => {
    const { run_id, test_id } = parseRequest(TestParams, req.params, 'test');
    const run = await runs.get(run_id);
    const { tree } = run;
    const d = testDetail(await run.full(), test_id, run.planned().has(test_id));
    const [result = null, ...history] = await withInputs(store, tree, [...(d.result ? [d.result] : []), ...d.history]);
    return respond(TestDetail, { run_id: d.run_id, test_id: d.test_id, result: d.result ? result : null, history: d.result ? history : [result!, ...history].filter(Boolean) });
  });

  app.get('/api/trends', async (req) => {
    const q = parseRequest(TrendsQuery, req.query, 'query');
    return respond(TrendsResponse, await readTrend(await cache.current(), q));
  });
}
