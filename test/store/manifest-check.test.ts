// parseManifestValue (the manifest check of the write path, which checks the
// plan by hand) must agree with Manifest.parse: the same value with keys in the
// same order (the bytes committed follow it), and the schema's error otherwise.
import { describe, expect, it } from 'vitest';
import { Manifest, parseManifestValue, plannedTestsOf } from '../../src/schemas/manifest.js';
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
