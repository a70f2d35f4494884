// The worker pool that executes planned tests into a run. Each finished test
// becomes a row that is durable (journal, fsync) before it is reported; rows
// reach the ref by group commit. stop() stops scheduling and lets in-flight
// tests finish within the grace period, then ends their process groups;
// stopNow() ends them at once. A test cut short writes no row: it stays
// missing, and a resume runs it again.
import type { PlannedTest } from '../schemas/manifest.js';
import type { StoredInput } from '../schemas/input.js';
import type { Row } from '../schemas/row.js';
import { inputRefOf, type RowWriter } from '../store/index.js';
import { DEFAULT_ASSERTION_TIMEOUT_MS, evaluateAssertions, evaluateAssertionsSync } from './assertions.js';
import { applyTransform } from './assertions/code.js';
import { storedInputOf } from './input.js';
import { RuntimeValueError, RuntimeVars } from './runtime-vars.js';
import { schedule } from './schedule.js';
import { TemplateError } from './template.js';
import type { ProcessRegistry } from './targets/process-registry.js';
import { TargetError, type SuiteTest, type Target, type TargetResponse, type TargetTrace } from './types.js';

export interface WorkItem {
  test: SuiteTest;
  /** The test's keys as planned: every row it writes records them. */
  planned: PlannedTest;
  attempt: number;
  /**
   * Grade this stored output instead of calling the target (SPEC 3.9): a
   * re-grade appends `grade_seq`; a reused output names the run it came from.
   */
  stored?: { row: Row; gradeSeq: number; carriedFrom?: string };
}

/** The target's response as a row recorded it, for grading it again without a call. */
export function responseOfRow(row: Row): TargetResponse {
  return {
    output: row.output ?? '',
    ...(row.token_usage && { tokenUsage: row.token_usage }),
    ...(row.cost_usd !== null && { costUsd: row.cost_usd }),
    ...(row.trace && {
      trace: {
        toolCalls: row.trace.tool_calls.map((c) => ({ tool: c.tool, ...(c.args !== undefined && { args: c.args }), ...(c.duration_ms !== undefined && { durationMs: c.duration_ms }) })),
        ...(row.trace.llm_calls !== undefined && { llmCalls: row.trace.llm_calls }),
        ...(row.trace.duration_ms !== undefined && { durationMs: row.trace.duration_ms }),
      },
    }),
  };
}

function traceOf(trace: TargetTrace | undefined): Row['trace'] | undefined {
  if (!trace) return undefined;
  return {
    tool_calls: trace.toolCalls.map((c) => ({ tool: c.tool, ...(c.args !== undefined && { args: c.args }), ...(c.durationMs !== undefined && { duration_ms: c.durationMs }) })),
    ...(trace.llmCalls !== undefined && { llm_calls: trace.llmCalls }),
    ...(trace.durationMs !== undefined && { duration_ms: trace.durationMs }),
  };
}

/** Rows written to the journal that may wait for its sync at once (each holds its row and input). */
const MAX_UNSYNCED = 1024;

export interface ProgressEvent {
  row: Row;
  done: number;
  total: number;
}

export interface ExecuteOptions {
  items: WorkItem[];
  target: Target;
  grader: Target | null;
  writer: RowWriter;
  registry: ProcessRegistry;
  workers: number;
  cwd: string;
  /** limits.assertion_timeout_ms */
  assertionTimeoutMs?: number;
  /** A grader named on one assertion (`provider:` / `target:`). */
  resolveGrader?: (name: string) => Target;
  /** The suite's assertScoringFunction (promptfoo), replacing the weighted mean. */
  scoringFunction?: string;
  now?: () => Date;
  onRow?: (e: ProgressEvent) => void;
  /**
   * For suites with storeOutputAs or _conversation: every test of the suite and the current
   * rows of the run being continued, whose outputs later tests read. A test then starts only
   * once the tests it reads are settled; the others still run side by side.
   */
  runtime?: { tests: SuiteTest[]; rows: Row[] };
}

export interface ExecuteResult {
  rows: Row[];
  stopped: boolean;
  /** Tests that were started but cut short by a stop. */
  cutShort: number;
}

function promptText(test: SuiteTest): string {
  return typeof test.prompt === 'string' ? test.prompt : test.prompt.map((m) => `${m.role}: ${m.content}`).join('\n');
}

export class Executor {
  private readonly abort = new AbortController();
  private stopping = false;
  private graceTimer: NodeJS.Timeout | null = null;
  private inFlight = 0;

  constructor(private readonly opts: ExecuteOptions) {}

  get isStopping(): boolean {
    return this.stopping;
  }

