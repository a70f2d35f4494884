// One `agentv eval` invocation, from arguments to a finished run. prepare()
// does everything that can fail on bad input — suite, targets, the plan (for
// resume modes, a diff against the committed tree) — before anything is
// written or executed; run() takes the run's lock, commits the manifest,
// executes exactly the plan and records the outcome.
import os from 'node:os';
import { AgentvError } from '../errors.js';
import { sourceState } from '../git/index.js';
import type { Manifest, PlannedTest, RunEvent } from '../schemas/manifest.js';
import type { Row } from '../schemas/row.js';
import {
  RowWriter,
  acquireRunLock,
  countsOf,
  createRun,
  currentOwner,
  currentRows,
  effectiveStatus,
  finishRun,
  listRuns,
  readManifestAt,
  readRun,
  recoverRun,
  resumeFacts,
  updateRun,
  type RunLock,
  type Store,
} from '../store/index.js';
import { newRunId, planTests, selectTests } from './plan.js';
import { Executor, type ProgressEvent, type WorkItem } from './runner.js';
import { loadSuite } from './suite.js';
import { Watchdog } from './watchdog.js';
import { ProcessRegistry, defaultGraderName, defaultTargetName, loadTargetsConfig, resolveTarget } from './targets/index.js';
import type { Suite, Target } from './types.js';

declare const __AGENTV_VERSION__: string;
const VERSION = typeof __AGENTV_VERSION__ === 'string' ? __AGENTV_VERSION__ : '0.0.0';

export type EvalMode = 'new' | 'resume' | 'rerun_failed' | 'retry_errors';

export interface EvalRequest {
  store: Store;
  /** The source repository: suites, .agentv/targets.yaml, HEAD. */
  repoDir: string;
  suitePath: string;
  target?: string;
  grader?: string;
  workers?: number;
  runId?: string;
  testIds?: string[];
  tags?: string[];
  mode?: EvalMode;
  /** The run to continue (resume, rerun_failed) or to retry from (retry_errors); resume and rerun_failed may omit it. */
  fromRunId?: string;
  acceptChanged?: boolean;
  argv?: string[];
  env?: NodeJS.ProcessEnv;
}

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
  carried: Row[];
  summary: string;
}

export interface EvalOutcome {
  manifest: Manifest;
  executed: number;
  stopped: boolean;
}

