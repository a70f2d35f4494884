// One `agentv eval` invocation, from arguments to a finished run. prepare()
// does everything that can fail on bad input — suite, targets, the plan (for
// resume modes, a diff against the committed tree) — before anything is
// written or executed; run() takes the run's lock, commits the manifest,
// executes exactly the plan and records the outcome.
import os from 'node:os';
import path from 'node:path';
import { AgentvError } from '../errors.js';
import { sourceState } from '../git/index.js';
import type { RunEvent } from '../schemas/events.js';
import type { Manifest, PlannedTest, SliceRef } from '../schemas/manifest.js';
import type { Row } from '../schemas/row.js';
import { RowWriter, RunRecorder, acquireRunLock, countsOf, currentOwner, currentRows, localName, readManifestAt, type KnownChunks, type Rest, type RunLock, type Store } from '../store/index.js';
import { prepareSlice, type SlicePlan } from './shard-session.js';
import { commandLine } from '../command-line.js';
import { planTests, selectTests } from './plan.js';
import { diffPlan, findRun, newPlan, type EvalMode, type Plan } from './resume-plan.js';
import { regradePlan } from './regrade-plan.js';
import { applyReuse } from './reuse.js';
import { Executor, type ExecuteOptions } from './runner.js';
import { requireProducers, rerunDependents } from './runtime-vars.js';
import { namedGraders, usesGrader } from './assertions/normalise.js';
import { DEFAULT_LIMITS } from '../schemas/config.js';
import { readConfig } from '../store/config.js';
import { loadSuite } from './suite.js';
import { providerTarget } from './targets/from-provider.js';
import { ProcessRegistry, defaultGraderName, defaultTargetName, loadTargetsConfig, resolveTarget, unavailableTargets } from './targets/index.js';
import type { TargetConfig } from '../schemas/targets.js';
import type { Suite, Target } from './types.js';
import { Watchdog } from './watchdog.js';
import { scratchRootOf, sweepScratch } from './process/scratch.js';

export type { EvalMode, Plan } from './resume-plan.js';

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
  /** `--shard I/N`: execute one slice of a sharded run (SPEC 3.9). */
  shard?: SliceRef;
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
  /** The run as committed; for a slice, the whole run (every slice present here). */
  manifest: Manifest;
  /** A slice's own manifest part (sharded runs), else null. */
  part: Manifest | null;
  executed: number;
  stopped: boolean;
}

/**
 * The command that continues a run, printed on stop and returned in --json.
 * For a sharded run: the first slice that has not completed here (`--resume ID
 * --shard I/N` continues an arrived slice, or starts one that never arrived).
 */
