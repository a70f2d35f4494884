// The hand checks of a manifest must agree with Manifest.parse: the same value
// with keys in the same order (the bytes committed follow it), and the schema's
// error otherwise. quickManifest is the readers' check (all of it by hand, so
// reading loads no zod); parseManifestValue the write path's (it, else the schema).
import { describe, expect, it } from 'vitest';
import { Manifest, parseManifestValue, plannedTestsOf } from '../../src/schemas/manifest.js';
import { quickManifest } from '../../src/schemas/manifest-check.js';
import { agreeWithSchema, pairwiseCases } from '../helpers/cases.js';
import { makeManifest } from '../helpers/runs.js';

const plans: unknown[][] = [
  [],
  [{ test_id: 't1', input_hash: 'h' }],
  [{ test_id: 't1', input_hash: 'h', call_key: 'c', grading_key: 'g' }],
  [{ grading_key: 'g', input_hash: 'h', test_id: 't1', extra: 1 }],
  [{ test_id: '', input_hash: 'h' }],
  [{ test_id: 't1' }],
  [{ test_id: 't1', input_hash: 'h', call_key: 3 }],
  [null],
  ['t1'],
];

describe('parseManifestValue', () => {
  it('returns what Manifest.parse returns, keys in the same order, or throws as it does', () => {
    const { grader: _g, options: _o, events: _e, ...sparse } = makeManifest('r1');
    const bases = [makeManifest('r1'), sparse, { ...makeManifest('r2'), options: { suite_paths: ['s.yaml'], target: 'echo', grader: null, workers: 2, test_ids: [], tags: [], reuse: true } }];
    let checked = 0;
    for (const base of bases) {
      for (const planned_tests of plans) {
        const v = JSON.parse(JSON.stringify({ ...base, planned_tests }));
        const slow = Manifest.safeParse(v);
        if (!slow.success) {
          expect(() => parseManifestValue(v)).toThrow();
          continue;
        }
        const fast = parseManifestValue(v);
        expect(JSON.stringify(fast)).toBe(JSON.stringify(slow.data));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(6);
    expect(() => parseManifestValue({ ...makeManifest('r3'), status: 'bogus' })).toThrow();
  });

  it('plannedTestsOf accepts exactly the plans the PlannedTest schema accepts', () => {
    for (const plan of plans) {
      const fast = plannedTestsOf(plan);
      const slow = Manifest.shape.planned_tests.safeParse(plan);
      expect(fast === null, JSON.stringify(plan)).toBe(!slow.success);
      if (fast) expect(JSON.stringify(fast)).toBe(JSON.stringify(slow.data));
    }
  });
});

const event = { type: 'started', at: '2026-01-01T00:00:00.000Z' };
const arrived = { index: 1, status: 'completed', host: 'h', started_at: '2026-01-01T00:00:00.000Z', finished_at: null, planned_test_count: 2, completed_count: 2 };
// Each applied to a manifest alone and in pairs: every field, its defaults, and values the schema refuses.
const variations: Record<string, unknown>[] = [
  {},
  { schema_version: 2 },
  { run_id: 'bad id' },
  { run_id: 'a..b' },
  { suite: { name: 'n' } },
  { suite: { name: 'n', path: 'p', extra: 1 } },
  { suite_hash: 1 },
  { target: { name: 'a', provider: 'b' } },
  { grader: undefined },
  { grader: { name: 'j', provider: 'openai', config_hash: 'c', extra: 2 } },
  { grader: { name: 'j' } },
  { planned_tests: [{ test_id: 't1', input_hash: 'h', call_key: 'c', grading_key: 'g', x: 1 }] },
  { planned_tests: [{ test_id: '' , input_hash: 'h' }] },
  { planned_tests: 'x' },
  { planned_test_count: -1 },
  { planned_test_count: 1.5 },
  { source_commit: 'abc' },
  { source_commit: undefined },
  { source_dirty: 'no' },
  { argv: ['eval', 3] },
  { agentv_version: undefined },
  { host: null },
  { started_at: '' },
  { finished_at: undefined },
  { finished_at: '2026-01-01T00:00:09.000Z' },
  { finished_at: '' },
  { status: 'completed' },
  { status: 'bogus' },
  { counts: undefined },
  { counts: { completed_count: 2, passed: 1, failed: 1, errored: 0, pass_rate: 0.5, avg_score: null } },
  { counts: { completed_count: 2, passed: 1, failed: 1, errored: 0, pass_rate: 0.5 } },
  { counts: { completed_count: -2, passed: 1, failed: 1, errored: 0, pass_rate: 0.5, avg_score: 1 } },
  { tags: undefined },
  { tags: ['nightly'] },
  { tags: [1] },
  { options: undefined },
  { options: {} },
  { options: { suite_paths: ['s.yaml'], target: 'echo', grader: 'j', workers: 2, test_ids: ['t1'], tags: ['x'], reuse: false, extra: 1 } },
  { options: { workers: 0 } },
  { options: { reuse: 'yes' } },
  { options: [] },
  { owner: { host: 'h', pid: 12 } },
  { owner: { host: 'h', pid: 12, boot_id: 'b', proc_start: 'p', extra: 1 } },
  { owner: { host: 'h', pid: 1.5 } },
  { events: undefined },
  { events: [event, { type: 'resumed', at: '2026-01-01T00:00:01.000Z', mode: 'rerun_failed', planned: 3, executed: 1, detail: 'd', extra: 1 }] },
  { events: [{ type: 'resumed', at: '2026-01-01T00:00:01.000Z', mode: 'other' }] },
  { events: [{ type: 'exploded', at: '2026-01-01T00:00:01.000Z' }] },
  { events: [{ ...event, planned: 1.5 }] },
  { retry_of: 'r0' },
  { retry_of: 'x.lock' },
  { slice: { index: 2, count: 4 } },
  { slice: { index: 0, count: 4 } },
  { slices: { count: 2, arrived: [arrived, { ...arrived, index: 2, status: 'running', finished_at: '2026-01-01T00:00:05.000Z', extra: 1 }] } },
  { slices: { count: 2, arrived: [{ ...arrived, finished_at: undefined }] } },
  { slices: { count: 0, arrived: [] } },
  { unknown_field: 'dropped' },
];

describe('quickManifest', () => {
  it('returns what Manifest.parse returns, keys in the same order, or null', () => {
    const base = makeManifest('r1');
    const reversed = Object.fromEntries(Object.entries({ ...base, slice: { count: 2, index: 1 } }).reverse());
    // The common shapes take the quick path.
    expect(agreeWithSchema(quickManifest, Manifest, pairwiseCases(base, variations, [reversed]))).toBeGreaterThan(600);
  });

  it('declines nothing the schema accepts among these (a reader never loads zod for a healthy manifest)', () => {
    for (const v of pairwiseCases(makeManifest('r1'), variations)) {
      if (Manifest.safeParse(v).success) expect(quickManifest(v), JSON.stringify(v)).not.toBeNull();
    }
  });

  it('reads every field the schema has: a new field cannot be dropped silently', () => {
    const full = JSON.parse(JSON.stringify({ ...makeManifest('r1'), ...Object.assign({}, ...variations.filter((x) => Manifest.safeParse({ ...makeManifest('r1'), ...x }).success)) }));
    const parsed = Manifest.parse(full);
    expect(Object.keys(Manifest.shape).filter((k) => !(k in parsed))).toEqual([]);
    expect(quickManifest(full)).toEqual(parsed);
  });
});
