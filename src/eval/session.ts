// One `agentv eval` invocation, from arguments to a finished run. prepare()
// does everything that can fail on bad input — suite, targets, the plan (for
// resume modes, a diff against the committed tree) — before anything is
// written or executed; run() takes the run's lock, commits the manifest,
// executes exactly the plan and records the outcome.
import os from 'node:os';
import { AgentvError } from '../errors.js';
import { sourceState } from '../git/index.js';
import type { RunEvent } from '../schemas/events.js';
import type { Manifest } from '../schemas/manifest.js';
import { RowWriter, RunRecorder, acquireRunLock, countsOf, currentOwner, currentRows, readManifestAt, type RunLock, type Store } from '../store/index.js';
import { commandLine } from './command-line.js';
import { planTests, selectTests } from './plan.js';
import { diffPlan, findRun, newPlan, type EvalMode, type Plan } from './resume-plan.js';
import { applyReuse } from './reuse.js';
import { Executor, type ExecuteOptions } from './runner.js';
import { namedGraders, usesGrader } from './assertions/normalise.js';
import { DEFAULT_LIMITS } from '../schemas/config.js';
import { readConfig } from '../store/config.js';
import { loadSuite } from './suite.js';
import { providerTarget } from './targets/from-provider.js';
import { ProcessRegistry, defaultGraderName, defaultTargetName, loadTargetsConfig, resolveTarget } from './targets/index.js';
import type { TargetConfig } from '../schemas/targets.js';
import type { Suite, Target } from './types.js';
import { Watchdog } from './watchdog.js';
import { scratchRootOf, sweepScratch } from './process/scratch.js';

export type { EvalMode, Plan } from './resume-plan.js';
export { liveMessage } from './resume-plan.js';

declare const __AGENTV_VERSION__: string;
const VERSION = typeof __AGENTV_VERSION__ === 'string' ? __AGENTV_VERSION__ : '0.0.0';

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
  /** Grade earlier outputs of the same call instead of calling the target (SPEC 3.9); unset: `.agentv/config.yaml` `eval.reuse`. */
  reuse?: boolean;
  argv?: string[];
  env?: NodeJS.ProcessEnv;
  /** The suite, when already loaded (prepareAll loads it once for all its providers). */
  suite?: Suite;
  /** The target this run uses when --target is not given: one of the suite's providers. */
  provider?: TargetConfig;
}

/** A target whose calls are spaced by `evaluateOptions.delay` (ms after each call, per worker). */
function withDelay(target: Target, ms: number | undefined): Target {
  if (!ms) return target;
  return { ...target, call: async (input) => {
    try {
      return await target.call(input);
    } finally {
      await new Promise((r) => setTimeout(r, ms));
    }
  } };
}

export interface EvalOutcome {
  manifest: Manifest;
  executed: number;
  stopped: boolean;
}

/** The command that continues a run, printed on stop and returned in --json. */
export function resumeCommand(m: Pick<Manifest, 'run_id' | 'options' | 'suite' | 'target'>): string {
  const suites = m.options.suite_paths.length ? m.options.suite_paths : [m.suite.path];
  return commandLine(['agentv', 'eval', ...suites, '--target', m.options.target ?? m.target.name, '--resume', m.run_id]);
}

export class EvalSession {
  private executor: Executor | null = null;
  private lock: RunLock | null = null;
  private stopRequested: { graceMs: number; now: boolean } | null = null;
  private watchdog: Watchdog | null = null;
  /** True once this session wrote to the run (created or took it over): a failure after that is a runner failure (exit 3). */
  started = false;
  private recorder: RunRecorder | null = null;
  /** The run's source commit, once its manifest is committed or read. */
  private sourceCommit: string | null = null;
  /** Whether this run reuses earlier outputs, how many, and whether the ref had a call index to look in. */
  reuse: { enabled: boolean; reused: number; noIndex: boolean } = { enabled: false, reused: 0, noIndex: false };
  /** How assertions are run: their time limit, and graders named on an assertion. */
  private grading: Pick<ExecuteOptions, 'assertionTimeoutMs' | 'resolveGrader'> = {};

