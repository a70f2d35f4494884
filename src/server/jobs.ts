// Studio's jobs: each is the same `agentv eval` command a user would type,
// spawned as a child process with `--events -`, and followed through that
// typed NDJSON stream (never through its human stderr, which is only kept as
// the log tail). Progress is the store's applyEvent fold, the same as the CLI's
// progress line. Stop sends SIGTERM as Ctrl+C would; a second Stop while
// stopping sends the second signal. Job records are kept on disk under the
// store's agentv folder, so a restarted Studio lists and answers for them; a
// run started from a terminal is adopted by its run id.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, writeFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { commandLine } from '../command-line.js';
import { RUN_ID_PATTERN } from '../schemas/common.js';
import { RunEvent } from '../schemas/events.js';
import type { Manifest } from '../schemas/manifest.js';
import type { EvalRunRequest, JobKind, JobState, JobStatus } from '../schemas/studio.js';
import {
  applyEvent,
  countsOf,
  currentRows,
  effectiveStatus,
  emptyTally,
  manifestOutcome,
  ownerLiveness,
  readLockOwner,
  readRun,
  sourceRootOf,
  type Store,
} from '../store/index.js';

const TERMINAL: JobState[] = ['finished', 'failed', 'stopped'];
const TAIL = 200;
/** How many finished jobs GET /api/jobs lists besides the running ones. */
const LIST_MAX = 200;

interface Job {
  status: JobStatus;
  child: ChildProcess | null;
  pid: number | null;
  listeners: Set<(s: JobStatus) => void>;
}

type JobRecord = Omit<JobStatus, 'log_tail'> & { pid: number | null };

export interface JobManagerOptions {
  store: Store;
  /** The built CLI entry (dist/cli.js). */
  cliPath: string;
  now?: () => Date;
}

/** What an exit code of `agentv eval` means (SPEC 1), in words. */
export function exitReason(code: number | null, signal: NodeJS.Signals | null = null): string | null {
  if (code === null) return signal ? `killed by ${signal}` : null;
  switch (code) {
    case 0:
      return 'completed: every test passed';
    case 1:
      return 'tests failed: the run has failed or errored tests';
    case 2:
      return 'refused: usage, configuration or input error (nothing ran)';
    case 3:
      return 'the runner failed (the run is marked failed; finished rows are kept)';
    case 130:
      return 'stopped by SIGINT';
    case 143:
      return 'stopped by SIGTERM';
    default:
      return `exited with code ${code}`;
  }
}

export function jobStateOf(code: number): JobState {
  return code === 0 || code === 1 ? 'finished' : code === 130 || code === 143 ? 'stopped' : 'failed';
}

export function kindOf(req: EvalRunRequest): JobKind {
  return req.resume ? 'resume' : req.rerun_failed ? 'rerun_failed' : req.retry_errors ? 'retry_errors' : 'eval';
}

/**
 * The kind of the last command that worked on a run, from its recorded events:
 * `agentv regrade` records `regraded` last (the run's status stays), while a
 * resume that re-grades records `regraded` then its end (completed, stopped).
 */
export function kindFromEvents(m: Pick<Manifest, 'events' | 'retry_of'>): JobKind {
  const last = m.events.at(-1);
  if (last?.type === 'regraded') return 'regrade';
  const lastResume = m.events.findLast((e) => e.type === 'resumed');
  return lastResume ? (lastResume.mode === 'rerun_failed' ? 'rerun_failed' : 'resume') : m.retry_of ? 'retry_errors' : 'eval';
}

export function evalArgs(req: EvalRunRequest & { suite: string }, runId: string | null): string[] {
  const args = ['eval', req.suite];
  if (req.target) args.push('--target', req.target);
  if (req.workers) args.push('--workers', String(req.workers));
  for (const id of req.test_ids ?? []) args.push('--test-id', id);
  for (const tag of req.tags ?? []) args.push('--tag', tag);
  if (req.resume) args.push('--resume', ...(req.run_id ? [req.run_id] : []));
  else if (req.rerun_failed) args.push('--rerun-failed', req.run_id!);
  else if (req.retry_errors) args.push('--retry-errors', req.run_id!, ...(runId ? ['--run-id', runId] : []));
  else if (runId) args.push('--run-id', runId);
  if (req.reuse !== undefined) args.push(req.reuse ? '--reuse' : '--no-reuse');
  return args;
}

export class JobManager {
  private jobs = new Map<string, Job>();
  private readonly dir: string;
  private readonly now: () => Date;

  constructor(private readonly opts: JobManagerOptions) {
    this.dir = path.join(opts.store.localDir, 'jobs');
    this.now = opts.now ?? (() => new Date());
  }

  /** Start `agentv eval ... --events -`; the returned status is `starting`. */
  launch(req: EvalRunRequest, newRunId: () => string, extraArgs: string[] = []): JobStatus {
    // A new run gets its id up front, so the caller can link to it at once.
    const runId = req.resume || req.rerun_failed ? (req.run_id ?? null) : req.retry_errors ? newRunId() : (req.run_id ?? newRunId());
    return this.start({ args: [...evalArgs(req, runId), ...extraArgs], runId, kind: kindOf(req), suite: null, target: req.target ?? null });
  }

