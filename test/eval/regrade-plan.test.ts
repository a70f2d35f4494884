// classifyTest: what a resume mode does with one planned test given its current
// row (SPEC 3.4, 3.9) — keys where the row has them, input_hash where it has not.
import { describe, expect, it } from 'vitest';
import { classifyTest, hasStoredOutput, regradeItem } from '../../src/eval/regrade-plan.js';
import type { Row } from '../../src/schemas/row.js';
import type { SuiteTest } from '../../src/eval/types.js';

const keys = { test_id: 't', input_hash: 'h1', call_key: 'c1', grading_key: 'g1' };
const row: Row = {
  test_id: 't',
  input_hash: 'h1',
  call_key: 'c1',
  grading_key: 'g1',
  execution_status: 'ok',
  passed: true,
  score: 1,
  assertions: [],
  output: 'hello',
  error: null,
  duration_ms: 1,
  started_at: '2026-12-01T00:00:00.000Z',
  finished_at: '2026-12-01T00:00:00.001Z',
  attempt: 2,
  token_usage: null,
  cost_usd: null,
};
const graded = (r: Partial<Row>) => ({ ...row, ...r }) as Row;

describe('classifyTest', () => {
  it('keys: another call key is changed; only another grading key is a re-grade', () => {
    expect(classifyTest({ row: undefined, keys, mode: 'resume' })).toBe('missing');
    expect(classifyTest({ row, keys, mode: 'resume' })).toBe('done');
    expect(classifyTest({ row: graded({ call_key: 'c0' }), keys, mode: 'resume' })).toBe('changed');
    expect(classifyTest({ row: graded({ grading_key: 'g0', input_hash: 'h0' }), keys, mode: 'resume' })).toBe('regrade');
    // A quality failure: left alone by resume, re-executed by rerun_failed, re-graded when its grading changed.
    const failed = graded({ execution_status: 'quality_failure', passed: false });
    expect(classifyTest({ row: failed, keys, mode: 'resume' })).toBe('done');
    expect(classifyTest({ row: failed, keys, mode: 'rerun_failed' })).toBe('failed');
    expect(classifyTest({ row: { ...failed, grading_key: 'g0' }, keys, mode: 'rerun_failed' })).toBe('regrade');
  });

  it('a grading-phase error with its output is re-graded even with unchanged keys; a target error is re-executed', () => {
    const gradingError = graded({ execution_status: 'execution_error', passed: false, error: 'boom', error_phase: 'grading' });
    expect(hasStoredOutput(gradingError)).toBe(true);
    expect(classifyTest({ row: gradingError, keys, mode: 'resume' })).toBe('regrade');
    const targetError = graded({ execution_status: 'execution_error', passed: false, error: 'exit 1', error_phase: 'target', output: null });
    expect(hasStoredOutput(targetError)).toBe(false);
    expect(classifyTest({ row: { ...targetError, grading_key: 'g0' }, keys, mode: 'resume' })).toBe('errored');
  });

  it('rows written before the keys compare input_hash', () => {
    const { call_key: _c, grading_key: _g, ...old } = row;
    expect(classifyTest({ row: old, keys, mode: 'resume' })).toBe('done');
    expect(classifyTest({ row: { ...old, input_hash: 'h0' }, keys, mode: 'resume' })).toBe('changed');
    expect(classifyTest({ row: { ...old, execution_status: 'execution_error', error_phase: 'grading' }, keys, mode: 'resume' })).toBe('regrade');
  });

  it('a re-grade keeps the attempt and raises grade_seq', () => {
    const test = { id: 't' } as SuiteTest;
    expect(regradeItem({ test, keys, row }).stored).toEqual({ row, gradeSeq: 1 });
    expect(regradeItem({ test, keys, row: graded({ grade_seq: 2 }) })).toMatchObject({ attempt: 2, stored: { gradeSeq: 3 } });
    expect(regradeItem({ test, keys, row: graded({ carried_from: 'src' }) }).stored).toMatchObject({ carriedFrom: 'src' });
  });
});
