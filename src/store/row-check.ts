// A hand-written reader for the common shape of a stored row, beside the Row
// schema (the authority): reading a 10,000-test run's history parses tens of
// thousands of rows, and zod costs several times this check. It accepts only
// what Row accepts and returns what Row.parse returns (same keys, same order,
// same defaults, unknown keys dropped); anything else, including rare fields
// (trace, carried_from), returns null and the caller asks the schema. The same
// for the input a row names (quickInput, beside the StoredInput schema).
import type { StoredInput } from '../schemas/input.js';
import type { AssertionResult, Row } from '../schemas/row.js';

/** The Row schema, loaded only for what quickRow leaves to it (a damaged or rare row). */
export const rowSchema = async () => (await import('../schemas/row.js')).Row;

const STATUSES = new Set(['ok', 'quality_failure', 'execution_error']);

const isStr = (v: unknown): v is string => typeof v === 'string';
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

function assertionOf(v: unknown): AssertionResult | null {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return null;
  const a = v as Record<string, unknown>;
  if (!isStr(a.type) || !isBool(a.passed) || !isNum(a.score)) return null;
  if (a.reason !== undefined && a.reason !== null && !isStr(a.reason)) return null;
  if (a.weight !== undefined && !isNum(a.weight)) return null;
  if (a.metric !== undefined && !isStr(a.metric)) return null;
  if (a.required !== undefined && !isBool(a.required)) return null;
  return {
    type: a.type,
    passed: a.passed,
    score: a.score,
    reason: (a.reason as string | null | undefined) ?? null,
    ...(a.weight !== undefined && { weight: a.weight as number }),
    ...(a.metric !== undefined && { metric: a.metric as string }),
    ...(a.required !== undefined && { required: a.required as boolean }),
  };
}

/** The row `v` is, when it has the common shape; null means: ask the Row schema. */
export function quickRow(v: unknown): Row | null {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return null;
  const r = v as Record<string, unknown>;
  if (r.trace !== undefined || r.carried_from !== undefined) return null;
  if (!isStr(r.test_id) || r.test_id.length === 0 || !isStr(r.input_hash)) return null;
  if (!isStr(r.execution_status) || !STATUSES.has(r.execution_status) || !isBool(r.passed) || !isNum(r.score)) return null;
  if (r.output !== undefined && r.output !== null && !isStr(r.output)) return null;
  if (r.error !== undefined && r.error !== null && !isStr(r.error)) return null;
  if (!isNum(r.duration_ms) || r.duration_ms < 0) return null;
  if (!isStr(r.started_at) || r.started_at.length === 0 || !isStr(r.finished_at) || r.finished_at.length === 0) return null;
  if (!Number.isSafeInteger(r.attempt) || (r.attempt as number) < 1) return null;
  if (r.cost_usd !== undefined && r.cost_usd !== null && !isNum(r.cost_usd)) return null;
  if (r.error_phase !== undefined && r.error_phase !== null && r.error_phase !== 'target' && r.error_phase !== 'grading') return null;
  if (r.grade_seq !== undefined && !isCount(r.grade_seq)) return null;
  if (r.input_ref !== undefined && r.input_ref !== null && !isStr(r.input_ref)) return null;
  if (r.call_key !== undefined && !isStr(r.call_key)) return null;
  if (r.grading_key !== undefined && !isStr(r.grading_key)) return null;
  if (r.target_ms !== undefined && (!isNum(r.target_ms) || r.target_ms < 0)) return null;
  let tokens: Row['token_usage'] = null;
  if (r.token_usage !== undefined && r.token_usage !== null) {
    const t = r.token_usage as Record<string, unknown>;
    if (typeof t !== 'object' || Array.isArray(t)) return null;
    for (const k of ['prompt', 'completion', 'total']) if (t[k] !== undefined && !isCount(t[k])) return null;
    tokens = { prompt: (t.prompt as number | undefined) ?? 0, completion: (t.completion as number | undefined) ?? 0, total: (t.total as number | undefined) ?? 0 };
  }
  const assertions: AssertionResult[] = [];
  if (r.assertions !== undefined) {
    if (!Array.isArray(r.assertions)) return null;
    for (const x of r.assertions) {
      const a = assertionOf(x);
      if (!a) return null;
      assertions.push(a);
    }
  }
  return {
    test_id: r.test_id,
    input_hash: r.input_hash,
    execution_status: r.execution_status as Row['execution_status'],
    passed: r.passed,
    score: r.score,
    assertions,
    output: (r.output as string | null | undefined) ?? null,
    error: (r.error as string | null | undefined) ?? null,
    duration_ms: r.duration_ms,
    started_at: r.started_at,
    finished_at: r.finished_at,
    attempt: r.attempt as number,
    token_usage: tokens,
    cost_usd: (r.cost_usd as number | null | undefined) ?? null,
    ...(r.error_phase !== undefined && { error_phase: r.error_phase as Row['error_phase'] }),
    ...(r.grade_seq !== undefined && { grade_seq: r.grade_seq as number }),
    ...(r.input_ref !== undefined && { input_ref: r.input_ref as string | null }),
    ...(r.call_key !== undefined && { call_key: r.call_key as string }),
    ...(r.grading_key !== undefined && { grading_key: r.grading_key as string }),
    ...(r.target_ms !== undefined && { target_ms: r.target_ms as number }),
  };
}

/** The stored input `v` is, when it has the common shape; null means: ask the StoredInput schema. */
export function quickInput(v: unknown): StoredInput | null {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return null;
  const d = v as Record<string, unknown>;
  if (d.prompt !== null && !isStr(d.prompt)) return null;
  let messages: StoredInput['messages'] = null;
  if (d.messages !== null) {
    if (!Array.isArray(d.messages)) return null;
    messages = [];
    for (const m of d.messages as unknown[]) {
      const x = m as Record<string, unknown> | null;
      if (x === null || typeof x !== 'object' || Array.isArray(x) || !isStr(x.role) || !isStr(x.content)) return null;
      messages.push({ role: x.role, content: x.content });
    }
  }
  // A record's keys are copied one by one; `__proto__` would not survive that as a key: the schema decides.
  const vars = d.vars as Record<string, unknown> | null;
  if (vars === null || typeof vars !== 'object' || Array.isArray(vars) || Object.hasOwn(vars, '__proto__')) return null;
  if (d.expected_output === undefined) return null;
  return { prompt: d.prompt as string | null, messages, vars: { ...vars }, expected_output: d.expected_output };
}
