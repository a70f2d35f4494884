// The executor's order with run-time values: a test is handed out only once the tests it
// reads have settled; ready tests go earliest-first, so independent ones run side by side.
import { describe, expect, it } from 'vitest';
import { schedule } from '../../src/eval/schedule.js';
import type { WorkItem } from '../../src/eval/runner.js';
import type { SuiteTest } from '../../src/eval/types.js';

function item(id: string, reads: string[] = [], conversation?: string[]): WorkItem {
  const test: SuiteTest = { id, vars: {}, prompt: id, assertions: [], metadata: {}, tags: [] };
  if (reads.length || conversation) {
    test.runtime = { template: id, affix: {}, stored: Object.fromEntries(reads.map((r, i) => [`v${i}`, r])), ...(conversation ? { conversation } : {}), assertions: [], suiteDir: '', key: id };
  }
  return { test, planned: { test_id: id, input_hash: id }, attempt: 1 };
}

const ids = (xs: (WorkItem | 'wait' | null)[]) => xs.map((x) => (x === null || x === 'wait' ? x : x.test.id));

describe('schedule', () => {
  it('hands out independent tests at once and a dependent one only after its producers settle', () => {
    const s = schedule([item('a'), item('b', ['a']), item('c'), item('d', [], ['a', 'b'])], true);
    expect(ids([s.next(), s.next(), s.next()])).toEqual(['a', 'c', 'wait']);
    s.settle('c');
    expect(s.next()).toBe('wait');
    s.settle('a');
    expect(ids([s.next(), s.next()])).toEqual(['b', 'wait']);
    s.settle('b');
    expect(ids([s.next(), s.next()])).toEqual(['d', null]);
  });

  it('ignores producers outside the run (their rows are already there), and wakes waiters on every settle', async () => {
    const s = schedule([item('b', ['a']), item('x', ['b'])], true);
    expect(ids([s.next(), s.next()])).toEqual(['b', 'wait']);
    const woken = s.settledOne();
    s.settle('b');
    await woken;
    expect(ids([s.next(), s.next()])).toEqual(['x', null]);
  });

  it('without run-time values is plain suite order', () => {
    const s = schedule([item('a'), item('b', ['a'])], false);
    expect(ids([s.next(), s.next(), s.next()])).toEqual(['a', 'b', null]);
  });
});
