// Studio's jobs: each is the same `agentv eval` command a user would type,
// spawned as a child process. Progress comes from its stderr lines (the
// off-terminal format: one line per finished test); Stop sends SIGTERM, as
// Ctrl+C would. Job records are kept on disk, so a restarted Studio still
// answers for them; a run started from a terminal is adopted by its run id
// (shown while it runs; Stop signals its process when it lives on this host).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { commandLine } from '../eval/command-line.js';
import { RUN_ID_PATTERN } from '../schemas/common.js';
import type { EvalRunRequest, JobState, JobStatus } from '../schemas/studio.js';
import { countsOf, currentRows, sourceRootOf, effectiveStatus, ownerLiveness, readLockOwner, readRun, type Store } from '../store/index.js';

const TERMINAL: JobState[] = ['finished', 'failed', 'stopped'];
const TAIL = 200;

interface Job {
  status: JobStatus;
  child: ChildProcess | null;
  pid: number | null;
  listeners: Set<(s: JobStatus) => void>;
}

export interface JobManagerOptions {
  store: Store;
  /** The built CLI entry (dist/cli.js). */
  cliPath: string;
  now?: () => Date;
}

export function evalArgs(req: EvalRunRequest & { suite: string }, runId: string | null): string[] {
  const args = ['eval', req.suite];
  if (req.target) args.push('--target', req.target);
  if (req.workers) args.push('--workers', String(req.workers));
  for (const id of req.test_ids ?? []) args.push('--test-id', id);
  if (req.resume) args.push('--resume', ...(req.run_id ? [req.run_id] : []));
  else if (req.rerun_failed) args.push('--rerun-failed', req.run_id!);
  else if (req.retry_errors) args.push('--retry-errors', req.run_id!, ...(runId ? ['--run-id', runId] : []));
  else if (runId) args.push('--run-id', runId);
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

  /** Start `agentv eval ...`; the returned status is `starting`. */
  launch(req: EvalRunRequest, newRunId: () => string): JobStatus {
    const id = `job-${randomBytes(6).toString('hex')}`;
    // A new run gets its id up front, so the caller can link to it at once.
    const runId = req.resume || req.rerun_failed ? (req.run_id ?? null) : (req.retry_errors ? newRunId() : (req.run_id ?? newRunId()));
    const args = evalArgs(req, runId);
    const child = spawn(process.execPath, [this.opts.cliPath, ...args, '--json'], {
      cwd: sourceRootOf(this.opts.store),
      env: { ...process.env, FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const status: JobStatus = {
      id,
      run_id: runId,
      status: 'starting',
      exit_code: null,
      started_at: this.now().toISOString(),
      finished_at: null,
      progress: { planned: 0, done: 0, passed: 0, failed: 0, errored: 0 },
      log_tail: [],
      command: commandLine(['agentv', ...args]),
    };
    const job: Job = { status, child, pid: child.pid ?? null, listeners: new Set() };
    this.jobs.set(id, job);
    this.follow(job, child);
    this.persist(job);
    return { ...status };
  }

  private follow(job: Job, child: ChildProcess): void {
    const s = job.status;
    let buf = '';
    const onLine = (line: string) => {
      s.log_tail.push(line);
      if (s.log_tail.length > TAIL) s.log_tail.splice(0, s.log_tail.length - TAIL);
      let m: RegExpExecArray | null;
      if ((m = /^run (\S+): (\d+) tests/.exec(line))) this.planned(job, m[1]!, Number(m[2]));
      else if ((m = /run (\S+): \d+ done, (\d+) to run/.exec(line))) this.planned(job, m[1]!, Number(m[2]));
      else if ((m = /^\[(\d+)\/(\d+)\] (PASS|FAIL|ERROR) /.exec(line))) {
        s.progress.done = Number(m[1]);
        s.progress.planned = Number(m[2]);
        if (m[3] === 'PASS') s.progress.passed++;
        else if (m[3] === 'FAIL') s.progress.failed++;
        else s.progress.errored++;
      } else if (/^Stopping/.test(line)) s.status = 'stopping';
      this.changed(job);
    };
    const onData = (d: Buffer) => {
      buf += d.toString('utf8');
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) if (l.trim()) onLine(l.replace(/\r/g, ''));
    };
    child.stderr!.on('data', onData);
    child.stdout!.on('data', () => {}); // the --json summary; the run itself is the record
    child.on('error', (e) => onLine(`failed to start agentv: ${e.message}`));
    child.on('close', (code, signal) => {
      s.exit_code = code ?? (signal === 'SIGTERM' ? 143 : signal === 'SIGINT' ? 130 : 1);
      s.finished_at = this.now().toISOString();
      s.status = s.exit_code === 0 || s.exit_code === 1 ? 'finished' : s.exit_code === 130 || s.exit_code === 143 ? 'stopped' : 'failed';
      job.child = null;
      this.persist(job);
      this.changed(job);
    });
  }

  private planned(job: Job, runId: string, planned: number): void {
    job.status.run_id = runId;
    job.status.progress.planned = planned;
    if (job.status.status === 'starting') job.status.status = 'running';
    this.persist(job);
  }

  private changed(job: Job): void {
    const snapshot = { ...job.status, log_tail: job.status.log_tail.slice(-50) };
    for (const fn of job.listeners) fn(snapshot);
  }

  private persist(job: Job): void {
    mkdirSync(this.dir, { recursive: true });
    const { log_tail: _l, ...rest } = job.status;
    writeFileSync(path.join(this.dir, `${job.status.id}.json`), JSON.stringify({ ...rest, pid: job.pid }));
  }

  /** A job of this Studio, one recorded by an earlier Studio, or a run adopted by its id. */
  async get(id: string): Promise<JobStatus | null> {
    const live = this.jobs.get(id);
    if (live) return { ...live.status, log_tail: [...live.status.log_tail] };
    const recorded = this.recorded(id);
    if (recorded) return this.fromRecord(recorded);
    if (RUN_ID_PATTERN.test(id)) return this.adopt(id);
    return null;
  }

  subscribe(id: string, fn: (s: JobStatus) => void): () => void {
    const job = this.jobs.get(id);
    if (!job) return () => {};
    job.listeners.add(fn);
    return () => job.listeners.delete(fn);
  }

  /** SIGTERM, once: a repeated Stop does not escalate to a hard kill. */
  async stop(id: string): Promise<{ stopped: true; status: JobState } | { stopped: false; reason: 'already_terminal' } | null> {
    const live = this.jobs.get(id);
    if (live) {
      if (TERMINAL.includes(live.status.status)) return { stopped: false, reason: 'already_terminal' };
      if (live.status.status !== 'stopping') {
        live.child?.kill('SIGTERM');
        live.status.status = 'stopping';
        this.changed(live);
      }
      return { stopped: true, status: 'stopping' };
    }
    const status = await this.get(id);
    if (!status) return null;
    if (TERMINAL.includes(status.status)) return { stopped: false, reason: 'already_terminal' };
    const pid = this.recorded(id)?.pid ?? (status.run_id ? readLockOwner(this.opts.store.localDir, status.run_id)?.pid : null);
    if (pid) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        return { stopped: false, reason: 'already_terminal' };
      }
    }
    return { stopped: true, status: 'stopping' };
  }

  private recorded(id: string): (Omit<JobStatus, 'log_tail'> & { pid: number | null }) | null {
    if (!/^job-[0-9a-f]{12}$/.test(id)) return null;
    try {
      return JSON.parse(readFileSync(path.join(this.dir, `${id}.json`), 'utf8'));
    } catch {
      return null;
    }
  }

  /** A job whose Studio is gone: its state is whatever its run says now. */
  private async fromRecord(rec: Omit<JobStatus, 'log_tail'> & { pid: number | null }): Promise<JobStatus> {
    const base = { ...rec, log_tail: [] as string[] };
    delete (base as { pid?: unknown }).pid;
    if (TERMINAL.includes(rec.status) || !rec.run_id) return base;
    const fromRun = await this.adopt(rec.run_id);
    return fromRun ? { ...fromRun, id: rec.id, command: rec.command, started_at: rec.started_at } : base;
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
    const state: JobState = status === 'running' ? 'running' : status === 'completed' ? 'finished' : status === 'stopped' ? 'stopped' : 'failed';
    return {
      id: runId,
      run_id: runId,
      status: alive ? 'running' : state,
      exit_code: null,
      started_at: m.started_at,
      finished_at: m.finished_at,
      progress: { planned: m.planned_test_count, done: counts.completed_count, passed: counts.passed, failed: counts.failed, errored: counts.errored },
      log_tail: [],
      command: m.argv.length ? commandLine(['agentv', ...m.argv]) : `agentv resume ${runId}`,
    };
  }

  /** Stop every child (Studio shutting down). */
  closeAll(): void {
    for (const j of this.jobs.values()) j.child?.kill('SIGTERM');
  }
}
