// Studio's paged reads: a run's results in pages with filters, search, sort and
// a keyset cursor; one test whole; trends from the index; totals; run detail
// without rows; and the Origin rule (scheme, host and port).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { cleanupRepos, makeRepo } from '../helpers/repo.js';
import { makeManifest, makeRow } from '../helpers/runs.js';
import { CLI } from '../helpers/proc.js';
import { buildApp } from '../../src/server/app.js';
import { createRun, finishRun, openStore, updateRun, type Store } from '../../src/store/index.js';

let store: Store;
let app: FastifyInstance;
const N = 2000;

/** Test i: passes unless i % 10 == 3 (failure) or i % 10 == 7 (error); score and duration vary with i. */
function rowOf(i: number) {
  const id = `t${i + 1}`;
  const kind = i % 10 === 3 ? 'fail' : i % 10 === 7 ? 'error' : 'ok';
  return makeRow(id, {
    execution_status: kind === 'ok' ? 'ok' : kind === 'fail' ? 'quality_failure' : 'execution_error',
    passed: kind === 'ok',
    score: kind === 'ok' ? 1 : (i % 97) / 100,
    duration_ms: (i * 37) % 1000,
    output: i === 5 ? `needle ${'x'.repeat(5000)}` : `out ${id}`,
    error: kind === 'error' ? `exit 3 in ${'/home/someone/secret'}` : null,
    assertions:
      kind === 'fail'
        ? [{ type: 'contains', passed: false, score: 0, reason: 'expected haystack', metric: 'accuracy' }]
        : kind === 'ok'
          ? [{ type: 'contains', passed: true, score: 1, reason: null, metric: 'accuracy' }]
          : [],
  });
}

beforeAll(async () => {
  const dir = makeRepo();
  store = await openStore({ repoDir: dir });
  await createRun({ store, manifest: makeManifest('big1', { tests: N, suite: { name: 'big', path: 'big.yaml' } }) });
  await updateRun({ store, runId: 'big1', update: { subject: 'rows', rows: Array.from({ length: N }, (_, i) => rowOf(i)) } });
  // An earlier attempt of t1, superseded.
  await updateRun({ store, runId: 'big1', update: { subject: 'retry', rows: [makeRow('t1', { attempt: 2, output: 'second' })] } });
  await finishRun({ store, runId: 'big1', status: 'completed' });
  for (let i = 2; i <= 6; i++) {
    await createRun({ store, manifest: makeManifest(`s${i}`, { tests: 4, suite: { name: i % 2 ? 'odd' : 'even', path: 'x.yaml' } }) });
    await updateRun({ store, runId: `s${i}`, update: { subject: 'rows', rows: ['t1', 't2', 't3', 't4'].slice(0, i % 4 + 1).map((t) => makeRow(t, { passed: t !== 't2', execution_status: t !== 't2' ? 'ok' : 'quality_failure' })) } });
    await finishRun({ store, runId: `s${i}`, status: i === 6 ? 'stopped' : 'completed' });
  }
  app = (await buildApp({ store, cliPath: CLI })).app;
});
afterAll(async () => {
  await app.close();
  store.close();
  cleanupRepos();
});

const get = async (url: string) => {
  const r = await app.inject(url);
  return { status: r.statusCode, body: r.json(), bytes: r.body.length };
};