  private constructor(
    readonly req: EvalRequest,
    readonly plan: Plan,
    /** Every process the targets start is registered here, so a stop can end it. */
    readonly registry: ProcessRegistry,
  ) {}

  /**
   * One session per run the suite asks for: --target replaces the suite's providers;
   * else each of the suite's `providers:` / `execution.target` is a run; else the
   * default target. Every provider is resolved before any session is returned.
   */
  static async prepareAll(req: EvalRequest): Promise<EvalSession[]> {
    const suite = await loadSuite({ path: req.suitePath, repoDir: req.repoDir });
    const providers = suite.providers ?? [];
    const config = await loadTargetsConfig({ repoDir: req.repoDir });
    const env = { ...suite.env, ...(req.env ?? process.env) };
    if (req.target !== undefined) {
      // --target replaces the suite's providers; naming one of them (as `agentv resume` does) picks it.
      const ref = providers.find((p) => (p.label ?? p.id) === req.target && !config?.targets.some((t) => t.name === req.target));
      const provider = ref ? providerTarget({ ref, config, env }) : undefined;
      return [await EvalSession.prepare({ ...req, suite, ...(provider ? { provider, target: undefined } : {}) })];
    }
    const own = suite.testTargets ?? [];
    if (own.length) {
      const list = own.slice(0, 5).map((t) => `${t.where}: execution.target ${t.target}`).join('\n  ');
      throw new AgentvError('CONFIG', `${suite.path}: some tests name their own target, and a run has one target:\n  ${list}\npass --target to run every test against one target, or split the suite`);
    }
    if (providers.length === 0) return [await EvalSession.prepare({ ...req, suite })];
    const targets = providers.map((ref) => providerTarget({ ref, config, env }));
    const names = new Set(targets.map((t) => t.name));
    if (names.size < targets.length) throw new AgentvError('CONFIG', `${suite.path}: two providers share the name ${[...names].find((n) => targets.filter((t) => t.name === n).length > 1)}; give them distinct labels`);
    if (targets.length > 1 && (req.runId || (req.mode ?? 'new') !== 'new')) {
      throw new AgentvError('USAGE', `${suite.path} names ${targets.length} providers (one run each): --run-id and resume modes need one, chosen with --target`);
    }
    const sessions: EvalSession[] = [];
    for (const provider of targets) sessions.push(await EvalSession.prepare({ ...req, suite, provider }));
    return sessions;
  }

