// The run lifecycle recorder: the one owner of a run's status, manifest events
// and counts. Every transition (start, resume, finish, interrupted on recovery,
// regraded) is written here, in the manifest and the index row of one commit,
// and the same transitions plus each finished test are emitted as typed
// RunEvents for `agentv eval --events` and Studio.
import type { Manifest, RunEvent as ManifestEvent, PlannedTest, SliceRef } from '../schemas/manifest.js';
import type { EvalMode, EventCounts, RunEvent } from '../schemas/events.js';
import type { Row } from '../schemas/row.js';
import type { StoredInput } from '../schemas/input.js';
import { currentOwner } from './owner.js';
import { countsOf, currentRows, type KnownChunks } from './runs.js';
import { createRun, updateRun } from './run-writes.js';
import type { Store } from './store.js';
import type { Rest } from './writer.js';
import { outcomeOf } from './tally.js';

type Emit = (e: RunEvent) => void;
type Body<E> = E extends RunEvent ? Omit<E, 'run_id' | 'at'> : never;

export function eventCounts(m: Manifest): EventCounts {
  const c = m.counts ?? { completed_count: 0, passed: 0, failed: 0, errored: 0, pass_rate: null, avg_score: null };
  return { ...c, planned_test_count: m.planned_test_count };
}

export function manifestOutcome(m: Manifest) {
  const c = eventCounts(m);
  return outcomeOf({ status: m.status, planned_test_count: c.planned_test_count, passed: c.passed, failed: c.failed, errored: c.errored });
}

/** The reason shown beside a failed test: the error, else the first failing assertion's reason. */
export function rowReason(r: Row): string | null {
  const why = r.error ?? r.assertions.find((a) => !a.passed)?.reason ?? null;
  return why === null ? null : why.replace(/\s+/g, ' ').slice(0, 200);
}

/** Manifest of a run whose owner died: `interrupted`, with counts from its committed rows. */
export function markInterrupted(cur: Manifest, committed: Row[], at: string, warning?: string): Manifest {
  const counts = countsOf(cur.planned_tests, currentRows(committed));
  if (cur.status !== 'running') {
    // Damaged journal lines are told in the run's events even when it was not running.
    return warning ? { ...cur, counts, events: [...cur.events, { type: 'recovered', at, detail: warning }] } : { ...cur, counts };
  }
  const detail = `owner process ended without finishing${warning ? `; ${warning}` : ''}`;
  return { ...cur, status: 'interrupted', counts, owner: null, events: [...cur.events, { type: 'interrupted', at, detail }] };
}

/**
 * Final manifest commit of a run: status, finished_at, counts from the
 * committed rows, and an event. Rows still pending are passed in `rows`; a
 * resume's `executed` count is written onto its `resumed` event in the same commit.
 */
export async function finishRun({
  store,
  runId,
  status,
  rows = [],
  inputs,
  detail,
  executed,
  slice,
  regraded,
  known,
}: {
  store: Store;
  runId: string;
  status: Manifest['status'];
  rows?: Row[];
  /** The inputs `rows` name, committed with them. */
  inputs?: Map<string, StoredInput>;
  detail?: string;
  executed?: number;
  /** A slice of a sharded run ends: its part gets the status; the run's manifest follows from all parts. */
  slice?: SliceRef | null;
  /** Stored outputs a resume graded again: recorded as a `regraded` event before the status event. */
  regraded?: number;
  /** The run's chunks this command has parsed already (counting reads only the others). */
  known?: KnownChunks;
}): Promise<{ manifest: Manifest; part: Manifest | null }> {
  const at = store.now().toISOString();
  const { manifest, part } = await updateRun({
    store,
    runId,
    update: {
      rows,
      ...(inputs && { inputs }),
      dedupe: rows.length > 0,
      slice,
      ...(known && { known }),
      subject: `run ${runId}: ${slice ? `slice ${slice.index}/${slice.count} ` : ''}${status}`,
      manifest: (cur, committed) => {
        const events: ManifestEvent[] = [...cur.events];
        if (executed !== undefined) {
          const i = events.findLastIndex((e) => e.type === 'resumed');
          if (i >= 0) events[i] = { ...events[i]!, executed };
        }
        if (regraded) events.push({ type: 'regraded', at, executed: regraded });
        events.push({ type: status === 'running' ? 'started' : (status as 'completed' | 'stopped' | 'interrupted' | 'failed'), at, ...(detail ? { detail } : {}) });
        return { ...cur, status, finished_at: at, owner: null, counts: countsOf(cur.planned_tests, currentRows(committed)), events };
      },
    },
  });
  return { manifest: manifest!, part }; // a manifest update always reads the manifest
}

/**
 * Record that a run's stored outputs were re-graded (`agentv regrade`): the
 * event (how many of how many planned), the counts from the committed rows,
 * and the re-graded tests' new keys. The run's status and finish time stay:
 * a re-grade changes verdicts, not whether the run is complete.
 */