  get running(): number {
    return this.inFlight;
  }

  /** First signal: no new tests; in-flight ones get `graceMs` to finish. */
  stop(graceMs: number): void {
    if (this.stopping) return;
    this.stopping = true;
    this.graceTimer = setTimeout(() => this.stopNow(), graceMs);
    this.graceTimer.unref();
  }

  /** Second signal, or the grace period is over: end every target process group now. */
  stopNow(): void {
    this.stopping = true;
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.abort.abort();
    this.opts.registry.killAll('SIGKILL');
  }

  async run(): Promise<ExecuteResult> {
    const { items, workers } = this.opts;
    const rows: Row[] = [];
    let cutShort = 0;
    const runtime = this.runtimeVars();
    const take = schedule(items, runtime !== null);
    // A worker goes on to its next test once its row is written to the journal
    // (in the page cache: a killed process loses nothing written), not once it
    // is fsync'd: rows finishing meanwhile share one sync, so a fast target is
    // not held to one sync per worker. A row is still reported (progress line,
    // events, counts) only once durable, in order. So a killed process costs at
    // most the `workers` tests executing; a machine that loses power can also
    // cost the rows awaiting their sync (at most MAX_UNSYNCED, a few ms' worth).
    // Re-graded rows are not even written at once: a crash costs re-grades only.
    const settling = new Set<Promise<void>>();
    let writeFailure: unknown = null;
    // A worker that throws stops the others taking tests; the run ends only once every worker and every
    // row awaiting its sync has settled (the session then closes the journal: nothing may still write to it).
    let workerFailure: unknown = null;
    const durable = (row: Row, input: StoredInput | undefined, defer: boolean) =>
      this.opts.writer.add(row, input, { defer }).then(() => {
        rows.push(row);
        this.opts.onRow?.({ row, done: rows.length, total: items.length });
      });
    const worker = async () => {
      while (!this.stopping && writeFailure === null && workerFailure === null) {
        const next = take.next();
        if (next === null) break;
        if (next === 'wait') {
          await take.settledOne();
          continue;
        }
        const item = next;
        this.inFlight++;
        try {
          // A test that reads run-time values is rendered now; what it was sent is what is stored.
          let test = item.test;
          let failure: string | undefined;
          if (runtime) {
            try {
              test = await runtime.resolve(item.test);
            } catch (e) {
              if (!(e instanceof RuntimeValueError || e instanceof TemplateError)) throw e;
              failure = e.message;
            }
          }
          // A stored output's input is on the ref already when its row named the same one. A row
          // with this test's call key was asked exactly this (prompt and vars): its input is not hashed again.
          const prior = item.stored?.row;
          const same = typeof prior?.input_ref === 'string' && prior.call_key !== undefined && prior.call_key === item.planned.call_key && !test.runtime;
          const stored = same ? undefined : storedInputOf(test);
          const ref = same ? prior.input_ref! : inputRefOf(stored!);
          const input = stored === undefined || prior?.input_ref === ref ? undefined : stored;
          const row = await this.execute(Object.assign({}, item, { test }), ref, failure);
          runtime?.finished(test.id, test.prompt, row?.output ?? null);
          if (row === null) {
            cutShort++;
            continue;
          }
          // A re-graded row (no target call to lose) is written with the others of this turn, in one write.
          const p: Promise<void> = durable(row, input, item.stored !== undefined)
            .catch((e) => void (writeFailure ??= e))
            .finally(() => settling.delete(p));
          settling.add(p);
          if (settling.size >= MAX_UNSYNCED) await Promise.race(settling);
        } finally {
          this.inFlight--;
          take.settle(item.test.id);
        }
      }
    };
    const guarded = () => worker().catch((e: unknown) => void (workerFailure ??= e));
    await Promise.all(Array.from({ length: Math.max(1, Math.min(workers, items.length)) }, guarded));
    await Promise.all(settling);
    if (workerFailure !== null) throw workerFailure;
    if (writeFailure !== null) throw writeFailure;
    if (this.graceTimer) clearTimeout(this.graceTimer);
    return { rows, stopped: this.stopping, cutShort };
  }

  private runtimeVars(): RuntimeVars | null {
    const seed = this.opts.runtime;
    if (!seed || !RuntimeVars.used(seed.tests)) return null;
    return new RuntimeVars(seed.tests, seed.rows, (test, output, store) =>
      applyTransform({
        transform: store.transform!,
        output,
        spec: { type: 'equals', negate: false, weight: 1, required: false, ...(store.suiteDir ? { options: { dir: store.suiteDir } } : {}) },
        ctx: { test, grader: null, signal: this.abort.signal, cwd: this.opts.cwd, registry: this.opts.registry, timeoutMs: this.opts.assertionTimeoutMs ?? DEFAULT_ASSERTION_TIMEOUT_MS },
      }),
    );
  }

