// evaluateAssertionsSync (the promise-free grading of tests whose assertions
// judge the output alone) must give exactly evaluateAssertions' outcome, and
// decline (null) every test it cannot grade that way.
import { describe, expect, it } from 'vitest';
import { evaluateAssertions, evaluateAssertionsSync, type EvaluateAssertionsOptions } from '../../src/eval/assertions.js';
import type { AssertionSpec, SuiteTest } from '../../src/eval/types.js';

const spec = (s: Partial<AssertionSpec> & { type: string }): AssertionSpec => ({ negate: false, weight: 1, required: false, ...s });
const test: SuiteTest = { id: 't1', vars: { input: 'q' }, prompt: 'q', assertions: [], metadata: {}, tags: [] };

const specs: AssertionSpec[] = [
  spec({ type: 'contains', value: 'Paris' }),
  spec({ type: 'contains', value: 'Paris', negate: true }),
  spec({ type: 'icontains', value: 'paris', weight: 2, metric: 'city' }),
  spec({ type: 'equals', value: 'Paris' }),
  spec({ type: 'equals', value: { a: 1 } }),
  spec({ type: 'starts-with', value: 'The', required: true }),
  spec({ type: 'ends-with', value: '.', weight: 0 }),
  spec({ type: 'contains-any', value: ['Paris', 'Lyon'] }),
  spec({ type: 'contains-all', value: ['Paris', 'France'], options: { required_score: 0.5 } }),
  spec({ type: 'is-json' }),
  spec({ type: 'is-json', value: { type: 'object', required: ['a'] } }),
  spec({ type: 'latency', threshold: 50 }),
  spec({ type: 'levenshtein', value: 'Paris', threshold: 2 }),
];
const outputs = ['The capital is Paris.', '{"a": 1}', 'paris', ''];

function options(assertions: AssertionSpec[], output: string, more: Partial<EvaluateAssertionsOptions> = {}): EvaluateAssertionsOptions {
  return { assertions, output, test, latencyMs: 100, grader: null, signal: new AbortController().signal, ...more };
}

describe('evaluateAssertionsSync', () => {
  it('gives the outcome evaluateAssertions gives, for single assertions, pairs and thresholds', async () => {
    let graded = 0;
    const lists: AssertionSpec[][] = [[], ...specs.map((s) => [s]), ...specs.map((s, i) => [s, specs[(i + 3) % specs.length]!])];
    for (const list of lists) {
      for (const output of outputs) {
        for (const threshold of [undefined, 0.5]) {
          const o = options(list, output, { test: { ...test, ...(threshold === undefined ? {} : { threshold }) } });
          const sync = evaluateAssertionsSync(o);
          if (sync === null) continue;
          graded++;
          expect(JSON.stringify(sync), JSON.stringify(list)).toBe(JSON.stringify(await evaluateAssertions(o)));
        }
      }
    }
    expect(graded).toBeGreaterThan(100);
  });

  it('declines transforms, scoring functions and kinds that need more than the output', () => {
    expect(evaluateAssertionsSync(options([spec({ type: 'contains', value: 'a', transform: 'output.trim()' })], 'a'))).toBeNull();
    expect(evaluateAssertionsSync(options([spec({ type: 'contains', value: 'a' })], 'a', { scoringFunction: 'file://s.js' }))).toBeNull();
    expect(evaluateAssertionsSync(options([spec({ type: 'contains', value: 'a' }), spec({ type: 'regex', value: 'a' })], 'a'))).toBeNull();
    expect(evaluateAssertionsSync(options([spec({ type: 'llm-rubric', value: 'is good' })], 'a'))).toBeNull();
  });
});