export async function recordRegraded({
  store,
  runId,
  regraded,
  planned,
  plannedTests,
  rows = [],
  inputs,
  known,
}: {
  store: Store;
  runId: string;
  regraded: number;
  /** Re-graded rows not yet committed, and the inputs they name: committed with the event. */
  rows?: Row[];
  inputs?: Map<string, StoredInput>;
  /** How many re-grades were planned (a stop may leave some undone). */
  planned?: number;
  /** The run's planned tests with the re-graded ones' current keys. */
  plannedTests?: PlannedTest[];
  /** The run's chunks this command has parsed already (counting reads only the others). */
  known?: KnownChunks;
}): Promise<Manifest> {
  const at = store.now().toISOString();
  const { manifest } = await updateRun({
    store,
    runId,
    update: {
      ...(known && { known }),
      rows,
      ...(inputs && { inputs }),
      dedupe: rows.length > 0,
      subject: `run ${runId}: regraded ${regraded}`,
      manifest: (cur, committed) => {
        const planned_tests = plannedTests ?? cur.planned_tests;
        return {
          ...cur,
          planned_tests,
          counts: countsOf(planned_tests, currentRows(committed)),
          events: [...cur.events, { type: 'regraded', at, executed: regraded, ...(planned !== undefined && { planned }) }],
        };
      },
    },
  });
  return manifest!;
}

/**
 * One invocation's view of a run's lifecycle: writes each transition through
 * the functions above and emits it (with every finished test) to `emit`.
 */
export class RunRecorder {
  private executed = 0;
  /** Rows that graded a stored output again (grade_seq > 0). */
  private regraded = 0;

  constructor(
    private readonly opts: { store: Store; runId: string; mode: EvalMode; emit?: Emit; slice?: SliceRef | null; known?: KnownChunks },
  ) {}

  /** The slice's own manifest as last written (sharded runs), for its own exit code. */
  part: Manifest | null = null;

  private emit(e: Body<RunEvent>, at = this.opts.store.now().toISOString()): void {
    this.opts.emit?.(Object.assign({}, e, { run_id: this.opts.runId, at }) as RunEvent);
  }

  /** A new run: manifest (and carried rows) committed before anything executes. */
  async start({ manifest, carried = [], whole }: { manifest: Manifest; carried?: Row[]; whole?: Manifest }): Promise<Manifest> {
    const run = await createRun({ store: this.opts.store, manifest, rows: carried, whole });
    if (manifest.slice) this.part = manifest;
    this.emit({ type: 'started', mode: this.opts.mode, suite: manifest.suite.name, target: manifest.target.name }, manifest.started_at);
    return run;
  }

  /** A run continued in place: running again, owned by this process, with a `resumed` event. */
  async resume({
    mode,
    planned,
    patch,
  }: {
    mode: 'resume' | 'rerun_failed' | 'accept_changed';
    planned: number;
    patch: (m: Manifest) => Manifest;
  }): Promise<Manifest> {
    const { store, runId } = this.opts;
    const at = store.now().toISOString();
    const { manifest, part } = await updateRun({
      store,
      runId,
      update: {
        slice: this.opts.slice,
        subject: `run ${runId}: ${this.opts.slice ? `slice ${this.opts.slice.index}/${this.opts.slice.count} ` : ''}${mode === 'rerun_failed' ? 'rerun failed' : 'resume'} (${planned} tests)`,
        manifest: (m) => {
          const next = patch(m);
          return {
            ...next,
            status: 'running',
            finished_at: null,
            owner: currentOwner(),
            events: [...next.events, { type: 'resumed', at, mode, planned, executed: 0 }],
          };
        },
      },
    });
    this.part = part;
    this.emit({ type: 'resumed', mode, planned, suite: manifest!.suite.name, target: manifest!.target.name }, at);
    return manifest!;
  }

  planned(planned: number, toExecute: number): void {
    this.emit({ type: 'planned', planned, to_execute: toExecute });
  }

  testFinished(row: Row): void {
    this.executed++;
    if ((row.grade_seq ?? 0) > 0) this.regraded++;
    this.emit({
      type: 'test_finished',
      test_id: row.test_id,
      status: row.execution_status,
      passed: row.passed,
      score: row.score,
      duration_ms: row.duration_ms,
      reason: rowReason(row),
    });
  }

  stopping(now: boolean, graceMs: number): void {
    this.emit({ type: 'stopping', now, grace_ms: now ? 0 : graceMs });
  }

  /** The end of `agentv regrade`: the `regraded` event and counts, the run's status unchanged. */
  async regradeDone({ planned, plannedTests, rest }: { planned: number; plannedTests: PlannedTest[]; rest?: Rest }): Promise<Manifest> {
    const m = await recordRegraded({ store: this.opts.store, runId: this.opts.runId, regraded: this.regraded, planned, plannedTests, known: this.opts.known, ...rest });
    this.emit({ type: 'regraded', regraded: this.regraded, counts: eventCounts(m), outcome: manifestOutcome(m) ?? 'incomplete' });
    return m;
  }

  /** The run's end: status, counts and the event, in one commit. */
  async finish(status: 'completed' | 'stopped' | 'failed', detail?: string, rest?: Rest): Promise<Manifest> {
    const resumed = this.opts.mode === 'resume' || this.opts.mode === 'rerun_failed';
    const regraded = status === 'failed' ? 0 : this.regraded;
    const { manifest: m, part } = await finishRun({
      store: this.opts.store,
      runId: this.opts.runId,
      status,
      detail,
      executed: resumed ? this.executed : undefined,
      slice: this.opts.slice,
      regraded,
      known: this.opts.known,
      ...rest,
    });
    this.part = part;
    if (regraded) this.emit({ type: 'regraded', regraded, counts: eventCounts(m), outcome: manifestOutcome(m) ?? 'incomplete' }, m.finished_at ?? undefined);
    if (status === 'failed') this.emit({ type: 'failed', error: detail ?? 'the runner failed' }, m.finished_at ?? undefined);
    else this.emit({ type: status, executed: this.executed, counts: eventCounts(m), outcome: manifestOutcome(m) ?? 'incomplete' }, m.finished_at ?? undefined);
    return m;
  }
}
