// The call key covers what the target sees, the grading key how the output is
// judged (SPEC 3.9); input_hash stays the one digest older runs recorded.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/canonical-json.js';
import { usesGrader } from '../../src/eval/assertions/normalise.js';
import { callKey, gradingKey, inputHash, plannedTest } from '../../src/eval/plan.js';
import type { SuiteTest, Target } from '../../src/eval/types.js';

const target = { name: 'echo', configHash: 'target-a' } as Target;
const grader = { name: 'judge', configHash: 'grader-a' } as Target;
const base: SuiteTest = {
  id: 't1',
  vars: { q: 'hi' },
  prompt: 'Say hi',
  assertions: [{ type: 'contains', value: 'hi', weight: 1, required: false, negate: false }],
  metadata: {},
  tags: [],
};

describe('call key and grading key', () => {
  it('a changed assertion moves only the grading key', () => {
    const changed = { ...base, assertions: [{ ...base.assertions[0]!, value: 'hello' }] };
    expect(callKey({ test: changed, target })).toBe(callKey({ test: base, target }));
    expect(gradingKey({ test: changed, grader })).not.toBe(gradingKey({ test: base, grader }));
    expect(gradingKey({ test: { ...base, threshold: 0.5 }, grader })).not.toBe(gradingKey({ test: base, grader }));
  });

  it('a changed prompt, var or target moves only the call key', () => {
    for (const [test, t] of [
      [{ ...base, prompt: 'Say hello' }, target],
      [{ ...base, vars: { q: 'ho' } }, target],
      [base, { ...target, configHash: 'target-b' }],
    ] as [SuiteTest, Target][]) {
      expect(callKey({ test, target: t })).not.toBe(callKey({ test: base, target }));
      expect(gradingKey({ test, grader })).toBe(gradingKey({ test: base, grader }));
    }
  });

  it('repeats of one test have distinct call keys', () => {
    const keys = [base, { ...base, id: 't1#2', repeat: 2 }, { ...base, id: 't1#3', repeat: 3 }].map((test) => callKey({ test, target }));
    expect(new Set(keys).size).toBe(3);
  });

  it('the grader counts only when an assertion uses it', () => {
    const other = { ...grader, configHash: 'grader-b' };
    expect(gradingKey({ test: base, grader: other })).toBe(gradingKey({ test: base, grader }));
    const graded = { ...base, assertions: [{ type: 'llm-rubric', value: 'is polite', weight: 1, required: false, negate: false }] };
    expect(gradingKey({ test: graded, grader: other })).not.toBe(gradingKey({ test: graded, grader }));
  });

  it('input_hash is the digest earlier versions wrote, not changed by the repeat index', () => {
    // Fixed values: the canonical material must never change with the code (stored runs compare them).
    expect(inputHash({ test: base, target, grader: null })).toBe('6b295f0a8a421e0d4cf5c3ce9c2d7ad0');
    expect(callKey({ test: base, target })).toBe('9986dd4524560adaab899373ffcdd704');
    expect(gradingKey({ test: base, grader: null })).toBe('0ea1c8c72e0ef3ac4ceb02f27990a6b8');
    expect(inputHash({ test: base, target, grader })).toBe(inputHash({ test: { ...base, repeat: 2 }, target, grader }));
    expect(plannedTest({ test: base, target, grader })).toEqual({
      test_id: 't1',
      input_hash: inputHash({ test: base, target, grader }),
      call_key: callKey({ test: base, target }),
      grading_key: gradingKey({ test: base, grader }),
    });
  });

  it('each key is the digest of its material as one canonical object, whatever the test holds', () => {
    // The material as written out whole (SPEC 3.9); plan.ts serializes each value once and joins them.
    const d = (v: unknown) => createHash('sha256').update(canonicalJson(v)).digest('hex').slice(0, 32);
    const graderOf = (t: SuiteTest) => (t.assertions.some(usesGrader) ? (grader.configHash ?? null) : null);
    const variants: SuiteTest[] = [
      base,
      { ...base, threshold: 0.5, repeat: 3 },
      { ...base, prompt: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hi' }], vars: { q: { nested: [1, null, 'x'] }, a: 'é' } },
      { ...base, assertions: [{ type: 'llm-rubric', value: 'is polite', weight: 2, required: true, negate: false }] },
      { ...base, runtime: { key: 'recipe-key' } } as SuiteTest,
    ];
    for (const t of variants) {
      for (const tgt of [target, { ...target, configHash: undefined } as unknown as Target]) {
        const want = {
          test_id: t.id,
          input_hash: d({ prompt: t.prompt, vars: t.vars, assertions: t.assertions, threshold: t.threshold ?? null, target: tgt.configHash, grader: graderOf(t), ...(t.runtime ? { runtime: t.runtime.key } : {}) }),
          call_key: d({ prompt: t.prompt, vars: t.vars, target: tgt.configHash, repeat: t.repeat, runtime: t.runtime?.key }),
          grading_key: d({ assertions: t.assertions, threshold: t.threshold ?? null, grader: graderOf(t) }),
        };
        expect(plannedTest({ test: t, target: tgt, grader })).toEqual(want);
      }
    }
  });
});
