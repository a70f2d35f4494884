// Plans for `agentv eval`: a new run executes every selected test; the resume
// modes diff the suite against the run's committed tree (plus any journal a
// dead owner left) and refuse what cannot be continued, before anything runs.
import { AgentvError } from '../errors.js';
import type { Manifest, PlannedTest } from '../schemas/manifest.js';
import type { Row } from '../schemas/row.js';
import { currentRows, effectiveStatus, listRuns, needsRecovery, readRun, recoverRun, resumeFacts, type KnownChunks } from '../store/index.js';
import { newRunId } from './plan.js';
import { classifyTest, regradeItem } from './regrade-plan.js';
import type { WorkItem } from './runner.js';
import type { EvalRequest } from './session.js';
import { defaultTargetName, type loadTargetsConfig } from './targets/index.js';
import type { Suite, Target } from './types.js';

export type EvalMode = 'new' | 'resume' | 'rerun_failed' | 'retry_errors' | 'regrade';

export interface Plan {
  runId: string;
  mode: EvalMode;
  suite: Suite;
  target: Target;
  grader: Target | null;
  items: WorkItem[];
  planned: PlannedTest[];
  /** For resume modes: how the plan was reached. */
  done: number;
  missing: number;
  errored: number;
  failed: number;
  changed: number;
  /** Items that grade a stored output again instead of calling the target (SPEC 3.9). */
  regrade: number;
  carried: Row[];
  summary: string;
  /** The run a resume mode or a regrade continues, as read before planning. */
  previous?: Manifest;
}

/** The refusal of a plan over a run whose owner is alive (RUN_LIVE), naming the owner. */
export function liveRunError(run: Manifest): AgentvError {
  const host = run.owner?.host ?? run.host;
  return new AgentvError(
    'RUN_LIVE',
    `run ${run.run_id} is running in process ${run.owner?.pid ?? '?'} on ${host}; stop it first (Ctrl+C there, or Stop in Studio) or wait for it to finish`,
    { run_id: run.run_id, owner: run.owner },
  );
}

export type Base = { suite: Suite; target: Target; grader: Target | null; planned: PlannedTest[] };

export function newPlan(req: EvalRequest, base: Base, tests: Suite['tests']): Plan {
  const runId = req.runId ?? newRunId();
  const items = tests.map((test, i) => ({ test, planned: base.planned[i]!, attempt: 1 }));
  return {
    ...base,
    runId,
    mode: 'new',
    items,
    done: 0,
    missing: items.length,
    errored: 0,
    failed: 0,
    changed: 0,
    regrade: 0,
    carried: [],
    summary: `run ${runId}: ${items.length} tests`,
  };
}