  /** One test: call the target, judge the output. null when a stop cut it short. `failure`: it cannot run (a value it reads is missing). */
  private async execute(item: WorkItem, inputRef: string, failure?: string): Promise<Row | null> {
    const { test } = item;
    const now = this.opts.now ?? (() => new Date());
    const signal = this.abort.signal;
    const started = now();
    const t0 = performance.now();
    const base = {
      test_id: test.id,
      input_hash: item.planned.input_hash,
      ...(item.planned.call_key !== undefined && { call_key: item.planned.call_key }),
      ...(item.planned.grading_key !== undefined && { grading_key: item.planned.grading_key }),
      attempt: item.attempt,
      input_ref: inputRef,
      started_at: started.toISOString(),
      token_usage: null,
      cost_usd: null,
    };
    // Object.assign, not `{ ...base, ...fields, ... }`: V8 (Node 20) gives every object built
    // by a literal that starts with a spread a map of its own; rows built that way made a
    // 10,000-test re-grade ~20 % slower end to end (measured).
    const finish = (fields: Omit<Row, keyof typeof base | 'duration_ms' | 'finished_at'> & Partial<Row>): Row =>
      Object.assign({}, base, fields, { duration_ms: Math.round(performance.now() - t0), finished_at: now().toISOString() });
    if (failure !== undefined) {
      if (signal.aborted) return null;
      return finish({ execution_status: 'execution_error', passed: false, score: 0, assertions: [], output: null, error: failure, error_phase: 'target' });
    }
    let response: TargetResponse;
    let latencyMs: number;
    if (item.stored) {
      // No call: the output a row already holds is judged under the current assertions.
      response = responseOfRow(item.stored.row);
      latencyMs = item.stored.row.target_ms ?? item.stored.row.duration_ms;
    } else {
      try {
        response = await this.opts.target.call({ prompt: test.prompt, promptText: promptText(test), testId: test.id, vars: test.vars, signal });
      } catch (e) {
        if (signal.aborted) return null;
        const message = e instanceof TargetError ? e.message : `target failed: ${(e as Error).message}`;
        return finish({ execution_status: 'execution_error', passed: false, score: 0, assertions: [], output: null, error: message, error_phase: 'target' });
      }
      latencyMs = performance.now() - t0;
    }
    const { output, ...reported } = response;
    const grading = {
      assertions: test.assertions,
      output,
      test,
      latencyMs,
      response: reported,
      grader: this.opts.grader,
      ...(this.opts.resolveGrader && { resolveGrader: this.opts.resolveGrader }),
      signal,
      cwd: this.opts.cwd,
      registry: this.opts.registry,
      ...(this.opts.assertionTimeoutMs !== undefined && { timeoutMs: this.opts.assertionTimeoutMs }),
      ...((test.assertScoringFunction ?? this.opts.scoringFunction) !== undefined && { scoringFunction: test.assertScoringFunction ?? this.opts.scoringFunction }),
    };
    // Assertions that judge the output alone (contains, equals, ...) are graded without a promise each.
    const outcome = evaluateAssertionsSync(grading) ?? (await evaluateAssertions(grading));
    if (signal.aborted) return null;
    const trace = traceOf(response.trace);
    // A literal that starts with a member, not a spread: V8 gives one that starts with a
    // spread a map of its own, and 10,000 rows with 10,000 maps are slow everywhere after.
    const usage = {
      target_ms: Math.round(latencyMs),
      ...(response.tokenUsage && { token_usage: response.tokenUsage }),
      ...(response.costUsd !== undefined && { cost_usd: response.costUsd }),
      ...(trace && { trace }),
      ...(item.stored && { grade_seq: item.stored.gradeSeq }),
      ...(item.stored?.carriedFrom !== undefined && { carried_from: item.stored.carriedFrom }),
    };
    // An assertion that could not judge: the output is kept, so the test can be re-graded.
    if (outcome.error !== undefined) {
      return finish({
        execution_status: 'execution_error',
        passed: false,
        score: 0,
        assertions: outcome.results,
        output: response.output,
        error: outcome.error,
        error_phase: 'grading',
        ...usage,
      });
    }
    return finish({
      execution_status: outcome.passed ? 'ok' : 'quality_failure',
      passed: outcome.passed,
      score: outcome.score,
      assertions: outcome.results,
      output: response.output,
      error: null,
      ...usage,
    });
  }
}
