// A run's results digest (SPEC 5: a run of 10,000 tests shows its first rows as
// fast as a run of 100): the run page's first request reads no row, and the
// first results page reads only the row chunks that hold its rows; answers are
// the same as from every row, and a digest that no longer covers the rows (a
// running run) is not used. Counted in blob reads, not timed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { cleanupRepos, makeRepo } from '../helpers/repo.js';
import { makeManifest, makeRow } from '../helpers/runs.js';
import { CLI } from '../helpers/proc.js';
import { buildApp } from '../../src/server/app.js';
import { createRun, finishRun, openStore, showRun, updateRun, type Store } from '../../src/store/index.js';

let store: Store;
let app: FastifyInstance;
const N = 1000;
const CHUNK = 50; // rows per group commit, as the writer makes them
let rowReads: string[] = [];

function rowOf(i: number, attempt = 1) {
  const kind = i % 10 === 3 ? 'fail' : i % 10 === 7 ? 'error' : 'ok';
  return makeRow(`t${i + 1}`, {
    attempt,
    execution_status: kind === 'ok' ? 'ok' : kind === 'fail' ? 'quality_failure' : 'execution_error',
    passed: kind === 'ok',
    score: kind === 'ok' ? 1 : (i % 97) / 100,
    duration_ms: (i * 37) % 1000,
    assertions: [{ type: 'contains', passed: kind === 'ok', score: kind === 'ok' ? 1 : 0, reason: null, metric: 'accuracy' }],
  });
}

beforeAll(async () => {
  store = await openStore({ repoDir: makeRepo() });
  // Tests finish out of planned order across chunks, as with several workers.
  const order = Array.from({ length: N }, (_, i) => i).sort((a, b) => ((a * 7919) % N) - ((b * 7919) % N));
  await createRun({ store, manifest: makeManifest('wide', { tests: N + 2 }) });
  for (let c = 0; c < N; c += CHUNK) {
    await updateRun({ store, runId: 'wide', update: { subject: 'rows', rows: order.slice(c, c + CHUNK).map((i) => rowOf(i)) } });
  }
  // A re-run of t4 (now passing) supersedes its first row; t1001 and t1002 never ran.
  await updateRun({ store, runId: 'wide', update: { subject: 'rerun', rows: [makeRow('t4', { attempt: 2, score: 1 })] } });
  await finishRun({ store, runId: 'wide', status: 'stopped' });
  app = (await buildApp({ store, cliPath: CLI })).app;
  const read = store.readBlobOid.bind(store);
  store.readBlobOid = (oid: string, file?: string) => {
    if (file?.includes('/rows/')) rowReads.push(file);
    return read(oid, file);
  };
});
afterAll(async () => {
  await app.close();
  store.close();
  cleanupRepos();
});

const get = async (url: string) => {
  const r = await app.inject(url);
  expect(r.statusCode).toBe(200);
  return r.json();
};

describe('a run with a results digest', () => {
  it("answers the run page's first request without reading any row, the same as from every row", async () => {
    rowReads = [];
    const doc = await get('/api/runs/wide?results=false');
    expect(rowReads).toEqual([]);
    const full = await showRun({ store, runId: 'wide' });
    expect(rowReads.length).toBeGreaterThan(N / CHUNK);
    expect(doc).toEqual({ ...JSON.parse(JSON.stringify(full)), results: [] });
    expect(doc.missing_test_ids).toEqual(['t1001', 't1002']);
    expect(doc.run.counts.completed_count).toBe(N);
    // t4's current row (the re-run) has no assertions.
    expect(doc.metrics[0]).toMatchObject({ metric: 'accuracy', total: N - 1 });
  });

  it('reads only the chunks of the first page, and pages as a search over every row does', async () => {
    rowReads = [];
    const first = await get('/api/runs/wide/results?limit=20');
    expect(first.results.map((r: { test_id: string }) => r.test_id)).toEqual(Array.from({ length: 20 }, (_, i) => `t${i + 1}`));
    expect(first.results[3]).toMatchObject({ test_id: 't4', attempt: 2 });
    expect(first.total).toBe(N);
    const chunks = new Set(rowReads).size;
    expect(chunks).toBeGreaterThan(0);
    expect(chunks).toBeLessThan(N / CHUNK);

    // `q=t` matches every test: answered from every row, it must agree page by page.
    for (const filter of ['', '&status=failed', '&status=not_ok', '&sort=-score', '&sort=duration', '&status=errored&sort=score']) {
      let cursor = '';
      let pages = 0;
      do {
        const viaDigest = await get(`/api/runs/wide/results?limit=150${filter}${cursor}`);
        const viaRows = await get(`/api/runs/wide/results?limit=150${filter}${cursor}&q=t`);
        expect(viaDigest).toEqual(viaRows);
        cursor = viaDigest.next_cursor ? `&cursor=${viaDigest.next_cursor}` : '';
        pages++;
      } while (cursor);
      expect(pages).toBeGreaterThan(0);
    }
  });

  it('is not used once rows arrived after it was written (a running run)', async () => {
    await createRun({ store, manifest: makeManifest('live', { tests: 5, host: 'ci-runner-7' }) });
    await updateRun({ store, runId: 'live', update: { subject: 'rows', rows: [makeRow('t1'), makeRow('t2', { passed: false, execution_status: 'quality_failure', score: 0 })] } });
    const page = await get('/api/runs/live/results');
    expect(page.results.map((r: { test_id: string }) => r.test_id)).toEqual(['t1', 't2']);
    const doc = await get('/api/runs/live?results=false');
    expect(doc.missing_test_ids).toEqual(['t3', 't4', 't5']);
    expect(doc.has_not_ok).toBe(true);
    expect(doc.run.counts).toMatchObject({ completed_count: 2, passed: 1, failed: 1 });
  });
});
