// Scores one test's output against its assertions. Each assertion gives `passed` and a
// score in 0..1; the test's score is their weighted mean (or what the suite's
// assertScoringFunction makes of them). An assertion that cannot judge (a time limit,
// a crash in user code, no grader, a process that cannot start) fails with the error as
// its reason, is never negated into a pass, and sets `error`: the runner then writes an
// execution_error in the grading phase, keeping the output so it can be re-graded.
// Code that can run forever (regex, javascript, python, scripts) runs off the main
// thread or in a registered child, bounded by limits.assertion_timeout_ms.
import type { AssertionResult } from '../schemas/row.js';
import {
  applyTransform,
  codeGraderVerdict,
  fileRef,
  javascriptVerdict,
  pythonVerdict,
  scriptVerdict,
  verdictFromReturn,
} from './assertions/code.js';
import type { GradeContext } from './assertions/context.js';
import { evaluateDeterministic } from './assertions/deterministic.js';
import {
  answerRelevanceVerdict,
  closedQaVerdict,
  factualityVerdict,
  gEvalVerdict,
  llmGraderVerdict,
  llmRubricVerdict,
  rubricsVerdict,
} from './assertions/model-graded.js';
import { runSandboxed } from './assertions/sandbox.js';
import { similarVerdict } from './assertions/similar.js';
import { executionMetricsVerdict, toolTrajectoryVerdict } from './assertions/trace.js';
import { goalRubric, trajectoryVerdict } from './assertions/trajectory.js';
import { clamp01, GradingError, type Verdict } from './assertions/verdict.js';
import type { ProcessRegistry } from './targets/process-registry.js';
import type { AssertionOutcome, AssertionSpec, SuiteTest, Target, TargetResponse } from './types.js';

export { normaliseAssertion, usesGrader } from './assertions/normalise.js';

/** SPEC 2.1a: limits.assertion_timeout_ms */
export const DEFAULT_ASSERTION_TIMEOUT_MS = 30_000;

export interface EvaluateAssertionsOptions {
  assertions: AssertionSpec[];
  output: string;
  test: SuiteTest;
  /** How long the target took; needed by `latency`. */
  latencyMs?: number;
  /** What the target reported besides its output (tokens, cost, trace). */
  response?: Omit<TargetResponse, 'output'>;
  /** Judges model-graded assertions; null when none is configured. */
  grader?: Target | null;
  /** Resolves a grader named on one assertion (`provider:`, agentv `target:`). */
  resolveGrader?: (name: string) => Target;
  signal: AbortSignal;
  /** The repository root: where commands run and suite files resolve from. */
  cwd?: string;
  /** Where spawned processes register, so a stop ends them and what they started. */
  registry?: ProcessRegistry | null;
  /** limits.assertion_timeout_ms for regex, javascript, python, script and code graders. */
  timeoutMs?: number;
  /** @deprecated the same as timeoutMs */
  scriptTimeoutMs?: number;
  /** promptfoo `assertScoringFunction` (`file://scoring.js[:fn]`, relative to `cwd`), replacing the weighted mean. */
  scoringFunction?: string;
}

/** Kinds whose reason is worth keeping when they pass (a judge's, a script's or a function's words). */
const EXPLAINED = new Set([
  'llm-rubric', 'script', 'javascript', 'python', 'code-grader', 'llm-grader', 'rubrics', 'model-graded-closedqa', 'factuality',
  'answer-relevance', 'g-eval', 'similar', 'assert-set', 'composite', 'tool-trajectory', 'execution-metrics', 'levenshtein',
  'trajectory:tool-used', 'trajectory:tool-sequence', 'trajectory:tool-args-match', 'trajectory:step-count', 'trajectory:goal-success',
]);
/** Kinds that read `threshold` themselves (as a limit, a pass mark or a default); others must reach it with their score. */
const OWN_THRESHOLD = new Set([
  'latency', 'cost', 'levenshtein', 'similar', 'javascript', 'python', 'g-eval', 'answer-relevance', 'assert-set', 'composite',
  'code-grader', 'llm-grader', 'rubrics', 'tool-trajectory', 'execution-metrics',
]);