/** The run a resume mode continues: the named one, or the newest resumable run of this suite and target. */
export async function findRun(
  req: EvalRequest,
  suite: Suite,
  config: Awaited<ReturnType<typeof loadTargetsConfig>>,
): Promise<{ manifest: Manifest; rows: Row[]; known: KnownChunks }> {
  const { store } = req;
  let runId = req.fromRunId;
  if (!runId) {
    const target = req.target ?? req.provider?.name ?? defaultTargetName(config) ?? undefined;
    let cursor: string | undefined;
    // Summaries tell which runs may have work left; the first one that does wins.
    search: do {
      const page = await listRuns({ store, query: { limit: 100, cursor, suite: suite.name, ...(target ? { target } : {}) } });
      for (const s of page.runs) {
        const incomplete = s.status !== 'completed' || s.errored > 0 || s.passed + s.failed + s.errored < s.planned_test_count;
        const maybe = incomplete || (req.mode === 'rerun_failed' && s.failed > 0);
        if (maybe && s.status !== 'running') {
          runId = s.run_id;
          break search;
        }
      }
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    if (!runId) {
      throw new AgentvError('RUN_NOT_FOUND', `no ${req.mode === 'rerun_failed' ? 'run with failed tests' : 'resumable run'} of suite ${suite.name}${target ? ` and target ${target}` : ''}; start a new run with: agentv eval ${suite.path}${target ? ` --target ${target}` : ''}`);
    }
  }
  // The chunks parsed here serve this command's later reads of the run (its final counts).
  const known: KnownChunks = new Map();
  let run = await readRun({ store, runId, known });
  if (needsRecovery(store, run.manifest) && (await recoverRun({ store, runId }))) run = await readRun({ store, runId, known });
  const { manifest, rows } = run;
  if (manifest.suite.path !== suite.path && manifest.suite.name !== suite.name) {
    throw new AgentvError('USAGE', `run ${runId} is a run of suite ${manifest.suite.path}, not ${suite.path}`, { run_id: runId });
  }
  return { manifest, rows, known };
}

export function diffPlan({
  req,
  mode,
  previous,
  rows,
  tests,
  suite,
  target,
  grader,
  planned,
}: Base & { req: EvalRequest; mode: Exclude<EvalMode, 'new' | 'regrade'>; previous: Manifest; rows: Row[]; tests: Suite['tests'] }): Plan {
  const { store } = req;
  const status = effectiveStatus(store, previous);
  if (status === 'running' && mode !== 'retry_errors') {
    throw liveRunError(previous);
  }
  const current = currentRows(rows);
  const attempts = new Map<string, number>();
  for (const r of rows) attempts.set(r.test_id, Math.max(attempts.get(r.test_id) ?? 0, r.attempt));
  const items: WorkItem[] = [];
  const carried: Row[] = [];
  const changed: string[] = [];
  let done = 0;
  let missing = 0;
  let errored = 0;
  let failed = 0;
  let regrade = 0;
  tests.forEach((test, i) => {
    const keys = planned[i]!;
    const row = current.get(test.id);
    const nextAttempt = mode === 'retry_errors' ? 1 : (attempts.get(test.id) ?? 0) + 1;
    const run = () => items.push({ test, planned: keys, attempt: nextAttempt });
    const carry = (r: Row) => {
      const { carried_from: _c, ...rest } = r;
      const copy = Object.assign(rest, { attempt: 1, carried_from: r.carried_from ?? previous.run_id });
      carried.push(copy);
      return copy;
    };
    switch (classifyTest({ row, keys, mode })) {
      case 'missing':
        missing++;
        return run();
      case 'changed':
        changed.push(test.id);
        return run();
      case 'errored':
        errored++;
        return run();
      case 'failed':
        failed++;
        return run();
      case 'regrade':
        regrade++;
        // A new run (retry_errors) carries the old verdict over as history, then grades the output again.
        items.push(regradeItem({ test, keys, row: mode === 'retry_errors' ? carry(row!) : row!, ...(mode === 'retry_errors' && { carriedFrom: row!.carried_from ?? previous.run_id }) }));
        return;
      case 'done':
        done++;
        if (mode === 'retry_errors') carry(row!);
    }
  });
  if (changed.length && !req.acceptChanged) {
    const list = changed.slice(0, 20).join(', ') + (changed.length > 20 ? `, ... (${changed.length} in all)` : '');
    throw new AgentvError(
      'INPUT_CHANGED',
      `run ${previous.run_id}: ${changed.length} test(s) changed since their rows were written (prompt, vars, assertions, target or grader): ${list}\n` +
        `  start a new run:            agentv eval ${suite.path} --target ${target.name}\n` +
        `  or re-execute them in place: add --accept-changed`,
      { run_id: previous.run_id, changed },
    );
  }
  if (items.length === 0) {
    const facts = resumeFacts(previous, status, current);
    const failedLeft = mode === 'resume' && [...current.values()].some((r) => r.execution_status === 'quality_failure');
    throw new AgentvError(
      'RUN_COMPLETE',
      `run ${previous.run_id} is complete; start a new run with: agentv eval ${suite.path} --target ${target.name}` +
        (failedLeft ? `\n  or re-execute its failed tests with: agentv eval ${suite.path} --rerun-failed ${previous.run_id}` : ''),
      { run_id: previous.run_id, resumable: facts.isResumable },
    );
  }
  const runId = mode === 'retry_errors' ? (req.runId ?? newRunId()) : previous.run_id;
  const verb = mode === 'resume' ? 'resuming' : mode === 'rerun_failed' ? 'rerunning failed in' : `retrying errors of ${previous.run_id} as`;
  const parts = [
    missing && `${missing} missing`,
    errored && `${errored} errored`,
    failed && `${failed} failed`,
    changed.length && `${changed.length} changed`,
  ].filter(Boolean);
  const ids = new Set(tests.map((t) => t.id));
  const removed = previous.planned_tests.filter((p) => !ids.has(p.test_id)).length;
  return {
    suite,
    target,
    grader,
    planned,
    runId,
    mode,
    items,
    done,
    missing,
    errored,
    failed,
    changed: changed.length,
    regrade,
    carried,
    previous,
    summary:
      `${verb} run ${runId}: ${done} done, ${regrade ? `${regrade} to re-grade, ` : ''}${items.length - regrade} to run${parts.length ? ` (${parts.join(', ')})` : ''}` +
      (mode === 'retry_errors' ? `, ${carried.length} carried over` : '') +
      (removed ? `; ${removed} test(s) no longer in the suite keep their rows` : ''),
  };
}
