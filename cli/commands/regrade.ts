// `agentv regrade <RUN_ID>`: grade a run's stored outputs again under its
// suite's current assertions, without calling the target (SPEC 3.9). The same
// EvalSession as `eval` does the work (run lock, journal, group commit), so a
// re-grade is written, stopped and recovered like any run. Exit codes as
// `eval`: 0 every test passes, 1 failures, errors or tests without a row,
// 2 a running or unknown run, 3 the runner failed; 130/143 stopped.
import { AgentvError, classifyFault } from '../../src/errors.js';
import { RunId } from '../../src/schemas/common.js';
import type { RegradeJson } from '../../src/schemas/regrade.js';
import { EvalSession, resumeCommand } from '../../src/eval/session.js';
import type { CommandContext, CommandResult } from '../context.js';
import { percent } from '../format.js';
import { Progress } from '../progress.js';
import { eventSink, positiveInt, runSummaryJson } from './eval.js';

export interface RegradeOptions {
  grader?: string;
  workers?: string;
  json?: boolean;
  events?: string;
  stopGrace?: string;
}

export async function regrade(ctx: CommandContext, runId: string, opts: RegradeOptions): Promise<CommandResult> {
  if (!RunId.safeParse(runId).success) throw new AgentvError('USAGE', `invalid run id: ${JSON.stringify(runId)}`);
  const workers = opts.workers === undefined ? undefined : positiveInt('--workers', opts.workers, 4);
  const graceMs = opts.stopGrace === undefined ? 10_000 : Number(opts.stopGrace) * 1000;
  if (!Number.isFinite(graceMs) || graceMs < 0) throw new AgentvError('USAGE', `--stop-grace takes seconds, not ${JSON.stringify(opts.stopGrace)}`);
  if (opts.events === '-' && opts.json) throw new AgentvError('USAGE', '--events - writes to stdout, where --json goes too: give --events a file, or drop --json');
  const store = await ctx.openStore();
  const session = await EvalSession.prepareRegrade({
    store,
    repoDir: await ctx.sourceRoot(),
    runId,
    ...(opts.grader !== undefined && { grader: opts.grader }),
    ...(workers !== undefined && { workers }),
    argv: ['regrade', runId],
    env: ctx.env,
  });
  const { plan } = session;
  for (const w of plan.suite.warnings) ctx.io.stderr(`warning: ${w}\n`);
  ctx.io.stderr(`${plan.summary} (suite ${plan.suite.name}, target ${plan.target.name} not called, ${session.req.workers ?? 4} workers)\n`);

  const events = eventSink(ctx, opts.events);
  const progress = new Progress(ctx.io, plan.items.length);
  let signal: NodeJS.Signals | null = null;
  const onSignal = (sig: NodeJS.Signals) => {
    if (signal) return session.stopNow();
    signal = sig;
    progress.say(`Stopping: no new re-grades; waiting up to ${graceMs / 1000}s for ${session.inFlight} in flight (signal again to stop now).`);
    session.stop(graceMs);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let outcome;
  try {
    outcome = await session.run({
      onEvent: (e) => {
        events?.write(e);
        progress.onEvent(e);
      },
    });
  } catch (e) {
    const fault = classifyFault(e);
    if (!session.started) throw fault;
    throw new AgentvError(
      'RUNNER_FAILED',
      `re-grading run ${runId} failed: ${fault instanceof Error ? fault.message : String(fault)}\n  the run keeps its status; re-graded rows are kept (committed, or journaled for the next command); ` +
        `once the cause is fixed, run again: agentv regrade ${runId}`,
      { run_id: runId },
    );
  } finally {
    progress.end();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    events?.close();
  }
  const m = outcome.manifest;
  const c = m.counts!;
  const resumable = c.completed_count < m.planned_test_count || c.errored > 0;
  const regraded = m.events.findLast((e) => e.type === 'regraded')?.executed ?? 0;
  const json: RegradeJson = { ...runSummaryJson(m, resumable ? resumeCommand(m) : null), regraded_count: regraded };
  const stoppedCode = signal === 'SIGINT' ? 130 : signal === 'SIGTERM' ? 143 : null;
  ctx.io.stderr(
    `${stoppedCode ? `Stopped: ${regraded} of ${plan.items.length} re-graded` : `Re-graded ${regraded} test(s) of run ${m.run_id}`} (no target calls); ` +
      `the run (${m.status}): ${c.passed} passed, ${c.failed} failed, ${c.errored} errored of ${m.planned_test_count} (pass rate ${percent(c.pass_rate)}).\n` +
      `  details: agentv runs show ${m.run_id} --history${json.resume_command ? `\n  resume:  ${json.resume_command}` : ''}\n`,
  );
  await ctx.publish();
  const exitCode = stoppedCode ?? (json.outcome === 'passed' ? 0 : 1);
  return { exitCode, json: opts.json ? json : undefined };
}