type Judge = (spec: AssertionSpec, ctx: GradeContext, output: string) => Verdict | Promise<Verdict>;

const JUDGES: Record<string, Judge> = {
  regex: regexVerdict,
  javascript: javascriptVerdict,
  python: pythonVerdict,
  script: scriptVerdict,
  'code-grader': codeGraderVerdict,
  'llm-rubric': llmRubricVerdict,
  'llm-grader': llmGraderVerdict,
  rubrics: rubricsVerdict,
  'model-graded-closedqa': closedQaVerdict,
  factuality: factualityVerdict,
  'answer-relevance': answerRelevanceVerdict,
  'g-eval': gEvalVerdict,
  similar: similarVerdict,
  'tool-trajectory': (spec, ctx) => toolTrajectoryVerdict(spec, ctx),
  'execution-metrics': (spec, ctx) => executionMetricsVerdict(spec, ctx),
  'trajectory:tool-used': (spec, ctx) => trajectoryVerdict(spec, ctx),
  'trajectory:tool-sequence': (spec, ctx) => trajectoryVerdict(spec, ctx),
  'trajectory:tool-args-match': (spec, ctx) => trajectoryVerdict(spec, ctx),
  'trajectory:step-count': (spec, ctx) => trajectoryVerdict(spec, ctx),
  'trajectory:goal-success': (spec, ctx, output) => llmRubricVerdict({ ...spec, value: goalRubric(spec, ctx) }, ctx, output),
  'assert-set': setVerdict,
  composite: setVerdict,
};

/** regex off the main thread: a catastrophic pattern is cut off, never hangs the run. */
async function regexVerdict(spec: AssertionSpec, ctx: GradeContext, output: string): Promise<Verdict> {
  const pattern = String(spec.value ?? '');
  const flags = typeof spec.options?.flags === 'string' ? spec.options.flags : '';
  const matched = await runSandboxed({ job: { kind: 'regex', pattern, flags, text: output }, timeoutMs: ctx.timeoutMs, signal: ctx.signal, what: `regex /${pattern}/` });
  return matched === true
    ? { pass: true, score: 1, reason: `output matches /${pattern}/${flags}` }
    : { pass: false, score: 0, reason: `output does not match /${pattern}/${flags}` };
}

/**
 * `assert-set` (promptfoo, agentv 5.x) and `composite` (agentv 4.x): children graded
 * independently, combined by weighted mean (composite `aggregator.weights` by child name,
 * `minimum`, `all_pass`); passes at `threshold` (composite: `aggregator.threshold` or
 * `min_score`), else when every weighted child passes.
 */
async function setVerdict(spec: AssertionSpec, ctx: GradeContext, output: string): Promise<Verdict> {
  const children = spec.children ?? [];
  const results = await Promise.all(children.map((c) => evaluateOne(c, ctx, output)));
  const failedError = results.find((r) => r.error);
  if (failedError) throw new GradingError(failedError.error!);
  const agg = (spec.options?.aggregator ?? {}) as { type?: string; weights?: Record<string, number>; threshold?: number };
  const weights = children.map((c) => (c.metric !== undefined && agg.weights?.[c.metric] !== undefined ? agg.weights[c.metric]! : c.weight));
  const scores = results.map((r) => r.result.score);
  let score: number;
  if (agg.type === 'minimum') score = Math.min(...scores);
  else if (agg.type === 'all_pass') score = results.every((r) => r.result.passed) ? 1 : 0;
  else score = weightedMean(scores, weights);
  const threshold = spec.threshold ?? agg.threshold ?? (typeof spec.options?.min_score === 'number' ? spec.options.min_score : undefined);
  const pass =
    threshold !== undefined
      ? score >= threshold - 1e-9 && results.every((r, i) => r.result.passed || !children[i]!.required)
      : results.every((r, i) => r.result.passed || weights[i] === 0);
  const shown = results.map((r) => `${r.result.passed ? 'pass' : 'FAIL'} ${r.result.metric ?? r.result.type}${r.result.passed || !r.result.reason ? '' : `: ${r.result.reason}`}`);
  return { pass, score, reason: `${results.filter((r) => r.result.passed).length}/${results.length} passed (${shown.join('; ')})` };
}