/** The command that continues a run, printed on stop and returned in --json. */
export function resumeCommand(m: Pick<Manifest, 'run_id' | 'options' | 'suite' | 'target'>): string {
  const suites = m.options.suite_paths.length ? m.options.suite_paths : [m.suite.path];
  const quote = (s: string) => (/^[\w./:@=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  return `agentv eval ${suites.map(quote).join(' ')} --target ${quote(m.options.target ?? m.target.name)} --resume ${m.run_id}`;
}

export class EvalSession {
  private executor: Executor | null = null;
  private lock: RunLock | null = null;
  private stopRequested: { graceMs: number; now: boolean } | null = null;
  private watchdog: Watchdog | null = null;

  private constructor(
    readonly req: EvalRequest,
    readonly plan: Plan,
    /** Every process the targets start is registered here, so a stop can end it. */
    readonly registry: ProcessRegistry,
  ) {}

  /** Validate everything and compute the plan; writes nothing. */
  static async prepare(req: EvalRequest): Promise<EvalSession> {
    const mode = req.mode ?? 'new';
    const suite = await loadSuite({ path: req.suitePath, repoDir: req.repoDir });
    const config = await loadTargetsConfig({ repoDir: req.repoDir });
    // The watchdog attaches at run(); until then there is nothing to report.
    let report: (pids: number[]) => void = () => {};
    const registry = new ProcessRegistry((pids) => report(pids));
    const found = mode !== 'new' ? await findRun(req, suite, config) : null;
    const previous = found?.manifest ?? null;
    const targetName = req.target ?? previous?.options.target ?? previous?.target.name ?? defaultTargetName(config);
    if (!targetName) {
      throw new AgentvError(
        'CONFIG',
        'no target: pass --target (echo, mock, exec:<command>, openai:<model>, or a name from .agentv/targets.yaml), or set defaults.target in .agentv/targets.yaml',
      );
    }
    const target = resolveTarget({ name: targetName, config, repoDir: req.repoDir, registry, env: req.env });
    const graderName = req.grader ?? previous?.options.grader ?? defaultGraderName(config);
    const grader = graderName ? resolveTarget({ name: graderName, config, repoDir: req.repoDir, registry, env: req.env }) : null;
    if (suite.needsGrader && !grader) {
      const first = suite.tests.find((t) => t.assertions.some((a) => a.type === 'llm-rubric'));
      throw new AgentvError(
        'SUITE_INVALID',
        `${suite.path}: test "${first?.id}": llm-rubric assertions need a grader: pass --grader or set defaults.grader in .agentv/targets.yaml`,
        { file: suite.path, test_id: first?.id, problems: [{ file: suite.path, test_id: first?.id, message: 'llm-rubric without a grader' }] },
      );
    }
    const testIds = req.testIds?.length ? req.testIds : (previous?.options.test_ids ?? []);
    const tags = req.tags?.length ? req.tags : (previous?.options.tags ?? []);
    const tests = selectTests({ tests: suite.tests, testIds, tags });
    if (tests.length === 0) throw new AgentvError('USAGE', `no tests selected in ${suite.path}${tags.length ? ` with tags ${tags.join(', ')}` : ''}`);
    const planned = planTests({ tests, target, grader });
    const base = { suite, target, grader, planned };
    const plan =
      mode === 'new' || !previous
        ? newPlan(req, base, tests)
        : diffPlan({ req, mode, previous, rows: found!.rows, tests, ...base });
    if (plan.mode === 'new' || plan.mode === 'retry_errors') {
      const tip = await req.store.tip();
      if (tip && (await readManifestAt(req.store, tip.tree, plan.runId))) {
        throw new AgentvError('USAGE', `run id ${plan.runId} already exists; choose another --run-id, or continue it with --resume ${plan.runId}`, {
          run_id: plan.runId,
        });
      }
    }
    const session = new EvalSession({ ...req, mode, testIds, tags, target: targetName, grader: graderName ?? undefined }, plan, registry);
    report = (pids) => session.watchdog?.update(pids);
    return session;
  }

  /** First signal: finish in-flight tests within graceMs. */
  stop(graceMs: number): void {
    this.stopRequested ??= { graceMs, now: false };
    this.executor?.stop(graceMs);
  }

  /** Second signal: end target processes at once. */
  stopNow(): void {
    this.stopRequested = { graceMs: 0, now: true };
    this.executor?.stopNow();
  }

  get inFlight(): number {
    return this.executor?.running ?? 0;
  }

  async run({ onRow }: { onRow?: (e: ProgressEvent) => void } = {}): Promise<EvalOutcome> {
    const { store } = this.req;
    const plan = this.plan;
    this.lock = acquireRunLock({ localDir: store.localDir, runId: plan.runId });
    // If this process is killed outright, the watchdog ends the targets' process groups.
    this.watchdog = new Watchdog({ localDir: store.localDir, runId: plan.runId });
    let writer: RowWriter | null = null;
    let owned = false;
    try {
      const startedAt = store.now().toISOString();
      if (plan.mode === 'new' || plan.mode === 'retry_errors') {
        await createRun({ store, manifest: await this.newManifest(startedAt), rows: plan.carried });
      } else {
        await updateRun({
          store,
          runId: plan.runId,
          update: {
            subject: `run ${plan.runId}: ${plan.mode === 'resume' ? 'resume' : 'rerun failed'} (${plan.items.length} tests)`,
            manifest: (m) => ({
              ...m,
              status: 'running',
              finished_at: null,
              owner: currentOwner(),
              // With --accept-changed the target or grader may differ: the run records what now runs.
              target: { name: plan.target.name, provider: plan.target.provider, config_hash: plan.target.configHash },
              grader: plan.grader ? { name: plan.grader.name, provider: plan.grader.provider, config_hash: plan.grader.configHash } : null,
              options: { ...m.options, target: this.req.target ?? m.options.target, grader: this.req.grader ?? m.options.grader },
              planned_tests: plan.planned,
              planned_test_count: plan.planned.length,
              events: [
                ...m.events,
                {
                  type: 'resumed',
                  at: startedAt,
                  mode: this.req.acceptChanged && plan.changed ? 'accept_changed' : (plan.mode as 'resume' | 'rerun_failed'),
                  planned: plan.items.length,
                  executed: 0,
                },
              ],
            }),
          },
        });
      }
      owned = true;
      writer = new RowWriter({ store, runId: plan.runId });
      this.executor = new Executor({
        items: plan.items,
        target: plan.target,
        grader: plan.grader,
        writer,
        registry: this.registry,
        workers: this.req.workers ?? 4,
        cwd: this.req.repoDir,
        now: store.now,
        onRow,
      });
      if (this.stopRequested) this.stopRequested.now ? this.executor.stopNow() : this.executor.stop(this.stopRequested.graceMs);
      const result = await this.executor.run();
      await writer.drain();
      // A stop request means `stopped`, even when the last tests finished within the grace period.
      const stopped = result.stopped || this.stopRequested !== null;
      const manifest = await this.finish(stopped ? 'stopped' : 'completed', result.rows.length);
      writer.finish();
      return { manifest, executed: result.rows.length, stopped };
    } catch (e) {
      // Rows stay in the journal; a run this session started or took over is
      // marked failed with what is committed. A run it never touched is left alone.
      writer?.abandon();
      if (owned) await this.finish('failed', 0, (e as Error).message).catch(() => {});
      throw e;
    } finally {
      this.registry.killAll('SIGKILL');
      this.watchdog.stop();
      this.lock.release();
    }
  }

  private async finish(status: Manifest['status'], executed: number, detail?: string): Promise<Manifest> {
    const { store } = this.req;
    const m = await finishRun({ store, runId: this.plan.runId, status, detail });
    if (this.plan.mode !== 'resume' && this.plan.mode !== 'rerun_failed') return m;
    // Record how many tests this resume executed on its event.
    const { manifest } = await updateRun({
      store,
      runId: this.plan.runId,
      update: {
        subject: `run ${this.plan.runId}: resume executed ${executed}`,
        manifest: (cur) => {
          const events: RunEvent[] = [...cur.events];
          for (let i = events.length - 1; i >= 0; i--) {
            if (events[i]!.type === 'resumed') {
              events[i] = { ...events[i]!, executed };
              break;
            }
          }
          return { ...cur, events };
        },
      },
    });
    return manifest;
  }

  private async newManifest(startedAt: string): Promise<Manifest> {
    const { req, plan } = this;
    const src = await sourceState({ cwd: req.repoDir });
    return {
      schema_version: 1,
      run_id: plan.runId,
      suite: { name: plan.suite.name, path: plan.suite.path },
      suite_hash: plan.suite.hash,
      target: { name: plan.target.name, provider: plan.target.provider, config_hash: plan.target.configHash },
      grader: plan.grader ? { name: plan.grader.name, provider: plan.grader.provider, config_hash: plan.grader.configHash } : null,
      planned_tests: plan.planned,
      planned_test_count: plan.planned.length,
      source_commit: src.commit,
      source_dirty: src.dirty,
      argv: req.argv ?? [],
      agentv_version: VERSION,
      host: os.hostname(),
      started_at: startedAt,
      finished_at: null,
      status: 'running',
      counts: plan.carried.length ? countsOf(plan.planned, currentRows(plan.carried)) : null,
      tags: req.tags ?? [],
      options: {
        suite_paths: [plan.suite.path],
        target: req.target ?? null,
        grader: req.grader ?? null,
        workers: req.workers ?? null,
        test_ids: req.testIds ?? [],
        tags: req.tags ?? [],
      },
      owner: currentOwner(),
      events: [{ type: 'started', at: startedAt }],
      retry_of: plan.mode === 'retry_errors' ? (req.fromRunId ?? null) : null,
    };
  }
}

export function liveMessage(runId: string, pid: number | undefined, host: string): string {
  return `run ${runId} is running in process ${pid ?? '?'} on ${host}; stop it first (Ctrl+C there, or Stop in Studio) or wait for it to finish`;
}

type Base = { suite: Suite; target: Target; grader: Target | null; planned: PlannedTest[] };

function newPlan(req: EvalRequest, base: Base, tests: Suite['tests']): Plan {
  const runId = req.runId ?? newRunId();
  const items = tests.map((test, i) => ({ test, inputHash: base.planned[i]!.input_hash, attempt: 1 }));
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
    carried: [],
    summary: `run ${runId}: ${items.length} tests`,
  };
}

/** The run a resume mode continues: the named one, or the newest resumable run of this suite and target. */
async function findRun(
  req: EvalRequest,
  suite: Suite,
  config: Awaited<ReturnType<typeof loadTargetsConfig>>,
): Promise<{ manifest: Manifest; rows: Row[] }> {
  const { store } = req;
  let runId = req.fromRunId;
  if (!runId) {
    const target = req.target ?? defaultTargetName(config) ?? undefined;
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
  await recoverRun({ store, runId });
  const { manifest, rows } = await readRun({ store, runId });
  if (manifest.suite.path !== suite.path && manifest.suite.name !== suite.name) {
    throw new AgentvError('USAGE', `run ${runId} is a run of suite ${manifest.suite.path}, not ${suite.path}`, { run_id: runId });
  }
  return { manifest, rows };
}

function diffPlan({
  req,
  mode,
  previous,
  rows,
  tests,
  suite,
  target,
  grader,
  planned,
}: Base & { req: EvalRequest; mode: Exclude<EvalMode, 'new'>; previous: Manifest; rows: Row[]; tests: Suite['tests'] }): Plan {
  const { store } = req;
  const status = effectiveStatus(store, previous);
  if (status === 'running' && mode !== 'retry_errors') {
    throw new AgentvError('RUN_LIVE', liveMessage(previous.run_id, previous.owner?.pid, previous.owner?.host ?? previous.host), {
      run_id: previous.run_id,
      owner: previous.owner,
    });
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
  tests.forEach((test, i) => {
    const hash = planned[i]!.input_hash;
    const row = current.get(test.id);
    const nextAttempt = mode === 'retry_errors' ? 1 : (attempts.get(test.id) ?? 0) + 1;
    const run = () => items.push({ test, inputHash: hash, attempt: nextAttempt });
    if (!row) {
      missing++;
      return run();
    }
    if (row.input_hash !== hash) {
      changed.push(test.id);
      return run();
    }
    const rerun =
      row.execution_status === 'execution_error' || (mode === 'rerun_failed' && row.execution_status === 'quality_failure');
    if (rerun) {
      if (row.execution_status === 'execution_error') errored++;
      else failed++;
      return run();
    }
    done++;
    if (mode === 'retry_errors') {
      const { carried_from: _c, ...rest } = row;
      carried.push({ ...rest, attempt: 1, carried_from: row.carried_from ?? previous.run_id });
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
  const removed = previous.planned_tests.filter((p) => !tests.some((t) => t.id === p.test_id)).length;
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
    carried,
    summary:
      `${verb} run ${runId}: ${done} done, ${items.length} to run (${parts.join(', ')})` +
      (mode === 'retry_errors' ? `, ${carried.length} carried over` : '') +
      (removed ? `; ${removed} test(s) no longer in the suite keep their rows` : ''),
  };
}