  /** Validate everything and compute the plan; writes nothing. */
  static async prepare(req: EvalRequest): Promise<EvalSession> {
    const mode = req.mode ?? 'new';
    const suite = req.suite ?? (await loadSuite({ path: req.suitePath, repoDir: req.repoDir }));
    const loaded = await loadTargetsConfig({ repoDir: req.repoDir });
    // A suite's provider joins the configured targets under its own name for this run.
    const config = req.provider ? { ...loaded, targets: [...(loaded?.targets ?? []).filter((t) => t.name !== req.provider!.name), req.provider] } : loaded;
    const env = { ...suite.env, ...(req.env ?? process.env) };
    // The watchdog attaches at run(); until then there is nothing to report.
    let report: (pids: number[]) => void = () => {};
    const registry = new ProcessRegistry((pids) => report(pids), { scratchRoot: scratchRootOf(req.store.localDir) });
    const found = mode !== 'new' ? await findRun(req, suite, config) : null;
    const previous = found?.manifest ?? null;
    const targetName = req.target ?? previous?.options.target ?? previous?.target.name ?? req.provider?.name ?? defaultTargetName(config);
    if (!targetName) {
      throw new AgentvError(
        'CONFIG',
        'no target: pass --target (echo, mock, exec:<command>, openai:<model>, or a name from .agentv/targets.yaml), or set defaults.target in .agentv/targets.yaml',
      );
    }
    const target = withDelay(resolveTarget({ name: targetName, config, repoDir: req.repoDir, registry, env }), suite.delayMs);
    // The suite's grader (defaultTest.options.provider) joins the targets like a provider does.
    const suiteGrader = req.grader === undefined && !previous?.options.grader && suite.grader ? providerTarget({ ref: suite.grader, config, env }) : undefined;
    if (suiteGrader && config) config.targets = [...config.targets.filter((t) => t.name !== suiteGrader.name), suiteGrader];
    const graderConfig = suiteGrader && !config ? { targets: [suiteGrader] } : config;
    const graderName = req.grader ?? previous?.options.grader ?? suiteGrader?.name ?? defaultGraderName(config);
    const grader = graderName ? resolveTarget({ name: graderName, config: graderConfig, repoDir: req.repoDir, registry, env }) : null;
    if (suite.needsGrader && !grader) {
      const first = suite.tests.find((t) => t.assertions.some(usesGrader));
      throw new AgentvError(
        'SUITE_INVALID',
        `${suite.path}: test "${first?.id}": llm-rubric and other model-graded assertions need a grader: pass --grader or set defaults.grader in .agentv/targets.yaml`,
        { file: suite.path, test_id: first?.id, problems: [{ file: suite.path, test_id: first?.id, message: 'llm-rubric without a grader' }] },
      );
    }
    const repoConfig = await readConfig({ root: req.repoDir });
    const limits = repoConfig?.limits ?? DEFAULT_LIMITS;
    // --rerun-failed exists to call the target again; reusing the failed output would undo it.
    if (mode === 'rerun_failed' && req.reuse === true) {
      throw new AgentvError('USAGE', '--reuse does not go with --rerun-failed (it re-executes failed tests to get new outputs); use --resume or a new run');
    }
    const reuse = mode !== 'rerun_failed' && (req.reuse ?? repoConfig?.eval?.reuse ?? false);
    // --grader on the command line replaces every grader the suite names (as promptfoo's does);
    // otherwise a grader named on an assertion must exist, checked before anything runs.
    const graders = new Map<string, Target>();
    const resolveGrader = (name: string): Target => {
      if (req.grader !== undefined && grader) return grader;
      if (!graders.has(name)) graders.set(name, resolveTarget({ name, config, repoDir: req.repoDir, registry, env: req.env }));
      return graders.get(name)!;
    };
    for (const name of new Set(suite.tests.flatMap((t) => t.assertions.flatMap(namedGraders)))) resolveGrader(name);
    const testIds = req.testIds?.length ? req.testIds : (previous?.options.test_ids ?? []);
    const tags = req.tags?.length ? req.tags : (previous?.options.tags ?? []);
    const tests = selectTests({ tests: suite.tests, testIds, tags });
    if (tests.length === 0) throw new AgentvError('USAGE', `no tests selected in ${suite.path}${tags.length ? ` with tags ${tags.join(', ')}` : ''}`);
    const planned = planTests({ tests, target, grader });
    const base = { suite, target, grader, planned };
    let plan =
      mode === 'new' || !previous
        ? newPlan(req, base, tests)
        : diffPlan({ req, mode, previous, rows: found!.rows, tests, ...base });
    let reused = { reused: 0, noIndex: false };
    if (reuse) ({ plan, ...reused } = await applyReuse({ store: req.store, plan }));
    if (plan.mode === 'new' || plan.mode === 'retry_errors') {
      const tip = await req.store.tip();
      if (tip && (await readManifestAt(req.store, tip.tree, plan.runId))) {
        throw new AgentvError('USAGE', `run id ${plan.runId} already exists; choose another --run-id, or continue it with --resume ${plan.runId}`, {
          run_id: plan.runId,
        });
      }
    }
    const workers = req.workers ?? suite.maxConcurrency;
    const session = new EvalSession({ ...req, mode, testIds, tags, target: targetName, grader: graderName ?? undefined, ...(workers === undefined ? {} : { workers }) }, plan, registry);
    session.grading = { assertionTimeoutMs: limits.assertion_timeout_ms, resolveGrader };
    session.reuse = { enabled: reuse, ...reused };
    report = (pids) => session.watchdog?.update(pids);
    return session;
  }

