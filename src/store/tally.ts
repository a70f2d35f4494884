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

interface Segments {
  /** Summed milliseconds of the running spans that ended (a stop, the end, an interruption). */
  closed: number;
  /** Start (epoch ms) of the span still open at the last event, or null. */
  openFrom: number | null;
}

/** The running spans a run's lifecycle events record: from each start or resume to the stop or end that followed. */
function segments(events: { type: string; at: string }[], startedAt: string): Segments | null {
  const t0 = Date.parse(startedAt);
  if (Number.isNaN(t0)) return null;
  let closed = 0;
  let openFrom: number | null = t0;
  for (const e of events) {
    const t = Date.parse(e.at);
    if (Number.isNaN(t)) continue;
    if (e.type === 'started' || e.type === 'resumed') openFrom ??= t;
    else if ((e.type === 'stopped' || e.type === 'completed' || e.type === 'failed' || e.type === 'interrupted') && openFrom !== null) {
      closed += Math.max(0, t - openFrom);
      openFrom = null;
    }
  }
  return { closed, openFrom };
}

/**
 * Time a run spent running: from each start or resume to the stop or end that
 * followed, so a run that sat stopped for a day does not count the day. Used
 * by `runs show` and the run page, which have the events.
 */
export function activeMs(events: { type: string; at: string }[], startedAt: string, finishedAt: string | null, now = Date.now()): number | null {
  const s = segments(events, startedAt);
  if (!s) return null;
  if (s.openFrom === null) return s.closed;
  const end = finishedAt ? Date.parse(finishedAt) : now;
  return s.closed + Math.max(0, (Number.isNaN(end) ? now : end) - s.openFrom);
}

/**
 * What the run index records of a run's active time (no clock: `reindex`
 * computes the same from the manifest): `active_ms`, the time spent running
 * up to the last recorded transition, and `running_since`, when the current
 * running span began (null unless the run is running).
 */
export function activeTime(
  events: { type: string; at: string }[],
  startedAt: string,
  finishedAt: string | null,
): { active_ms: number | null; running_since: string | null } {
  const s = segments(events, startedAt);
  if (!s) return { active_ms: null, running_since: null };
  if (s.openFrom === null) return { active_ms: s.closed, running_since: null };
  const end = finishedAt ? Date.parse(finishedAt) : Number.NaN;
  if (!Number.isNaN(end)) return { active_ms: s.closed + Math.max(0, end - s.openFrom), running_since: null };
  return { active_ms: s.closed, running_since: new Date(s.openFrom).toISOString() };
}

/**
 * A list row's duration: the recorded active time, plus the current span for a
 * running run. Index rows written before `active_ms` fall back to the wall span.
 */
export function summaryDurationMs(
  s: { status: string; started_at: string; finished_at: string | null; active_ms?: number | null; running_since?: string | null },
  now = Date.now(),
): number | null {
  const running = s.status === 'running';
  const since = (iso: string | null | undefined) => {
    const t = iso ? Date.parse(iso) : Number.NaN;
    return Number.isNaN(t) ? null : Math.max(0, now - t);
  };
  if (s.active_ms === undefined || s.active_ms === null) {
    if (s.finished_at) return Math.max(0, Date.parse(s.finished_at) - Date.parse(s.started_at)) || 0;
    return running ? since(s.started_at) : null;
  }
  return s.active_ms + (running ? (since(s.running_since) ?? 0) : 0);
}