describe('GET /api/runs/:run_id/results', () => {
  it('pages a 2,000-test run: no response carries all its rows, and the pages together are the run', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r = await get(`/api/runs/big1/results?limit=500${cursor ? `&cursor=${cursor}` : ''}`);
      expect(r.status).toBe(200);
      expect(r.body.total).toBe(N);
      expect(r.body.results.length).toBeLessThanOrEqual(500);
      seen.push(...r.body.results.map((x: { test_id: string }) => x.test_id));
      cursor = r.body.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(4);
    expect(seen).toEqual(Array.from({ length: N }, (_, i) => `t${i + 1}`));
    // The default page is 100 rows, in planned order.
    const first = await get('/api/runs/big1/results');
    expect(first.body.results).toHaveLength(100);
    expect(first.body.results[0]).toMatchObject({ test_id: 't1', attempt: 2, output: 'second' });
  });

  it('cuts long outputs to a preview', async () => {
    const r = await get('/api/runs/big1/results?limit=10');
    const t6 = r.body.results.find((x: { test_id: string }) => x.test_id === 't6');
    expect(t6.output_truncated).toBe(true);
    expect(t6.output.length).toBeLessThan(1000);
    expect(r.body.results.find((x: { test_id: string }) => x.test_id === 't5').output_truncated).toBe(false);
  });

  it('filters by status, searches id, output and reasons, and sorts by score or duration', async () => {
    const failed = await get('/api/runs/big1/results?status=failed&limit=500');
    expect(failed.body.total).toBe(N / 10);
    expect(failed.body.results.every((x: { execution_status: string }) => x.execution_status === 'quality_failure')).toBe(true);
    expect((await get('/api/runs/big1/results?status=errored')).body.total).toBe(N / 10);
    expect((await get('/api/runs/big1/results?status=passed')).body.total).toBe(N - N / 5);
    expect((await get('/api/runs/big1/results?status=not_ok')).body.total).toBe(N / 5);
    expect((await get('/api/runs/big1/results?q=NEEDLE')).body.results.map((x: { test_id: string }) => x.test_id)).toEqual(['t6']);
    expect((await get('/api/runs/big1/results?q=haystack')).body.total).toBe(N / 10);
    expect((await get('/api/runs/big1/results?q=t1999')).body.results.map((x: { test_id: string }) => x.test_id)).toEqual(['t1999']);
    const byScore = (await get('/api/runs/big1/results?sort=score&limit=50')).body.results.map((x: { score: number }) => x.score);
    expect(byScore).toEqual([...byScore].sort((a, b) => a - b));
    expect(byScore[0]).toBe(0);
    const slow = (await get('/api/runs/big1/results?sort=-duration&limit=5')).body.results.map((x: { duration_ms: number }) => x.duration_ms);
    expect(slow[0]).toBe(999);
    expect(slow).toEqual([...slow].sort((a, b) => b - a));
    // Keyset paging under a sort: the second page continues the first.
    const p1 = await get('/api/runs/big1/results?sort=duration&limit=300');
    const p2 = await get(`/api/runs/big1/results?sort=duration&limit=300&cursor=${p1.body.next_cursor}`);
    const d = [...p1.body.results, ...p2.body.results].map((x: { duration_ms: number }) => x.duration_ms);
    expect(d).toEqual([...d].sort((a, b) => a - b));
    expect(new Set([...p1.body.results, ...p2.body.results].map((x: { test_id: string }) => x.test_id)).size).toBe(600);
  });

  it('refuses bad queries and unknown runs', async () => {
    for (const q of ['limit=0', 'limit=501', 'status=nope', 'sort=name', 'cursor=garbage']) {
      expect((await get(`/api/runs/big1/results?${q}`)).status, q).toBe(400);
    }
    expect((await get('/api/runs/nope/results')).status).toBe(404);
  });
});

describe('GET /api/runs/:run_id/results/:test_id', () => {
  it('one test whole, with its earlier rows', async () => {
    const t6 = await get('/api/runs/big1/results/t6');
    expect(t6.status).toBe(200);
    expect(t6.body.result.output.length).toBeGreaterThan(5000);
    const t1 = (await get('/api/runs/big1/results/t1')).body;
    expect(t1.result).toMatchObject({ attempt: 2, output: 'second' });
    expect(t1.history).toHaveLength(1);
    expect(t1.history[0].attempt).toBe(1);
    expect((await get('/api/runs/big1/results/nope')).status).toBe(404);
  });
});

