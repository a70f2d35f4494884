// The call key covers what the target sees, the grading key how the output is
// judged (SPEC 3.9); input_hash stays the one digest older runs recorded.
import { describe, expect, it } from 'vitest';
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
});