function weightedMean(scores: number[], weights: number[]): number {
  if (scores.length === 0) return 1;
  const total = weights.reduce((s, w) => s + w, 0);
  return total > 0 ? scores.reduce((s, x, i) => s + x * (weights[i] ?? 0), 0) / total : scores.reduce((s, x) => s + x, 0) / scores.length;
}

async function verdictOf(spec: AssertionSpec, ctx: GradeContext, output: string): Promise<Verdict> {
  const plain = evaluateDeterministic({ spec, output, latencyMs: ctx.latencyMs, costUsd: ctx.response?.costUsd });
  if (plain) return plain;
  const judge = JUDGES[spec.type];
  if (!judge) throw new GradingError(`unknown assertion type "${spec.type}"`);
  const v = await judge(spec, ctx, output);
  // A threshold on another graded kind is the score it must reach.
  return spec.threshold === undefined || OWN_THRESHOLD.has(spec.type) ? v : Object.assign({}, v, { pass: v.pass && v.score >= spec.threshold });
}

type Graded = { result: AssertionResult; error?: string };

async function evaluateOne(spec: AssertionSpec, ctx: GradeContext, output: string): Promise<Graded> {
  try {
    const seen = spec.transform !== undefined ? await applyTransform({ transform: spec.transform, output, spec, ctx }) : output;
    return gradedOf(spec, await verdictOf(spec, ctx, seen));
  } catch (err) {
    return gradedOf(spec, null, err);
  }
}

/** One assertion's result from its verdict, or from the error that kept it from judging (`v` null). */
function gradedOf(spec: AssertionSpec, v: Verdict | null, err?: unknown): Graded {
  const result: AssertionResult = { type: `${spec.negate ? 'not-' : ''}${spec.type}`, passed: false, score: 0, reason: null };
  let error: string | undefined;
  if (v) {
    result.passed = spec.negate ? !v.pass : v.pass;
    result.score = clamp01(spec.negate ? 1 - v.score : v.score);
    // agentv's `required: 0.6`: this assertion passes when its score reaches 0.6.
    const gate = spec.options?.required_score;
    if (typeof gate === 'number') result.passed = result.score >= gate - 1e-9;
    result.reason = result.passed && !EXPLAINED.has(spec.type) ? null : v.reason;
  } else {
    result.reason = err instanceof Error ? err.message : String(err);
    error = result.reason;
  }
  if (spec.weight !== 1) result.weight = spec.weight;
  if (spec.metric !== undefined) result.metric = spec.metric;
  if (spec.required) result.required = true;
  return error === undefined ? { result } : { result, error };
}

/**
 * evaluateAssertions without promises, for tests whose assertions all judge the
 * output itself (contains, equals, is-json, latency, ...: evaluateDeterministic)
 * with no transform and no scoring function; null for any other test. The same
 * outcome as evaluateAssertions: a re-grade of 10,000 such tests then costs no
 * promise per assertion.
 */
export function evaluateAssertionsSync(o: EvaluateAssertionsOptions): AssertionOutcome | null {
  if (o.scoringFunction !== undefined) return null;
  const graded: Graded[] = [];
  for (const spec of o.assertions) {
    if (spec.transform !== undefined) return null;
    let v: Verdict | null;
    try {
      v = evaluateDeterministic({ spec, output: o.output, latencyMs: o.latencyMs, costUsd: o.response?.costUsd });
    } catch (err) {
      graded.push(gradedOf(spec, null, err));
      continue;
    }
    if (!v) return null;
    graded.push(gradedOf(spec, v));
  }
  return combine(o, graded);
}