describe('GET /api/runs/:run_id', () => {
  it('results=false leaves the rows out but keeps counts, outcome, has_not_ok and missing tests', async () => {
    const full = await get('/api/runs/big1');
    const lean = await get('/api/runs/big1?results=false');
    expect(lean.body.results).toEqual([]);
    expect(lean.bytes).toBeLessThan(full.bytes / 2);
    expect(lean.body).toMatchObject({ has_not_ok: true, missing_test_ids: [], run: { outcome: 'failed', counts: { completed_count: N } } });
    // Per-metric aggregates over the current rows (t1's current row, attempt 2, has no assertions).
    expect(lean.body.metrics).toEqual([{ metric: 'accuracy', passed: N * 0.8 - 1, total: N * 0.9 - 1, avg_score: (N * 0.8 - 1) / (N * 0.9 - 1) }]);
    // A run whose tests all failed is still offered "Rerun failed cases"; a stopped one lists what never ran.
    const s6 = (await get('/api/runs/s6')).body;
    expect(s6).toMatchObject({ has_not_ok: true, missing_test_ids: ['t4'], run: { status: 'stopped', outcome: 'incomplete' } });
  });
});

describe('GET /api/runs total and outcome', () => {
  it('answers total from the index when unfiltered, and each run carries its outcome', async () => {
    const r = (await get('/api/runs?limit=2')).body;
    expect(r.total).toBe(6);
    expect(r.runs).toHaveLength(2);
    expect((await get('/api/runs?suite=odd')).body.total).toBeNull();
    const all = (await get('/api/runs')).body.runs as { run_id: string; outcome: string | null }[];
    expect(Object.fromEntries(all.map((x) => [x.run_id, x.outcome]))).toMatchObject({ big1: 'failed', s6: 'incomplete' });
  });
});

describe('GET /api/trends', () => {
  it('points of one suite from the index, oldest first, with the counts behind each rate', async () => {
    const odd = (await get('/api/trends?suite=odd')).body;
    expect(odd.suite).toBe('odd');
    expect(odd.points.map((p: { run_id: string }) => p.run_id)).toEqual(['s3', 's5']);
    expect(odd.points[0]).toMatchObject({ completed_count: 4, passed: 3, pass_rate: 0.75 });
    expect((await get('/api/trends?suite=even&limit=1')).body.points.map((p: { run_id: string }) => p.run_id)).toEqual(['s6']);
    expect((await get('/api/trends?limit=0')).status).toBe(400);
  });
});

describe('security', () => {
  it('Origin must be this server: a page on another port of localhost is foreign', async () => {
    const post = (origin: string, host = 'localhost:3117') =>
      app.inject({ method: 'POST', url: '/api/eval/run/job-000000000000/stop', headers: { host, origin } });
    expect((await post('http://localhost:5173')).statusCode).toBe(403);
    expect((await post('https://localhost:3117')).statusCode).toBe(403);
    expect((await post('http://127.0.0.1:3117')).statusCode).toBe(403);
    expect((await post('http://localhost:3117')).statusCode).toBe(404); // allowed through; the job is unknown
    expect((await post('http://127.0.0.1:3117', '127.0.0.1:3117')).statusCode).toBe(404);
    expect((await post('http://localhost', 'localhost')).statusCode).toBe(404);
  });

  it('no error body carries an absolute path', async () => {
    const r = await app.inject({ method: 'POST', url: '/api/eval/run', headers: { 'content-type': 'application/json' }, payload: { suite: '/etc/passwd' } });
    expect(r.statusCode).toBeGreaterThanOrEqual(400);
    expect(r.body).not.toMatch(/"\/|\s\/[a-z]/i);
    const { scrubPaths } = await import('../../src/server/error-handler.js');
    expect(scrubPaths('cannot read /home/me/repo/suites/a.yaml: ENOENT', ['/home/me/repo'])).toBe('cannot read suites/a.yaml: ENOENT');
    expect(scrubPaths('bad file /etc/agentv/x.yaml', [])).toBe('bad file …/x.yaml');
  });
});