  /** First signal: finish in-flight tests within graceMs. */
  stop(graceMs: number): void {
    if (!this.stopRequested) this.recorder?.stopping(false, graceMs);
    this.stopRequested ??= { graceMs, now: false };
    this.executor?.stop(graceMs);
  }

  /** Second signal: end target processes at once. */
  stopNow(): void {
    this.recorder?.stopping(true, 0);
    this.stopRequested = { graceMs: 0, now: true };
    this.executor?.stopNow();
  }

  get inFlight(): number {
    return this.executor?.running ?? 0;
  }

  /** Execute the plan; every lifecycle transition and finished test goes to `onEvent` (see RunRecorder). */
  async run({ onEvent }: { onEvent?: (e: RunEvent) => void } = {}): Promise<EvalOutcome> {
    const { store } = this.req;
    const plan = this.plan;
    this.lock = acquireRunLock({ localDir: store.localDir, runId: plan.runId });
    // If this process is killed outright, the watchdog ends the targets' process groups.
    this.watchdog = new Watchdog({ localDir: store.localDir, runId: plan.runId });
    sweepScratch({ root: scratchRootOf(store.localDir) });
    const recorder = new RunRecorder({ store, runId: plan.runId, mode: plan.mode, emit: onEvent });
    let writer: RowWriter | null = null;
    let owned = false;
    try {
      if (plan.mode === 'new' || plan.mode === 'retry_errors') {
        const manifest = await recorder.start({ manifest: await this.newManifest(store.now().toISOString()), carried: plan.carried });
        this.sourceCommit = manifest.source_commit;
      } else {
        const manifest = await recorder.resume({
          mode: this.req.acceptChanged && plan.changed ? 'accept_changed' : (plan.mode as 'resume' | 'rerun_failed'),
          planned: plan.items.length,
          patch: (m) => ({
            ...m,
            // With --accept-changed the target or grader may differ: the run records what now runs.
            target: { name: plan.target.name, provider: plan.target.provider, config_hash: plan.target.configHash },
            grader: plan.grader ? { name: plan.grader.name, provider: plan.grader.provider, config_hash: plan.grader.configHash } : null,
            options: { ...m.options, target: this.req.target ?? m.options.target, grader: this.req.grader ?? m.options.grader },
            planned_tests: plan.planned,
            planned_test_count: plan.planned.length,
          }),
        });
        this.sourceCommit = manifest.source_commit;
      }
      owned = true;
      this.started = true;
      this.recorder = recorder;
      recorder.planned(plan.planned.length, plan.items.length);
      if (this.stopRequested) recorder.stopping(this.stopRequested.now, this.stopRequested.graceMs);
      writer = new RowWriter({ store, runId: plan.runId, sourceCommit: this.sourceCommit });
      this.executor = new Executor({
        items: plan.items,
        target: plan.target,
        grader: plan.grader,
        writer,
        registry: this.registry,
        workers: this.req.workers ?? 4,
        cwd: this.req.repoDir,
        ...this.grading,
        ...(plan.suite.scoringFunction !== undefined && { scoringFunction: plan.suite.scoringFunction }),
        now: store.now,
        onRow: (e) => recorder.testFinished(e.row),
      });
      if (this.stopRequested) this.stopRequested.now ? this.executor.stopNow() : this.executor.stop(this.stopRequested.graceMs);
      const result = await this.executor.run();
      await writer.drain();
      // A stop request means `stopped`, even when the last tests finished within the grace period.
      const stopped = result.stopped || this.stopRequested !== null;
      const manifest = await recorder.finish(stopped ? 'stopped' : 'completed');
      writer.finish();
      return { manifest, executed: result.rows.length, stopped };
    } catch (e) {
      // Rows stay in the journal; a run this session started or took over is
      // marked failed with what is committed. A run it never touched is left alone.
      writer?.abandon();
      if (owned) await recorder.finish('failed', (e as Error).message).catch(() => {});
      throw e;
    } finally {
      this.recorder = null;
      this.registry.killAll('SIGKILL');
      this.watchdog.stop();
      this.lock.release();
    }
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

