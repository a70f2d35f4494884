// quickSummary and quickListQuery (what `runs list` reads without loading zod)
// must agree with RunSummary and RunsListQuery: the same value, keys in the
// same order, for everything they accept, and null (the schema decides) for
// anything else.
import { describe, expect, it } from 'vitest';
import { RunsListQuery } from '../../src/schemas/api.js';
import { RunId } from '../../src/schemas/common.js';
import { isRunId } from '../../src/schemas/ids.js';
import { RunSummary } from '../../src/schemas/summary.js';
import { parseJsonl, parseJsonlLazy, toJsonl } from '../../src/store/jsonl.js';
import { quickListQuery, quickSummary } from '../../src/store/summary-check.js';
import { agreeWithSchema, pairwiseCases } from '../helpers/cases.js';

const base = {
  run_id: '20261201-101500-k3f9qa',
  suite: 'demo',
  target: 'echo',
  status: 'completed',
  started_at: '2026-12-01T10:15:00.000Z',
  finished_at: '2026-12-01T10:15:04.000Z',
  planned_test_count: 10,
  passed: 6,
  failed: 3,
  errored: 1,
  pass_rate: 0.6,
  avg_score: 0.71,
  source_commit: 'abc123',
  tags: ['smoke'],
  host: 'vm',
  active_ms: 4000,
  running_since: null,
};

// Variations: each is applied to the base row alone and in pairs.
const variations: Record<string, unknown>[] = [
  {},
  { run_id: 'a' },
  { run_id: 'a..b' },
  { run_id: 'x.lock' },
  { run_id: '-x' },
  { run_id: 'a'.repeat(129) },
  { run_id: 5 },
  { suite: 3 },
  { target: null },
  { status: 'running', finished_at: null, running_since: '2026-12-01T10:15:00.000Z' },
  { status: 'bogus' },
  { started_at: '' },
  { finished_at: '' },
  { finished_at: undefined },
  { planned_test_count: -1 },
  { passed: 1.5 },
  { failed: '3' },
  { errored: 2 ** 60 },
  { pass_rate: null, avg_score: null },
  { pass_rate: '1' },
  { source_commit: null },
  { source_commit: 7 },
  { tags: [] },
  { tags: ['a', 3] },
  { tags: 'a' },
  { host: undefined },
  { host: 5 },
  { active_ms: undefined, running_since: undefined },
  { active_ms: null },
  { active_ms: -1 },
  { running_since: '' },
  { outcome: 'passed' },
  { outcome: null },
  { outcome: 'other' },
  { unknown_field: 'dropped' },
];

// Keys in another order than the schema's: the last case.
function cases(): unknown[] {
  return pairwiseCases(base, variations, [Object.fromEntries(Object.entries({ ...base, outcome: 'failed' }).reverse())]);
}

describe('quickSummary', () => {
  it('returns what RunSummary.parse returns, keys in the same order, or null', () => {
    // The common shapes take the quick path.
    expect(agreeWithSchema(quickSummary, RunSummary, cases())).toBeGreaterThan(150);
  });

  it('reads every field the schema has: a new field cannot be dropped silently', () => {
    const full = { ...base, outcome: 'passed' };
    expect(Object.keys(RunSummary.shape).filter((k) => !(k in full))).toEqual([]);
    expect(quickSummary(full)).toEqual(RunSummary.parse(full));
  });

  it('parseJsonlLazy reads an index file exactly as parseJsonl with the schema, damaged lines included', async () => {
    const rows = cases().filter((v) => v !== null && typeof v === 'object');
    const text = `${toJsonl(rows)}{"run_id": "cut`;
    let loads = 0;
    const lazy = await parseJsonlLazy(async () => (loads++, RunSummary), text, quickSummary);
    expect(JSON.stringify(lazy)).toBe(JSON.stringify(parseJsonl(RunSummary, text)));
    expect(lazy.bad.length).toBeGreaterThan(0);
    expect(loads).toBe(1);
    // A file of common rows never loads the schema.
    await parseJsonlLazy(async () => (loads++, RunSummary), toJsonl([base, base]), quickSummary);
    expect(loads).toBe(1);
  });
});

describe('isRunId', () => {
  it('agrees with the RunId schema', () => {
    for (const s of ['a', 'A1', '20261201-101500-k3f9qa', 'a.b_c-d', 'a..b', 'x.lock', 'x.lockx', '.a', '-a', '', 'a/b', 'a b', 'a'.repeat(128), 'a'.repeat(129), 'é']) {
      expect(isRunId(s), s).toBe(RunId.safeParse(s).success);
    }
  });
});

describe('quickListQuery', () => {
  const queries: Record<string, unknown>[] = [
    {},
    { limit: '50' },
    { limit: '1' },
    { limit: '500' },
    { limit: '501' },
    { limit: '0' },
    { limit: '' },
    { limit: ' 7 ' },
    { limit: '2.5' },
    { limit: 'x' },
    { limit: 20 },
    { limit: true },
    { cursor: 'abc' },
    { cursor: 'c'.repeat(512) },
    { cursor: 'c'.repeat(513) },
    { suite: 'demo', target: 'echo', commit: 'abc' },
    { suite: 's'.repeat(257) },
    { target: 3 },
    { status: 'stopped' },
    { status: 'bogus' },
    { limit: '10', status: 'running', suite: 'a', extra: 'dropped' },
    { sort: 'started_at' },
    { sort: '-started_at', limit: '5', status: 'completed' },
    { sort: 'score' },
    { sort: 1 },
  ];
  it('returns what RunsListQuery.parse returns, or null', () => {
    expect(agreeWithSchema((q) => quickListQuery(q as Record<string, unknown>), RunsListQuery, queries)).toBeGreaterThan(10);
  });

  it('declines only what the schema refuses, among strings as argv and querystrings carry (the schema then words the error)', () => {
    const strings = queries.filter((q) => Object.values(q).every((v) => typeof v === 'string'));
    for (const q of strings) if (quickListQuery(q) === null) expect(RunsListQuery.safeParse(q).success, JSON.stringify(q)).toBe(false);
  });
});
