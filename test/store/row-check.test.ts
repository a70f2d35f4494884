// quickRow (the fast reader of stored rows) must agree with the Row schema:
// the same value, keys in the same order, for everything it accepts, and null
// (the schema decides) for anything else.
import { describe, expect, it } from 'vitest';
import { Row } from '../../src/schemas/row.js';
import { quickInput, quickRow } from '../../src/store/row-check.js';
import { StoredInput } from '../../src/schemas/input.js';
import { parseJsonl, toJsonl } from '../../src/store/jsonl.js';
import { agreeWithSchema, pairwiseCases } from '../helpers/cases.js';

const base = {
  test_id: 't1',
  input_hash: 'h',
  execution_status: 'ok',
  passed: true,
  score: 1,
  assertions: [{ type: 'contains', passed: true, score: 1, reason: null }],
  output: 'hello',
  error: null,
  duration_ms: 5,
  started_at: '2026-01-01T00:00:00.000Z',
  finished_at: '2026-01-01T00:00:01.000Z',
  attempt: 1,
  token_usage: null,
  cost_usd: null,
};

// Variations: each is applied to the base row alone and in pairs.
const variations: Record<string, unknown>[] = [
  {},
  { assertions: undefined },
  { assertions: [] },
  { assertions: [{ type: 'x', passed: false, score: 0 }] },
  { assertions: [{ type: 'x', passed: false, score: 0.5, reason: 'r', weight: 2, metric: 'm', required: true, extra: 1 }] },
  { assertions: [{ type: 'x', passed: 'no', score: 0 }] },
  { assertions: [{ type: 'x', passed: true, score: 1, reason: 3 }] },
  { assertions: 'x' },
  { output: undefined, error: undefined, token_usage: undefined, cost_usd: undefined },
  { output: null, execution_status: 'execution_error', error: 'boom', error_phase: 'target' },
  { error_phase: 'grading' },
  { error_phase: null },
  { error_phase: 'other' },
  { execution_status: 'quality_failure', passed: false, score: 0 },
  { execution_status: 'bogus' },
  { test_id: '' },
  { test_id: 3 },
  { input_hash: null },
  { passed: 1 },
  { score: '1' },
  { duration_ms: -1 },
  { duration_ms: 0 },
  { started_at: '' },
  { finished_at: 5 },
  { attempt: 0 },
  { attempt: 1.5 },
  { attempt: 3 },
  { token_usage: { prompt: 1, completion: 2, total: 3 } },
  { token_usage: { prompt: 1 } },
  { token_usage: { prompt: -1, completion: 2, total: 3 } },
  { token_usage: { prompt: 1.5 } },
  { token_usage: [] },
  { token_usage: { total: 4, extra: 'x' } },
  { cost_usd: 0.25 },
  { cost_usd: 'x' },
  { grade_seq: 0 },
  { grade_seq: 2 },
  { grade_seq: -1 },
  { grade_seq: 1.5 },
  { input_ref: 'a'.repeat(64) },
  { input_ref: null },
  { input_ref: 5 },
  { call_key: 'c', grading_key: 'g' },
  { call_key: 1 },
  { target_ms: 3 },
  { target_ms: -3 },
  { carried_from: 'r1' },
  { carried_from: '..' },
  { trace: { tool_calls: [{ tool: 'search' }] } },
  { unknown_field: 'dropped' },
];

// Keys in another order than the schema's: the last case.
function cases(): unknown[] {
  return pairwiseCases(base, variations, [Object.fromEntries(Object.entries({ ...base, grade_seq: 1, call_key: 'c' }).reverse())]);
}

describe('quickRow', () => {
  it('returns what Row.parse returns, keys in the same order, or null', () => {
    // The common shapes take the quick path.
    expect(agreeWithSchema(quickRow, Row, cases())).toBeGreaterThan(500);
  });

  it('parseJsonl with quickRow reads a chunk exactly as without it, damaged lines included', () => {
    const rows = cases().filter((v) => v !== null && typeof v === 'object');
    const text = `${toJsonl(rows)}{"test_id": "cut`;
    const a = parseJsonl(Row, text);
    const b = parseJsonl(Row, text, quickRow);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(b.bad.length).toBeGreaterThan(0);
  });
});

describe('quickRow keeps up with the Row schema', () => {
  it('reads every field the schema has (or hands the row to the schema): a new field cannot be dropped silently', () => {
    // A row with every schema field set: quickRow must return it whole or decline it.
    const full = {
      ...base,
      carried_from: undefined,
      trace: undefined,
      error_phase: 'grading',
      grade_seq: 2,
      input_ref: 'ab',
      call_key: 'c',
      grading_key: 'g',
      target_ms: 3,
    };
    const handled = new Set([...Object.keys(full), 'carried_from', 'trace']);
    expect(Object.keys(Row.shape).filter((k) => !handled.has(k))).toEqual([]);
    expect(quickRow(full)).toEqual(Row.parse(full));
  });
});

describe('quickInput', () => {
  const input = { prompt: 'Say hi', messages: null, vars: { input: 'hi', n: 2, nested: { a: [1] } }, expected_output: null };
  const inputVariations: Record<string, unknown>[] = [
    {},
    { prompt: null, messages: [{ role: 'user', content: 'hi', extra: 1 }, { role: 'assistant', content: '' }] },
    { messages: [{ role: 'user' }] },
    { messages: 'hi' },
    { prompt: 3 },
    { prompt: undefined },
    { messages: undefined },
    { vars: {} },
    { vars: { 2: 'b', 1: 'a', z: null } },
    { vars: null },
    { vars: [] },
    { expected_output: 'hello' },
    { expected_output: { a: 1 } },
    { expected_output: undefined },
    { extra: 'dropped' },
  ];

  it('returns what StoredInput.parse returns, keys in the same order, or null', () => {
    const cases = pairwiseCases(input, inputVariations, [JSON.parse('{"prompt":"p","messages":null,"vars":{"__proto__":{"x":1}},"expected_output":null}')]);
    expect(agreeWithSchema(quickInput, StoredInput, cases)).toBeGreaterThan(60);
    // Nothing the schema accepts is declined, but a `__proto__` key (the schema drops it).
    for (const v of cases) {
      const vars = (v as { vars?: object } | null)?.vars;
      if (StoredInput.safeParse(v).success && !(vars && Object.hasOwn(vars, '__proto__'))) expect(quickInput(v), JSON.stringify(v)).not.toBeNull();
    }
  });
});
