// `agentv eval` and `agentv resume`: plan, run, report. Exit codes: 0 all
// passed, 1 failures or errors, 2 bad input or a refused resume (nothing
// written), 130/143 stopped by SIGINT/SIGTERM.
import type { Manifest } from '../../src/schemas/manifest.js';
import { closeSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { RunEvent } from '../../src/schemas/events.js';
import { AgentvError, classifyFault } from '../../src/errors.js';
import { RunId } from '../../src/schemas/common.js';
import type { SliceRef } from '../../src/schemas/manifest.js';
import { parseShard } from '../../src/eval/shard.js';
import type { EvalRunJson } from '../../src/schemas/compare.js';
import { EvalSession, resumeCommand, type EvalMode } from '../../src/eval/session.js';
import { dryRunReport, printDryRun } from './eval-dry-run.js';
import { currentRows, manifestOutcome, readRun } from '../../src/store/index.js';
import { derivedMetrics } from '../../src/eval/derived-metrics.js';
import type { CommandContext, CommandResult } from '../context.js';
import { Progress } from '../progress.js';
import { percent } from '../format.js';
import { checkBaselineFlags, compareWithBaseline, resolveBaselines, type BaselineOptions } from './baseline.js';

export interface EvalOptions extends BaselineOptions {
  target?: string;
  grader?: string;
  workers?: string;
  runId?: string;
  testId?: string[];
  tag?: string[];
  json?: boolean;
  resume?: string | boolean;
  rerunFailed?: string | boolean;
  retryErrors?: string;
  acceptChanged?: boolean;
  stopGrace?: string;
  /** FILE or `-` (stdout): the run's events as NDJSON. */
  events?: string;
  dryRun?: boolean;
  /** `I/N`: one slice of a sharded run. */
  shard?: string;
  /** --reuse (true), --no-reuse (false), or neither (the config decides). */
  reuse?: boolean;
}

export function positiveInt(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 1024) throw new AgentvError('USAGE', `${flag} takes a whole number from 1 to 1024, not ${JSON.stringify(text)}`);
  return n;
}

function modeOf(opts: EvalOptions): { mode: EvalMode; fromRunId?: string } {
  const chosen = [opts.resume !== undefined && '--resume', opts.rerunFailed !== undefined && '--rerun-failed', opts.retryErrors !== undefined && '--retry-errors'].filter(
    Boolean,
  );
  if (chosen.length > 1) throw new AgentvError('USAGE', `${chosen.join(' and ')} cannot be combined: choose one`);
  const id = (v: string | boolean | undefined) => (typeof v === 'string' ? v : undefined);
  const mode: EvalMode = opts.resume !== undefined ? 'resume' : opts.rerunFailed !== undefined ? 'rerun_failed' : opts.retryErrors !== undefined ? 'retry_errors' : 'new';
  const fromRunId = id(opts.resume) ?? id(opts.rerunFailed) ?? id(opts.retryErrors);
  if (fromRunId !== undefined && !RunId.safeParse(fromRunId).success) throw new AgentvError('USAGE', `invalid run id: ${JSON.stringify(fromRunId)}`);
  if (opts.acceptChanged && mode === 'new') throw new AgentvError('USAGE', '--accept-changed goes with --resume, --rerun-failed or --retry-errors');
  if (opts.runId !== undefined && (mode === 'resume' || mode === 'rerun_failed')) {
    throw new AgentvError('USAGE', '--run-id names a new run; --resume and --rerun-failed continue the run you name: --resume <run_id>');
  }
  return { mode, fromRunId };
}