  /** Start `agentv regrade RUN_ID --events -` (the run's suite and target, as its page shows them). */
  launchRegrade({ runId, suite, target }: { runId: string; suite: string; target: string }): JobStatus {
    return this.start({ args: ['regrade', runId], runId, kind: 'regrade', suite, target });
  }

  private start({ args, runId, kind, suite, target }: { args: string[]; runId: string | null; kind: JobKind; suite: string | null; target: string | null }): JobStatus {
    const id = `job-${randomBytes(6).toString('hex')}`;
    const child = spawn(process.execPath, [this.opts.cliPath, ...args, '--events', '-'], {
      cwd: sourceRootOf(this.opts.store),
      env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const status: JobStatus = {
      id,
      run_id: runId,
      kind,
      status: 'starting',
      outcome: null,
      exit_code: null,
      exit_reason: null,
      suite,
      target,
      started_at: this.now().toISOString(),
      finished_at: null,
      progress: emptyTally(),
      log_tail: [],
      command: commandLine(['agentv', ...args]),
    };
    const job: Job = { status, child, pid: child.pid ?? null, listeners: new Set() };
    this.jobs.set(id, job);
    this.follow(job, child);
    this.persist(job);
    return { ...status };
  }

  /** A job of this Studio that is not over yet for this run (a regrade holds no `running` status on the run). */
  activeFor(runId: string): JobStatus | null {
    for (const j of this.jobs.values()) if (j.status.run_id === runId && !TERMINAL.includes(j.status.status)) return { ...j.status };
    return null;
  }

  private follow(job: Job, child: ChildProcess): void {
    const s = job.status;
    const lines = (stream: NodeJS.ReadableStream, onLine: (line: string) => void) => {
      let buf = '';
      stream.on('data', (d: Buffer) => {
        buf += d.toString('utf8');
        const parts = buf.split('\n');
        buf = parts.pop()!;
        for (const l of parts) if (l.trim()) onLine(l.replace(/\r/g, ''));
      });
    };
    const log = (line: string) => {
      s.log_tail.push(line);
      if (s.log_tail.length > TAIL) s.log_tail.splice(0, s.log_tail.length - TAIL);
      this.changed(job);
    };
    lines(child.stderr!, log);
    lines(child.stdout!, (line) => {
      let event: RunEvent;
      try {
        event = RunEvent.parse(JSON.parse(line));
      } catch {
        return; // not an event (nothing else is written to stdout with --events -)
      }
      this.onEvent(job, event);
    });
    child.on('error', (e) => log(`failed to start agentv: ${e.message}`));
    child.on('close', (code, signal) => {
      s.exit_code = code ?? (signal === 'SIGTERM' ? 143 : signal === 'SIGINT' ? 130 : 1);
      s.exit_reason = exitReason(code, signal);
      s.finished_at = this.now().toISOString();
      s.status = jobStateOf(s.exit_code);
      // A run that never started (refused, exit 2) has no outcome.
      job.child = null;
      this.persist(job);
      this.changed(job);
    });
  }

  private onEvent(job: Job, e: RunEvent): void {
    const s = job.status;
    applyEvent(s.progress, e);
    s.run_id = e.run_id;
    if (e.type === 'started' || e.type === 'resumed') {
      s.suite = e.suite;
      s.target = e.target;
    }
    // Running once the plan is known, so a running job always has its planned and to_execute counts.
    if (e.type === 'planned' && s.status === 'starting') s.status = 'running';
    if (e.type === 'stopping' && !TERMINAL.includes(s.status)) s.status = 'stopping';
    if (e.type === 'completed' || e.type === 'stopped' || e.type === 'regraded') s.outcome = e.outcome;
    // Records are written at transitions, not per test: a 10,000-test job writes a handful.
    if (e.type !== 'test_finished') this.persist(job);
    this.changed(job);
  }

  private changed(job: Job): void {
    const snapshot = { ...job.status, progress: { ...job.status.progress }, log_tail: job.status.log_tail.slice(-50) };
    for (const fn of job.listeners) fn(snapshot);
  }

  private persist(job: Job): void {
    mkdirSync(this.dir, { recursive: true });
    const { log_tail: _l, ...rest } = job.status;
    const file = path.join(this.dir, `${job.status.id}.json`);
    // Written whole and renamed: a reader never sees half a record.
    writeFileSync(`${file}.tmp`, JSON.stringify({ ...rest, pid: job.pid }));
    renameSync(`${file}.tmp`, file);
  }

  /** A job of this Studio, one recorded by an earlier Studio, or a run adopted by its id. */
  async get(id: string): Promise<JobStatus | null> {
    const live = this.jobs.get(id);
    if (live) return { ...live.status, progress: { ...live.status.progress }, log_tail: [...live.status.log_tail] };
    const recorded = this.recorded(id);
    if (recorded) return this.fromRecord(recorded);
    if (RUN_ID_PATTERN.test(id)) return this.adopt(id);
    return null;
  }

  /** Every job this Studio or an earlier one launched: running first, then newest first. */
  async list(): Promise<JobStatus[]> {
    let names: string[] = [];
    try {
      names = readdirSync(this.dir).filter((n) => /^job-[0-9a-f]{12}\.json$/.test(n));
    } catch {
      // no job yet
    }
    const ids = new Set([...this.jobs.keys(), ...names.map((n) => n.slice(0, -5))]);
    const all = (await Promise.all([...ids].map((id) => this.get(id)))).filter((j): j is JobStatus => j !== null);
    const rank = (j: JobStatus) => (TERMINAL.includes(j.status) ? 1 : 0);
    all.sort((a, b) => rank(a) - rank(b) || (a.started_at < b.started_at ? 1 : a.started_at > b.started_at ? -1 : 0));
    return all.slice(0, LIST_MAX).map((j) => ({ ...j, log_tail: [] }));
  }

  subscribe(id: string, fn: (s: JobStatus) => void): () => void {
    const job = this.jobs.get(id);
    if (!job) return () => {};
    job.listeners.add(fn);
    return () => job.listeners.delete(fn);
  }

  /** SIGTERM; while already stopping, the second signal ("Stop now"). */
  async stop(id: string): Promise<{ stopped: true; status: JobState } | { stopped: false; reason: 'already_terminal' } | null> {
    const live = this.jobs.get(id);
    if (live) {
      if (TERMINAL.includes(live.status.status)) return { stopped: false, reason: 'already_terminal' };
      live.child?.kill('SIGTERM');
      if (live.status.status !== 'stopping') {
        live.status.status = 'stopping';
        this.changed(live);
      }
      return { stopped: true, status: 'stopping' };
    }
    const status = await this.get(id);
    if (!status) return null;
    if (TERMINAL.includes(status.status)) return { stopped: false, reason: 'already_terminal' };
    const owner = status.run_id ? readLockOwner(this.opts.store.localDir, status.run_id) : null;
    const pid = owner && ownerLiveness(owner) === 'alive' ? owner.pid : null;
    if (!pid) return { stopped: false, reason: 'already_terminal' };
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      return { stopped: false, reason: 'already_terminal' };
    }
    return { stopped: true, status: 'stopping' };
  }

  private recorded(id: string): JobRecord | null {
    if (!/^job-[0-9a-f]{12}$/.test(id)) return null;
    try {
      const rec = JSON.parse(readFileSync(path.join(this.dir, `${id}.json`), 'utf8')) as Partial<JobRecord>;
      // Records written before kinds and reasons existed still read.
      return {
        kind: 'eval',
        outcome: null,
        exit_reason: exitReason(rec.exit_code ?? null),
        suite: null,
        target: null,
        ...rec,
        progress: { ...emptyTally(), ...rec.progress },
      } as JobRecord;
    } catch {
      return null;
    }
  }

  /** A job whose Studio is gone: a finished one reads from its record, a running one from its run. */
  private async fromRecord(rec: JobRecord): Promise<JobStatus> {
    const { pid: _pid, ...base } = rec;
    const status: JobStatus = { ...base, log_tail: [] };
    if (TERMINAL.includes(rec.status) || !rec.run_id) return status;
    const fromRun = await this.adopt(rec.run_id);
    if (!fromRun) return status;
    return { ...fromRun, id: rec.id, kind: rec.kind, command: rec.command, started_at: rec.started_at };
  }

  /** Status of a run started elsewhere (a terminal, an earlier Studio). */
  private async adopt(runId: string): Promise<JobStatus | null> {
    const store = this.opts.store;
    let run;
    try {
      run = await readRun({ store, runId });
    } catch {
      return null;
    }
    const m = run.manifest;
    const status = effectiveStatus(store, m);
    const counts = countsOf(m.planned_tests, currentRows(run.rows));
    const owner = readLockOwner(store.localDir, runId);
    const alive = owner !== null && ownerLiveness(owner) === 'alive';
    const state: JobState = alive || status === 'running' ? 'running' : status === 'completed' ? 'finished' : status === 'stopped' ? 'stopped' : 'failed';
    const kind = kindFromEvents(m);
    return {
      id: runId,
      run_id: runId,
      kind,
      status: state,
      outcome: state === 'running' ? null : manifestOutcome({ ...m, status, counts }),
      exit_code: null,
      exit_reason: null,
      suite: m.suite.name,
      target: m.target.name,
      started_at: m.started_at,
      finished_at: m.finished_at,
      progress: {
        planned: m.planned_test_count,
        to_execute: m.planned_test_count,
        done: counts.completed_count,
        passed: counts.passed,
        failed: counts.failed,
        errored: counts.errored,
      },
      log_tail: [],
      command: m.argv.length ? commandLine(['agentv', ...m.argv]) : `agentv resume ${runId}`,
    };
  }

  /** Stop every child (Studio shutting down). */
  closeAll(): void {
    for (const j of this.jobs.values()) j.child?.kill('SIGTERM');
  }
}