/** The test's outcome from its assertions' results: the weighted mean, the threshold, `required`. */
function combine(o: EvaluateAssertionsOptions, graded: Graded[]): AssertionOutcome {
  const results = graded.map((g) => g.result);
  const error = graded.find((g) => g.error !== undefined)?.error;
  const withError = <T extends object>(x: T) => (error === undefined ? x : Object.assign({}, x, { error }));
  if (results.length === 0) return withError({ passed: true, score: 1, results });
  const score = weightedMean(results.map((r) => r.score), o.assertions.map((a) => a.weight));
  const threshold = o.test.threshold;
  const passed =
    threshold === undefined
      ? results.every((r) => r.passed)
      : score >= threshold - 1e-9 && results.every((r, i) => r.passed || !o.assertions[i]?.required);
  return withError({ passed, score, results });
}

/**
 * Evaluates every assertion of a test (concurrently) and combines them. The score is the
 * weighted mean (all weights 0: the plain mean; no assertions: 1). Without a threshold the
 * test passes when every assertion passes; with one (`test.threshold`, which the loader
 * fills from the suite) it passes when the score reaches it and every `required` one passed.
 * @example const { passed, score, results, error } = await evaluateAssertions({ assertions: test.assertions, output, test, grader, signal })
 */
export async function evaluateAssertions(o: EvaluateAssertionsOptions): Promise<AssertionOutcome> {
  const ctx: GradeContext = {
    test: o.test,
    ...(o.latencyMs !== undefined && { latencyMs: o.latencyMs }),
    ...(o.response && { response: o.response }),
    grader: o.grader ?? null,
    ...(o.resolveGrader && { resolveGrader: o.resolveGrader }),
    signal: o.signal,
    cwd: o.cwd ?? process.cwd(),
    registry: o.registry ?? null,
    timeoutMs: o.timeoutMs ?? o.scriptTimeoutMs ?? DEFAULT_ASSERTION_TIMEOUT_MS,
  };
  const graded = await Promise.all(o.assertions.map((spec) => evaluateOne(spec, ctx, o.output)));
  const error = graded.find((g) => g.error !== undefined)?.error;
  if (graded.length > 0 && o.scoringFunction !== undefined && error === undefined) {
    const results = graded.map((g) => g.result);
    const v = await scoreWithFunction({ ref: o.scoringFunction, results, threshold: o.test.threshold, ctx }).catch((err: Error) => err);
    if (v instanceof Error) return { passed: false, score: 0, results, error: v.message };
    return { passed: v.pass, score: v.score, results };
  }
  return combine(o, graded);
}

/**
 * promptfoo's `assertScoringFunction`: a javascript function (`file://scoring.js[:fn]`)
 * given the named scores (metric → score) and `{threshold, componentResults}`, returning
 * a boolean, a number or `{pass, score, reason}`. Runs like a javascript assertion.
 * @example await scoreWithFunction({ ref: 'file://scoring.js:custom', results, threshold: 0.8, ctx })
 */
export async function scoreWithFunction({ ref, results, threshold, ctx }: { ref: string; results: AssertionResult[]; threshold?: number; ctx: GradeContext }): Promise<Verdict> {
  const file = fileRef(ref.startsWith('file://') ? ref : `file://${ref}`)!;
  const named: Record<string, number> = {};
  results.forEach((r, i) => (named[r.metric ?? `${r.type}#${i}`] = r.score));
  const componentResults = results.map((r) => ({ pass: r.passed, score: r.score, reason: r.reason, assertion: { type: r.type, metric: r.metric } }));
  const out = await runSandboxed({
    job: { kind: 'js', file: file.file.startsWith('/') ? file.file : `${ctx.cwd}/${file.file}`, ...(file.fn ? { fn: file.fn } : {}), output: named as never, context: { threshold, componentResults } },
    timeoutMs: ctx.timeoutMs,
    signal: ctx.signal,
    what: 'assertScoringFunction',
  });
  return verdictFromReturn(out, threshold, 'assertScoringFunction');
}