export async function evalCommand(ctx: CommandContext, suites: string[], opts: EvalOptions, argv: string[]): Promise<CommandResult> {
  const { mode, fromRunId } = modeOf(opts);
  const shard = opts.shard === undefined ? undefined : parseShard(opts.shard);
  checkBaselineFlags(opts);
  // Unset: the suite's evaluateOptions.maxConcurrency, else 4.
  const workers = opts.workers === undefined ? undefined : positiveInt('--workers', opts.workers, 4);
  const graceMs = opts.stopGrace === undefined ? 10_000 : Number(opts.stopGrace) * 1000;
  if (!Number.isFinite(graceMs) || graceMs < 0) throw new AgentvError('USAGE', `--stop-grace takes seconds, not ${JSON.stringify(opts.stopGrace)}`);
  if (opts.runId !== undefined && !RunId.safeParse(opts.runId).success) throw new AgentvError('USAGE', `invalid --run-id: ${JSON.stringify(opts.runId)}`);
  if (suites.length > 1 && (opts.runId || fromRunId)) throw new AgentvError('USAGE', '--run-id and resume modes take one suite');
  if (opts.events === '-' && opts.json) throw new AgentvError('USAGE', '--events - writes to stdout, where --json goes too: give --events a file, or drop --json');
  const events = eventSink(ctx, opts.events);
  // Signals are ours from the start: one during planning ends the command
  // before anything runs, with the same exit code as a stop mid-run.
  let signal: NodeJS.Signals | null = null;
  // The runs going on now: one, or one per provider of a suite (they run together).
  let current: { session: EvalSession; progress: Progress }[] = [];
  const onSignal = (sig: NodeJS.Signals) => {
    if (signal) {
      for (const c of current) {
        c.progress.say('Second signal: ending target processes now.');
        c.session.stopNow();
      }
      return;
    }
    signal = sig;
    for (const c of current) {
      c.progress.say(`Stopping: no new tests; waiting up to ${graceMs / 1000}s for ${c.session.inFlight} in flight (signal again to stop now).`);
      c.session.stop(graceMs);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await evalSuites(ctx, suites, { ...opts, mode, fromRunId, shardRef: shard, workerCount: workers, graceMs, argv, sink: events }, () => signal, (c) => (current = c));
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    events?.close();
  }
}

/** `--events FILE|-`: one RunEvent per line, written synchronously so a reader sees each as it happens. */
export function eventSink(ctx: CommandContext, target: string | undefined): { write: (e: RunEvent) => void; close: () => void } | null {
  if (target === undefined) return null;
  if (target === '-') return { write: (e) => ctx.io.stdout(`${JSON.stringify(e)}\n`), close: () => {} };
  let fd: number;
  try {
    fd = openSync(path.resolve(ctx.cwd, target), 'w');
  } catch (e) {
    throw new AgentvError('USAGE', `--events: cannot write ${target}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return { write: (e) => void writeSync(fd, `${JSON.stringify(e)}\n`), close: () => closeSync(fd) };
}

async function evalSuites(
  ctx: CommandContext,
  suites: string[],
  opts: EvalOptions & { mode: EvalMode; fromRunId?: string; shardRef?: SliceRef; workerCount: number | undefined; graceMs: number; argv: string[]; sink: { write: (e: RunEvent) => void } | null },
  signalled: () => NodeJS.Signals | null,
  setCurrent: (c: { session: EvalSession; progress: Progress }[]) => void,
): Promise<CommandResult> {
  const { mode, fromRunId, workerCount: workers, graceMs, argv } = opts;
  const stoppedCode = () => (signalled() === 'SIGINT' ? 130 : 143);
  const store = await ctx.openStore();
  // The source repository (suites, targets, HEAD): not the store's once results are promoted.
  const repoDir = await ctx.sourceRoot();

  // Validate every suite before running any.
  // One group per suite: its runs, one per provider, start together.
  const groups: EvalSession[][] = [];
  for (const s of suites) {
    groups.push(
      (await EvalSession.prepareAll({
        store,
        repoDir,
        suitePath: path.resolve(ctx.cwd, s),
        target: opts.target,
        grader: opts.grader,
        workers,
        runId: opts.runId,
        testIds: opts.testId ?? [],
        tags: opts.tag ?? [],
        mode,
        fromRunId,
        acceptChanged: opts.acceptChanged,
        ...(opts.shardRef ? { shard: opts.shardRef } : {}),
        ...(opts.reuse !== undefined && { reuse: opts.reuse }),
        argv,
        env: ctx.env,
      })),
    );
  }
  if (opts.dryRun) {
    for (const w of new Set(groups.flatMap((g) => g[0]?.plan.suite.warnings ?? []))) ctx.io.stderr(`warning: ${w}\n`);
    return printDryRun(ctx, dryRunReport(groups.flat()), opts.json === true);
  }
  // Baselines are found before anything runs: a bad REV or a required one missing is exit 2.
  const sessions = groups.flat();
  const baselines = await resolveBaselines(ctx, store, sessions.map((s) => ({ suite: s.plan.suite.name, target: s.plan.target.name })), opts);
  if (signalled()) {
    ctx.io.stderr('Stopped before any test ran; nothing was written.\n');
    return { exitCode: stoppedCode() };
  }

  const summaries: EvalRunJson[] = [];
  let exitCode = 0;
  let gate = 0;
  for (const group of groups) {
    const several = group.length > 1;
    const running = group.map((session) => {
      const { plan } = session;
      // Runs side by side print plain lines, each prefixed with its target.
      const io = several ? { ...ctx.io, isTTY: false, stderr: (t: string) => ctx.io.stderr(`${plan.target.name} ${t}`) } : ctx.io;
      return { session, progress: new Progress(io, plan.items.length) };
    });
    for (const w of group[0]!.plan.suite.warnings) ctx.io.stderr(`warning: ${w}\n`);
    for (const { session } of running) {
      const { plan } = session;
      ctx.io.stderr(`${plan.summary} (suite ${plan.suite.name}, target ${plan.target.name}, ${session.req.workers ?? 4} workers)\n`);
      if (session.reuse.noIndex) {
        ctx.io.stderr('hint: the results ref has no call index yet, so nothing could be reused; rows written by an older agentv are indexed by: agentv results reindex\n');
      }
    }
    setCurrent(running);
    if (signalled()) for (const { session } of running) session.stop(graceMs);
    let outcomes;
    try {
      outcomes = await Promise.allSettled(
        running.map(({ session, progress }) =>
          session
            .run({
              onEvent: (e) => {
                opts.sink?.write(e);
                progress.onEvent(e);
              },
            })
            .catch((e) => {
              throw runnerFailure(session, e);
            })
            .finally(() => progress.end()),
        ),
      );
    } finally {
      setCurrent([]);
    }
    const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failure) throw failure.reason;
    for (const [i, o] of outcomes.entries()) {
      const session = running[i]!.session;
      const plan = session.plan;
      const { manifest: m, part } = (o as PromiseFulfilledResult<Awaited<ReturnType<EvalSession['run']>>>).value;
      // A slice reports the whole run (every slice present here); its exit code is its own tests'.
      const c = m.counts ?? { completed_count: 0, passed: 0, failed: 0, errored: 0, pass_rate: null, avg_score: null };
      const own = part ? { counts: part.counts ?? c, planned: part.planned_test_count } : { counts: c, planned: m.planned_test_count };
      // A slice's resume command continues that slice only: the others belong to other machines.
      const resumable = own.counts.completed_count < own.planned || own.counts.errored > 0;
      const resume = resumable ? resumeCommand(m, part?.slice) : null;
      summaries.push({ ...runSummaryJson(m, resume), ...(session.reuse.enabled && { reused_count: session.reuse.reused }) });
      if (signalled()) {
        ctx.io.stderr(`Stopped: ${c.completed_count}/${m.planned_test_count} done.${resume ? ` Resume with: ${resume}` : ''}\n`);
        exitCode = stoppedCode();
        continue;
      }
      if (plan.suite.derivedMetrics?.length) {
        const { rows } = await readRun({ store, runId: m.run_id });
        for (const d of await derivedMetrics({ rows: currentRows(rows).values(), metrics: plan.suite.derivedMetrics })) {
          ctx.io.stderr(d.value === null ? `derived metric ${d.name}: cannot be computed: ${d.error}\n` : `derived metric ${d.name}: ${Number(d.value.toFixed(4))}\n`);
        }
      }
      if (part?.slice && m.slices) {
        // A slice: its own result, then the run as far as this repository has it.
        const here = new Set(m.slices.arrived.filter((a) => a.status === 'completed').map((a) => a.index));
        const waiting = Array.from({ length: m.slices.count }, (_, i) => i + 1).filter((i) => !here.has(i));
        ctx.io.stderr(
          `Slice ${part.slice.index}/${part.slice.count} of run ${m.run_id} ${part.status}: ${own.counts.passed} passed, ${own.counts.failed} failed, ${own.counts.errored} errored of ${own.planned}.\n` +
            `  run ${m.run_id}: ${c.completed_count}/${m.planned_test_count} done (${c.passed} passed) in ${m.slices.count - waiting.length} of ${m.slices.count} completed slices` +
            `${waiting.length ? `; not completed here: ${waiting.map((i) => `${i}/${m.slices!.count}`).join(', ')} (results pull brings in slices pushed from elsewhere)` : ''}\n` +
            `  details: agentv runs show ${m.run_id}${resume ? `\n  resume:  ${resume}` : ''}\n`,
        );
      } else {
        ctx.io.stderr(
          `Run ${m.run_id} ${m.status}: ${c.passed} passed, ${c.failed} failed, ${c.errored} errored of ${m.planned_test_count} (pass rate ${percent(c.pass_rate)}).\n` +
            `  details: agentv runs show ${m.run_id}${resume ? `\n  resume:  ${resume}` : ''}\n`,
        );
      }
      if (own.counts.failed > 0 || own.counts.errored > 0 || own.counts.completed_count < own.planned) exitCode = Math.max(exitCode, 1);
      if (opts.baseline !== undefined) {
        const cmp = await compareWithBaseline(ctx, store, baselines[sessions.indexOf(session)] ?? null, m.run_id);
        summaries[summaries.length - 1]!.baseline = cmp.json;
        if (cmp.regressed) gate = 1;
      }
    }
    if (signalled()) break;
  }
  // --fail-on-regression: only regressions and new errors against the baseline fail (stops keep their codes).
  if (opts.failOnRegression && exitCode <= 1) exitCode = gate;
  // Results kept in a repository reached by URL go there now (a no-op otherwise).
  await ctx.publish();
  return { exitCode, json: opts.json ? (summaries.length === 1 ? summaries[0] : summaries) : undefined };
}

/**
 * A failure before the session wrote anything keeps its own code (exit 2:
 * nothing was written); after that it is the runner's failure (exit 3): the
 * run is marked failed where that could be written, and finished rows are kept.
 */
function runnerFailure(session: EvalSession, e: unknown): unknown {
  const fault = classifyFault(e);
  if (!session.started) return fault;
  const why = fault instanceof Error ? fault.message : String(fault);
  const id = session.plan.runId;
  return new AgentvError(
    'RUNNER_FAILED',
    `run ${id} failed: ${why}\n  every finished row is kept (committed, or in the run's journal for the next command); ` +
      `once the cause is fixed, continue with: agentv resume ${id}`,
    { run_id: id, cause_code: fault instanceof AgentvError ? fault.code : ((fault as NodeJS.ErrnoException)?.code ?? null) },
  );
}

/** `agentv resume <RUN_ID>`: --resume with the suite, target and options the run recorded. */
export async function resumeRun(ctx: CommandContext, runId: string, opts: EvalOptions, argv: string[]): Promise<CommandResult> {
  if (!RunId.safeParse(runId).success) throw new AgentvError('USAGE', `invalid run id: ${JSON.stringify(runId)}`);
  const store = await ctx.openStore();
  const { manifest } = await readRun({ store, runId });
  const suites = manifest.options.suite_paths.length ? manifest.options.suite_paths : [manifest.suite.path];
  return evalCommand(
    { ...ctx, cwd: await ctx.sourceRoot() },
    suites,
    {
      ...opts,
      resume: runId,
      target: opts.target ?? manifest.options.target ?? manifest.target.name,
      grader: opts.grader ?? manifest.options.grader ?? undefined,
      workers: opts.workers ?? (manifest.options.workers ? String(manifest.options.workers) : undefined),
    },
    argv,
  );
}

/** The `eval --json` summary of a run (SPEC 1), shared by `eval` and `regrade`. */
export function runSummaryJson(m: Manifest, resume: string | null) {
  const c = m.counts ?? { completed_count: 0, passed: 0, failed: 0, errored: 0, pass_rate: null, avg_score: null };
  return {
    run_id: m.run_id,
    status: m.status,
    outcome: manifestOutcome(m),
    planned_test_count: m.planned_test_count,
    completed_count: c.completed_count,
    passed: c.passed,
    failed: c.failed,
    errored: c.errored,
    pass_rate: c.pass_rate,
    resume_command: resume,
  };
}
