// agentv's `tool-trajectory` and `execution-metrics`, judged on what the target reported
// (TargetResponse.trace, tokens, cost) and how long it took. A target that reports no
// trace fails trace checks with that as the reason; a check without its data fails.
import { jsonEqual } from './json-schema.js';
import type { AssertionSpec } from '../types.js';
import { AGENTV_PASS_SCORE } from './code.js';
import type { GradeContext } from './context.js';
import type { Verdict } from './verdict.js';

interface Check {
  text: string;
  passed: boolean;
}

function fromChecks(spec: AssertionSpec, checks: Check[]): Verdict {
  const passed = checks.filter((c) => c.passed).length;
  const score = checks.length ? passed / checks.length : 0;
  const failed = checks.filter((c) => !c.passed).map((c) => c.text);
  return { pass: score >= (spec.threshold ?? AGENTV_PASS_SCORE) && checks.length > 0, score, reason: failed.length ? failed.join('; ') : checks.map((c) => c.text).join('; ') };
}

/** Partial deep match: every key of `want` equals the same key in `got`. */
function argsMatch(want: unknown, got: unknown): boolean {
  if (want === undefined || want === 'any') return true;
  if (want !== null && typeof want === 'object' && !Array.isArray(want)) {
    if (got === null || typeof got !== 'object') return false;
    return Object.entries(want).every(([k, v]) => argsMatch(v, (got as Record<string, unknown>)[k]));
  }
  return jsonEqual({ a: want, b: got });
}

export function toolTrajectoryVerdict(spec: AssertionSpec, ctx: GradeContext): Verdict {
  const trace = ctx.response?.trace;
  if (!trace) return { pass: false, score: 0, reason: 'the target reported no trace (tool calls), so the trajectory cannot be checked' };
  const calls = trace.toolCalls;
  const o = spec.options ?? {};
  const mode = String(o.mode ?? 'any_order');
  if (mode === 'any_order') {
    const checks = Object.entries((o.minimums ?? {}) as Record<string, number>).map(([tool, min]) => {
      const n = calls.filter((c) => c.tool === tool).length;
      return { text: `${tool} called ${n} time(s), at least ${min} wanted`, passed: n >= min };
    });
    return fromChecks(spec, checks);
  }
  const expected = ((o.expected ?? []) as { tool: string; args?: unknown; max_duration_ms?: number }[]);
  const checks: Check[] = [];
  let at = 0;
  expected.forEach((want, i) => {
    let found = -1;
    if (mode === 'exact') found = at < calls.length && calls[at]!.tool === want.tool && argsMatch(want.args, calls[at]!.args) ? at : -1;
    else for (let j = at; j < calls.length; j++) if (calls[j]!.tool === want.tool && argsMatch(want.args, calls[j]!.args)) { found = j; break; }
    checks.push({ text: found >= 0 ? `step ${i + 1}: ${want.tool} called` : `step ${i + 1}: expected ${want.tool}${want.args !== undefined && want.args !== 'any' ? ` with ${JSON.stringify(want.args)}` : ''}, not found in order`, passed: found >= 0 });
    if (found >= 0) {
      const d = calls[found]!.durationMs;
      if (want.max_duration_ms !== undefined && d !== undefined) checks.push({ text: `${want.tool} took ${d} ms (max ${want.max_duration_ms})`, passed: d <= want.max_duration_ms });
      at = found + 1;
    } else if (mode === 'exact') at++;
  });
  if (mode === 'exact' && calls.length !== expected.length) checks.push({ text: `${calls.length} tool calls, exactly ${expected.length} expected`, passed: false });
  return fromChecks(spec, checks);
}

const READ_ONLY = /^(read|view|get|list|search|find|grep|glob|fetch|ls|cat|open)/i;

export function executionMetricsVerdict(spec: AssertionSpec, ctx: GradeContext): Verdict {
  const o = spec.options ?? {};
  const trace = ctx.response?.trace;
  const usage = ctx.response?.tokenUsage;
  const checks: Check[] = [];
  const max = (key: string, label: string, actual: number | undefined) => {
    const limit = o[key];
    if (typeof limit !== 'number') return;
    checks.push(actual === undefined ? { text: `${label}: not reported by the target`, passed: false } : { text: `${label} ${actual} (max ${limit})`, passed: actual <= limit });
  };
  max('max_tool_calls', 'tool calls', trace?.toolCalls.length);
  max('max_llm_calls', 'LLM calls', trace?.llmCalls);
  max('max_tokens', 'tokens', usage?.total);
  max('max_total_tokens', 'tokens', usage?.total);
  max('max_cost_usd', 'cost USD', ctx.response?.costUsd);
  max('max_duration_ms', 'duration ms', trace?.durationMs ?? (ctx.latencyMs !== undefined ? Math.round(ctx.latencyMs) : undefined));
  if (typeof o.target_exploration_ratio === 'number') {
    const tol = typeof o.exploration_tolerance === 'number' ? o.exploration_tolerance : 0.2;
    const calls = trace?.toolCalls ?? [];
    if (!trace || calls.length === 0) checks.push({ text: 'exploration ratio: no tool calls reported', passed: false });
    else {
      const ratio = calls.filter((c) => READ_ONLY.test(c.tool)).length / calls.length;
      checks.push({ text: `exploration ratio ${ratio.toFixed(2)} (target ${o.target_exploration_ratio} ± ${tol})`, passed: Math.abs(ratio - o.target_exploration_ratio) <= tol });
    }
  }
  return fromChecks(spec, checks);
}
