// Scores one test's output against its assertions. Each assertion gives `passed` and a
// score in 0..1; the test's score is their weighted mean. An assertion that cannot judge
// (no grader, a script that times out, anything that throws) fails with the error as its
// reason, is never negated into a pass, and never crashes the run.
import type { AssertionResult } from '../schemas/row.js';
import { evaluateDeterministic } from './assertions/deterministic.js';
import { gradeWithRubric } from './assertions/llm-rubric.js';
import { runScript } from './assertions/script.js';
import { clamp01, type Verdict } from './assertions/verdict.js';
import type { AssertionOutcome, AssertionSpec, SuiteTest, Target } from './types.js';

export interface EvaluateAssertionsOptions {
  assertions: AssertionSpec[];
  output: string;
  test: SuiteTest;
  /** How long the target took; needed by `latency`. */
  latencyMs?: number;
  /** Judges llm-rubric assertions; null when none is configured. */
  grader?: Target | null;
  signal: AbortSignal;
  /** Where `script` commands run. */
  cwd?: string;
  /** Per-script limit; 60 s unless a caller (a test) needs less. */
  scriptTimeoutMs?: number;
}

/** Kinds whose reason is worth keeping when they pass (a judge's or a script's words). */
const EXPLAINED = new Set(['llm-rubric', 'script']);

async function verdictOf(spec: AssertionSpec, o: EvaluateAssertionsOptions): Promise<Verdict> {
  const plain = evaluateDeterministic({ spec, output: o.output, latencyMs: o.latencyMs });
  if (plain) return plain;
  let v: Verdict;
  if (spec.type === 'script') {
    const { test } = o;
    v = await runScript({
      command: spec.command ?? [],
      stdin: { test: { id: test.id, vars: test.vars, metadata: test.metadata }, output: o.output, vars: test.vars },
      cwd: o.cwd ?? process.cwd(),
      timeoutMs: o.scriptTimeoutMs,
      signal: o.signal,
    });
  } else if (spec.type === 'llm-rubric') {
    v = await gradeWithRubric({ rubric: String(spec.value ?? ''), output: o.output, test: o.test, grader: o.grader ?? null, signal: o.signal });
  } else {
    throw new Error(`unknown assertion type "${spec.type}"`);
  }
  // A threshold on a graded kind is the score it must reach.
  return spec.threshold === undefined ? v : { ...v, pass: v.pass && v.score >= spec.threshold };
}

async function evaluateOne(spec: AssertionSpec, o: EvaluateAssertionsOptions): Promise<AssertionResult> {
  const result: AssertionResult = { type: `${spec.negate ? 'not-' : ''}${spec.type}`, passed: false, score: 0, reason: null };
  try {
    const v = await verdictOf(spec, o);
    result.passed = spec.negate ? !v.pass : v.pass;
    result.score = clamp01(spec.negate ? 1 - v.score : v.score);
    result.reason = result.passed && !EXPLAINED.has(spec.type) ? null : v.reason;
  } catch (err) {
    result.reason = err instanceof Error ? err.message : String(err);
  }
  if (spec.weight !== 1) result.weight = spec.weight;
  if (spec.metric !== undefined) result.metric = spec.metric;
  if (spec.required) result.required = true;
  return result;
}

/**
 * Evaluates every assertion of a test (concurrently) and combines them. The score is the
 * weighted mean (all weights 0: the plain mean; no assertions: 1). Without a threshold the
 * test passes when every assertion passes; with one (`test.threshold`, which the loader
 * fills from the suite) it passes when the score reaches it and every `required` one passed.
 * @example const { passed, score, results } = await evaluateAssertions({ assertions: test.assertions, output, test, grader, signal })
 */
export async function evaluateAssertions(o: EvaluateAssertionsOptions): Promise<AssertionOutcome> {
  const results = await Promise.all(o.assertions.map((spec) => evaluateOne(spec, o)));
  if (results.length === 0) return { passed: true, score: 1, results };
  const weights = o.assertions.map((a) => a.weight);
  const total = weights.reduce((s, w) => s + w, 0);
  const score =
    total > 0
      ? results.reduce((s, r, i) => s + r.score * (weights[i] ?? 0), 0) / total
      : results.reduce((s, r) => s + r.score, 0) / results.length;
  const threshold = o.test.threshold;
  const passed =
    threshold === undefined
      ? results.every((r) => r.passed)
      : score >= threshold - 1e-9 && results.every((r, i) => r.passed || !o.assertions[i]?.required);
  return { passed, score, results };
}
