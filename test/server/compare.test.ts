import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { parse as parseCsv } from 'csv-parse/sync';
import { XMLParser } from 'fast-xml-parser';
import { buildApp } from '../../src/server/app.js';
import { ComparePage } from '../../src/schemas/compare.js';
import type { StoredInput } from '../../src/schemas/input.js';
import { createRun, finishRun, inputRefOf, openStore, updateRun, type Store } from '../../src/store/index.js';
import { CLI } from '../helpers/proc.js';
import { cleanupRepos, makeRepo } from '../helpers/repo.js';
import { makeManifest, makeRow } from '../helpers/runs.js';

let store: Store;
let app: FastifyInstance;
const N = 30;

const input = (i: number): StoredInput => ({ prompt: `question ${i}`, messages: null, vars: { input: `question ${i}` }, expected_output: `answer ${i}` });

/** A run of N tests; `fail(i)` says which fail, `error(i)` which error. */
async function seed(runId: string, fail: (i: number) => boolean, error: (i: number) => boolean = () => false) {
  const rows = Array.from({ length: N }, (_, k) => {
    const i = k + 1;
    const bad = fail(i);
    return makeRow(`t${i}`, {
      input_ref: inputRefOf(input(i)),
      execution_status: error(i) ? 'execution_error' : bad ? 'quality_failure' : 'ok',
      passed: !bad && !error(i),
      score: bad || error(i) ? 0 : 1,
      error: error(i) ? 'target failed: exit 1' : null,
      assertions: bad ? [{ type: 'equals', passed: false, score: 0, reason: `expected "answer ${i}", got "x"` }] : [],
    });
  });
  await createRun({ store, manifest: makeManifest(runId, { tests: N }) });
  await updateRun({ store, runId, update: { rows, inputs: new Map(rows.map((r, k) => [r.input_ref!, input(k + 1)])), subject: 'rows' } });
  await finishRun({ store, runId, status: 'completed' });
}

beforeAll(async () => {
  store = await openStore({ repoDir: makeRepo() });
  await seed('base1', (i) => i % 10 === 0); // t10, t20, t30 fail
  await seed('head1', (i) => i % 10 === 0 || i === 3 || i === 4, (i) => i === 5); // t3, t4 regress, t5 new error
  app = (await buildApp({ store, cliPath: CLI })).app;
});
afterAll(async () => {
  await app.close();
  store.close();
  cleanupRepos();
});

describe('GET /api/compare', () => {
  it('pages tests (regressions first) with a whole summary and inputs on the page rows', async () => {
    const r = await app.inject({ url: '/api/compare?base=base1&head=head1&limit=2' });
    expect(r.statusCode).toBe(200);
    const page = ComparePage.parse(r.json());
    expect(page.summary).toMatchObject({ regressed: 2, new_error: 1, still_failing: 3, unchanged: 24, paired: 30 });
    expect(page.total).toBe(30);
    expect(page.tests.map((t) => [t.test_id, t.change])).toEqual([
      ['t3', 'regressed'],
      ['t4', 'regressed'],
    ]);
    expect(page.tests[0]!.head!.input).toEqual(input(3));
    const ids: string[] = page.tests.map((t) => t.test_id);
    let cursor = page.next_cursor;
    while (cursor) {
      const next = ComparePage.parse((await app.inject({ url: `/api/compare?base=base1&head=head1&limit=7&cursor=${cursor}` })).json());
      ids.push(...next.tests.map((t) => t.test_id));
      cursor = next.next_cursor;
    }
    expect(ids).toHaveLength(30);
    expect(new Set(ids).size).toBe(30);
    expect(ids[2]).toBe('t5');
  });

  it('filters by change; bad queries are 400, unknown runs 404', async () => {
    const f = ComparePage.parse((await app.inject({ url: '/api/compare?base=base1&head=head1&change=new_error,still_failing' })).json());
    expect(f.tests.map((t) => t.change)).toEqual(['new_error', 'still_failing', 'still_failing', 'still_failing']);
    expect(f.total).toBe(4);
    expect(f.summary.unchanged).toBe(24);
    expect((await app.inject({ url: '/api/compare?base=base1&head=head1&change=worse' })).statusCode).toBe(400);
    expect((await app.inject({ url: '/api/compare?base=base1' })).statusCode).toBe(400);
    expect((await app.inject({ url: '/api/compare?base=base1&head=head1&cursor=nope' })).statusCode).toBe(400);
    expect((await app.inject({ url: '/api/compare?base=base1&head=nosuch' })).statusCode).toBe(404);
  });
});

describe('GET /api/runs/:run_id/export', () => {
  it('downloads each format with a content-disposition', async () => {
    const csv = await app.inject({ url: '/api/runs/head1/export?format=csv' });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.headers['content-disposition']).toBe('attachment; filename="agentv-head1.csv"');
    const records = parseCsv(csv.body, { columns: true }) as Record<string, string>[];
    expect(records).toHaveLength(30);
    expect(records.find((x) => x.test_id === 't3')).toMatchObject({ status: 'failed', prompt: 'question 3', expected_output: 'answer 3' });

    const junit = await app.inject({ url: '/api/runs/head1/export?format=junit' });
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(junit.body);
    expect(doc.testsuites).toMatchObject({ tests: '30', failures: '5', errors: '1' });

    const md = await app.inject({ url: '/api/runs/head1/export?format=markdown' });
    expect(md.headers['content-disposition']).toContain('.md"');
    expect(md.body).toContain('24 of 30 run passed');
    const json = await app.inject({ url: '/api/runs/head1/export' });
    expect(JSON.parse(json.body).results).toHaveLength(30);

    expect((await app.inject({ url: '/api/runs/head1/export?format=pdf' })).statusCode).toBe(400);
    expect((await app.inject({ url: '/api/runs/nosuch/export?format=csv' })).statusCode).toBe(404);
  });
});
