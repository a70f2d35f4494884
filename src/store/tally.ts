// The one counting function. A row is passed, failed (a quality failure) or
// errored; the manifest's counts, the index numbers, the CLI progress line and
// Studio's job progress all classify and count with the functions below, so
// they can never disagree. pass_rate = passed / completed_count (null before any).
import type { RunStatus } from '../schemas/common.js';
import type { RunEvent, RunOutcome } from '../schemas/events.js';
import type { RunCounts } from '../schemas/manifest.js';

export type RowClass = 'passed' | 'failed' | 'errored';

export function classifyRow(r: { execution_status: string; passed: boolean }): RowClass {
  return r.execution_status === 'execution_error' ? 'errored' : r.passed ? 'passed' : 'failed';
}

/** Counts of the current rows of the planned tests. */
export function tallyRows(rows: Iterable<{ execution_status: string; passed: boolean; score: number }>): RunCounts {
  const n = { passed: 0, failed: 0, errored: 0 };
  let scoreSum = 0;
  for (const r of rows) {
    n[classifyRow(r)]++;
    scoreSum += r.score;
  }
  const completed = n.passed + n.failed + n.errored;
  return { completed_count: completed, ...n, pass_rate: completed ? n.passed / completed : null, avg_score: completed ? scoreSum / completed : null };
}

/**
 * `passed` when every planned test has a row and all passed, `failed` when every
 * planned test has a row and some did not pass, `incomplete` otherwise; null while running.
 */
export function outcomeOf(run: {
  status: RunStatus;
  planned_test_count: number;
  passed: number;
  failed: number;
  errored: number;
}): RunOutcome | null {
  if (run.status === 'running') return null;
  const completed = run.passed + run.failed + run.errored;
  if (completed < run.planned_test_count) return 'incomplete';
  return run.failed + run.errored > 0 ? 'failed' : 'passed';
}

/** Progress of one invocation, folded from its events (CLI progress line, Studio jobs). */
export interface Tally {
  planned: number;
  to_execute: number;
  done: number;
  passed: number;
  failed: number;
  errored: number;
}

export const emptyTally = (): Tally => ({ planned: 0, to_execute: 0, done: 0, passed: 0, failed: 0, errored: 0 });

/** Fold one event into a tally (mutates and returns it). */
export function applyEvent(t: Tally, e: RunEvent): Tally {
  if (e.type === 'planned') {
    t.planned = e.planned;
    t.to_execute = e.to_execute;
  } else if (e.type === 'test_finished') {
    t.done++;
    t[classifyRow({ execution_status: e.status, passed: e.passed })]++;
  }
  return t;
}

/**
 * Time a run spent running: from each start or resume to the stop or end that
 * followed, so a run that sat stopped for a day does not count the day. Used
 * by `runs show` and the viewer (durations everywhere exclude stopped time).
 */
export function activeMs(events: { type: string; at: string }[], startedAt: string, finishedAt: string | null, now = Date.now()): number | null {
  const t0 = Date.parse(startedAt);
  if (Number.isNaN(t0)) return null;
  let total = 0;
  let from: number | null = t0;
  for (const e of events) {
    const t = Date.parse(e.at);
    if (Number.isNaN(t)) continue;
    if (e.type === 'started' || e.type === 'resumed') from ??= t;
    else if ((e.type === 'stopped' || e.type === 'completed' || e.type === 'failed' || e.type === 'interrupted') && from !== null) {
      total += Math.max(0, t - from);
      from = null;
    }
  }
  if (from !== null) {
    const end = finishedAt ? Date.parse(finishedAt) : now;
    total += Math.max(0, (Number.isNaN(end) ? now : end) - from);
  }
  return total;
}
