// quickTestInput and quickAssertion (the suite loader's fast checks) must agree
// with SuiteTestInput and SuiteAssertion: the same value for everything they
// accept, and null (the schema decides and reports) for anything else.
import { describe, expect, it } from 'vitest';
import { SuiteAssertion, SuiteTestInput } from '../../src/schemas/suite.js';
import { quickAssertion, quickTestInput } from '../../src/schemas/suite-check.js';
import { agreeWithSchema, pairwiseCases } from '../helpers/cases.js';

/** Pairwise variations of `base`, plus one with its keys in reverse order (as a file may give them). */
const combos = (base: Record<string, unknown>, variations: Record<string, unknown>[]) =>
  pairwiseCases(base, variations, [Object.fromEntries(Object.entries({ ...base, ...variations[1] }).reverse())]);

describe('quickTestInput', () => {
  it('returns what SuiteTestInput.parse returns, or null', () => {
    const base = { id: 't1', vars: { input: 'hello', other: 1 } };
    const variations: Record<string, unknown>[] = [
      {},
      { id: 7 },
      { id: 7.5 },
      { id: '' },
      { id: 'a'.repeat(256) },
      { id: 'a'.repeat(257) },
      { id: 'a\nb' },
      { id: undefined },
      { description: 'd' },
      { description: 3 },
      { vars: { input: 'x' } },
      { vars: { input: 3 } },
      { vars: { input: true } },
      { vars: { input: [{ role: 'user', content: 'hi' }] } },
      { vars: { input: null } },
      { vars: {} },
      { vars: [] },
      { vars: 'x' },
      { threshold: 0.5 },
      { threshold: 0 },
      { threshold: 1.5 },
      { threshold: '1' },
      { metadata: { a: 1 } },
      { metadata: [] },
      { tags: 'one' },
      { tags: ['a', 'b'] },
      { tags: ['a', 1] },
      { tags: 3 },
      { assert: [{ type: 'contains', value: 'x' }] },
      { unknown: 1 },
    ];
    expect(agreeWithSchema(quickTestInput, SuiteTestInput, combos(base, variations))).toBeGreaterThan(200);
  });
});

describe('quickAssertion', () => {
  it('returns what SuiteAssertion.parse returns, or null', () => {
    const base = { type: 'contains', value: 'x' };
    const variations: Record<string, unknown>[] = [
      {},
      { type: 'not-contains' },
      { type: 'icontains' },
      { type: 'starts-with' },
      { type: 'ends-with' },
      { type: 'not-ends-with' },
      { type: 'equals' },
      { type: 'not-equals' },
      { type: 'containsAny' },
      { type: 'not-not-contains' },
      { type: 'regex' },
      { type: 'llm-rubric' },
      { type: 3 },
      { value: '' },
      { value: 0 },
      { value: 12.5 },
      { value: null },
      { value: ['a'] },
      { value: { a: 1 } },
      { value: undefined },
      { weight: 2 },
      { weight: 0 },
      { weight: -1 },
      { weight: '1' },
      { metric: 'm' },
      { metric: 1 },
      { threshold: 0.5 },
      { threshold: 'x' },
      { required: true },
      { negate: true },
      { transform: 'output' },
      { unknown_key: 1 },
    ];
    expect(agreeWithSchema(quickAssertion, SuiteAssertion, combos(base, variations))).toBeGreaterThan(200);
  });
});