export function resumeCommand(m: Pick<Manifest, 'run_id' | 'options' | 'suite' | 'target' | 'slices'>, slice?: SliceRef): string {
  const suites = m.options.suite_paths.length ? m.options.suite_paths : [m.suite.path];
  const base = ['agentv', 'eval', ...suites, '--target', m.options.target ?? m.target.name, '--resume', m.run_id];
  if (slice) return commandLine([...base, '--shard', `${slice.index}/${slice.count}`]);
  if (m.slices) {
    const done = new Set(m.slices.arrived.filter((a) => a.status === 'completed' && a.completed_count >= a.planned_test_count).map((a) => a.index));
    let i = 1;
    while (i < m.slices.count && done.has(i)) i++;
    return commandLine([...base, '--shard', `${i}/${m.slices.count}`]);
  }
  return commandLine(base);
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
  /** The current rows of the run being continued: later tests may read their outputs (storeOutputAs, _conversation). */
  private priorRows: Row[] = [];
  /** The run's row chunks parsed while planning: the final counts parse only chunks written since. */
  private known: KnownChunks = new Map();
  /** With --shard: the slice, and the whole run's planned set (the plan's is the slice's). */
  private slice: SlicePlan | null = null;

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

  /**
   * `agentv regrade <RUN_ID>`: the run's suite (its current assertions), target
   * and options as its manifest recorded them, planned as a re-grade. The
   * target is resolved to recompute call keys and is never called.
   */
  static async prepareRegrade(req: Omit<EvalRequest, 'suitePath' | 'mode' | 'fromRunId' | 'runId' | 'target'> & { runId: string }): Promise<EvalSession> {
    const { runId, ...rest } = req;
    // The manifest alone: findRun reads the rows once, when planning.
    const tip = await req.store.tip();
    const manifest = tip ? await readManifestAt(req.store, tip.tree, runId) : null;
    if (!manifest) throw new AgentvError('RUN_NOT_FOUND', `run ${runId} not found`, { run_id: runId });
    if (manifest.slices) {
      // A sharded run's rows live in its slices' parts, each written by its own machine.
      throw new AgentvError('USAGE', `run ${runId} is a sharded run (${manifest.slices.count} slices); regrade does not re-grade sharded runs yet: re-grade a slice by resuming it after the assertion change (agentv eval <suite> --resume ${runId} --shard I/${manifest.slices.count})`, { run_id: runId });
    }
    const suitePath = path.resolve(req.repoDir, manifest.options.suite_paths[0] ?? manifest.suite.path);
    const [session] = await EvalSession.prepareAll({
      ...rest,
      suitePath,
      mode: 'regrade',
      fromRunId: runId,
      target: manifest.options.target ?? manifest.target.name,
      grader: req.grader ?? manifest.options.grader ?? undefined,
      workers: req.workers ?? manifest.options.workers ?? undefined,
    });
    return session!;
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
    const found = mode !== 'new' && !req.shard ? await findRun(req, suite, config) : null;
    const previous = found?.manifest ?? null;
    if (previous?.slices && mode !== 'retry_errors') {
      // Each slice is continued by itself, so two machines never execute one test.
      throw new AgentvError('USAGE', `run ${previous.run_id} is split into ${previous.slices.count} slices: continue one with --resume ${previous.run_id} --shard I/${previous.slices.count}, for example: ${resumeCommand(previous)}`, {
        run_id: previous.run_id,
      });
    }
    // A slice continued with --resume ID --shard I/N repeats the run's recorded target, grader and selection.
    const tip = req.shard && mode !== 'new' && req.fromRunId ? await req.store.tip() : null;
    const recorded = previous ?? (tip && req.fromRunId ? await readManifestAt(req.store, tip.tree, req.fromRunId) : null);
    const targetName = req.target ?? recorded?.options.target ?? recorded?.target.name ?? req.provider?.name ?? defaultTargetName(config);
    if (!targetName) {
      throw new AgentvError(
        'CONFIG',
        'no target: pass --target (echo, mock, exec:<command>, openai:<model>, or a name from .agentv/targets.yaml), or set defaults.target in .agentv/targets.yaml',
      );
    }
    const target = withDelay(resolveTarget({ name: targetName, config, repoDir: req.repoDir, registry, env }), suite.delayMs);
    // The suite's grader (defaultTest.options.provider) joins the targets like a provider does.
    const suiteGrader = req.grader === undefined && !recorded?.options.grader && suite.grader ? providerTarget({ ref: suite.grader, config, env }) : undefined;
    if (suiteGrader && config) config.targets = [...config.targets.filter((t) => t.name !== suiteGrader.name), suiteGrader];
    const graderConfig = suiteGrader && !config ? { targets: [suiteGrader] } : config;
    const graderName = req.grader ?? recorded?.options.grader ?? suiteGrader?.name ?? defaultGraderName(config);
    // A default grader from an agentv 5.x catalog that agentv cannot call only matters to a suite that grades with it.
    const idleDefault = graderName !== null && !suite.needsGrader && graderName === defaultGraderName(config) && unavailableTargets(config).some((u) => u.name === graderName);
    const grader = graderName && !idleDefault ? resolveTarget({ name: graderName, config: graderConfig, repoDir: req.repoDir, registry, env }) : null;
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
    const testIds = req.testIds?.length ? req.testIds : (recorded?.options.test_ids ?? []);
    const tags = req.tags?.length ? req.tags : (recorded?.options.tags ?? []);
    const tests = selectTests({ tests: suite.tests, testIds, tags });
    if (tests.length === 0) throw new AgentvError('USAGE', `no tests selected in ${suite.path}${tags.length ? ` with tags ${tags.join(', ')}` : ''}`);
    requireProducers(tests);
    const planned = planTests({ tests, target, grader });
    const base = { suite, target, grader, planned };
    let slice: SlicePlan | null = null;
    let plan = req.shard
      ? ((slice = await prepareSlice({ req, shard: req.shard, mode, tests, base })), slice.plan)
      : mode === 'new' || !previous
        ? newPlan(req, base, tests)
        : mode === 'regrade'
          ? regradePlan({ req, previous, rows: found!.rows, tests, ...base })
          : rerunDependents(diffPlan({ req, mode, previous, rows: found!.rows, tests, ...base }), tests, found!.rows);
    let reused = { reused: 0, noIndex: false };
    if (reuse) ({ plan, ...reused } = await applyReuse({ store: req.store, plan }));
    if ((plan.mode === 'new' || plan.mode === 'retry_errors') && !slice) {
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
    if (found) session.priorRows = [...currentRows(found.rows).values()];
    if (found) session.known = found.known;
    session.slice = slice;
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
    const shard = this.slice?.shard ?? null;
    // A slice has its own lock and journal: slices of one run may run side by side.
    this.lock = acquireRunLock({ localDir: store.localDir, runId: localName(plan.runId, shard) });
    // If this process is killed outright, the watchdog ends the targets' process groups.
    this.watchdog = new Watchdog({ localDir: store.localDir, runId: localName(plan.runId, shard) });
    sweepScratch({ root: scratchRootOf(store.localDir) });
    const recorder = new RunRecorder({ store, runId: plan.runId, mode: plan.mode, emit: onEvent, slice: shard, known: this.known });
    let writer: RowWriter | null = null;
    let rest: Rest | null = null;
    let owned = false;
    try {
      if (plan.mode === 'new' || plan.mode === 'retry_errors') {
        const startedAt = store.now().toISOString();
        const own = await this.newManifest(startedAt);
        // A slice writes its part (its own planned tests); the run's manifest.json
        // is derived from the parts, starting from this whole-run view when the run is new.
        const manifest = shard
          ? await recorder.start({
              manifest: { ...own, slice: shard },
              whole: this.wholeView(own, this.slice!.wholePlanned, shard.count),
              carried: plan.carried,
            })
          : await recorder.start({ manifest: own, carried: plan.carried });
        this.sourceCommit = manifest.source_commit;
      } else if (plan.mode === 'regrade') {
        // Nothing is committed before the rows: the run keeps its status; a crash
        // leaves the rows in the journal, which the next command commits.
        this.sourceCommit = plan.previous?.source_commit ?? null;
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
      // Re-grades finish thousands a second and call no target: bigger groups mean
      // a few commits (each one `git update-ref`) instead of dozens; each row is durable in the journal first.
      const groups = plan.mode === 'regrade' ? { maxBatch: 4096, maxChunk: 4096, maxDelayMs: 1000 } : {};
      writer = new RowWriter({ store, runId: plan.runId, sourceCommit: this.sourceCommit, slice: shard, known: this.known, ...groups });
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
        runtime: { tests: plan.suite.tests, rows: this.priorRows },
      });
      if (this.stopRequested) this.stopRequested.now ? this.executor.stopNow() : this.executor.stop(this.stopRequested.graceMs);
      const result = await this.executor.run();
      // The last group of rows is committed with the run's final manifest: one commit, not two.
      rest = await writer.takeRest();
      // A stop request means `stopped`, even when the last tests finished within the grace period.
      const stopped = result.stopped || this.stopRequested !== null;
      const manifest =
        plan.mode === 'regrade'
          ? await recorder.regradeDone({ planned: plan.items.length, plannedTests: plan.planned, rest })
          : await recorder.finish(stopped ? 'stopped' : 'completed', undefined, rest);
      writer.finish();
      return { manifest, part: recorder.part, executed: result.rows.length, stopped };
    } catch (e) {
      // Rows handed over for a final commit that failed go back to the writer and are
      // committed with their inputs if the ref takes them (the journal keeps rows, not inputs).
      if (writer && rest?.rows.length) {
        writer.giveBack(rest);
        await writer.drain().catch(() => {});
      }
      // Rows stay in the journal; a run this session started or took over is
      // marked failed with what is committed. A run it never touched is left alone.
      writer?.abandon();
      // A failed re-grade leaves the run as it was (its rows stay journaled for the next command).
      if (owned && plan.mode !== 'regrade') await recorder.finish('failed', (e as Error).message).catch(() => {});
      throw e;
    } finally {
      this.recorder = null;
      this.registry.killAll('SIGKILL');
      this.watchdog.stop();
      this.lock.release();
    }
  }

  /** The whole run as a new slice first sees it: every planned test, no slice arrived yet. */
  private wholeView(own: Manifest, planned: PlannedTest[], count: number): Manifest {
    return { ...own, planned_tests: planned, planned_test_count: planned.length, slices: { count, arrived: [] } };
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
        reuse: this.reuse.enabled,
      },
      owner: currentOwner(),
      events: [{ type: 'started', at: startedAt }],
      retry_of: plan.mode === 'retry_errors' ? (req.fromRunId ?? null) : null,
    };
  }
}

