// A hand-written reader for a stored run manifest, beside the Manifest schema
// (the authority), so that reading a run (`runs show`) does not load zod: the
// schema library and the schemas cost more than the rest of the command. It
// accepts only what Manifest accepts and returns what Manifest.parse returns
// (same keys, same order, same defaults, unknown keys dropped); anything else
// returns null and the caller asks the schema, which says what is wrong.
// test/store/manifest-check.test.ts proves the agreement. The plan is checked
// here; the write path checks with it too (parseManifestValue): zod checks a
// 10,000-test plan in tens of milliseconds.
import { isRunId } from './ids.js';
import type { Manifest, PlannedTest, RunCounts, RunEvent, RunOptions, SliceSummary, TargetRef } from './manifest.js';

type Obj = Record<string, unknown>;

const RUN_STATUSES = new Set(['running', 'completed', 'stopped', 'interrupted', 'failed']);
const EVENT_TYPES = new Set(['started', 'resumed', 'stopped', 'interrupted', 'completed', 'failed', 'recovered', 'regraded']);
const EVENT_MODES = new Set(['resume', 'rerun_failed', 'retry_errors', 'accept_changed']);

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isTime = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isInt = (v: unknown): v is number => Number.isSafeInteger(v);
const isCount = (v: unknown): v is number => isInt(v) && v >= 0;
const isPositive = (v: unknown): v is number => isInt(v) && v > 0;
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every(isStr);
/** `nullable().default(null)`: absent or null is null. */
const orNull = <T>(v: unknown, check: (v: unknown) => T | null): T | null | undefined => (v === undefined || v === null ? null : (check(v) ?? undefined));

function targetOf(v: unknown): TargetRef | null {
  if (!isObj(v) || !isStr(v.name) || !isStr(v.provider) || !isStr(v.config_hash)) return null;
  return { name: v.name, provider: v.provider, config_hash: v.config_hash };
}

function countsOf(v: unknown): RunCounts | null {
  if (!isObj(v) || !isCount(v.completed_count) || !isCount(v.passed) || !isCount(v.failed) || !isCount(v.errored)) return null;
  if ((v.pass_rate !== null && !isNum(v.pass_rate)) || (v.avg_score !== null && !isNum(v.avg_score))) return null;
  return { completed_count: v.completed_count, passed: v.passed, failed: v.failed, errored: v.errored, pass_rate: v.pass_rate, avg_score: v.avg_score };
}

/** The options of a manifest that records none (Manifest's default, shared with the schema). */
export const defaultRunOptions = (): RunOptions => ({ suite_paths: [], target: null, grader: null, workers: null, test_ids: [], tags: [] });

function optionsOf(v: unknown): RunOptions | null {
  if (v === undefined) return defaultRunOptions();
  if (!isObj(v)) return null;
  if ((v.suite_paths !== undefined && !isStrings(v.suite_paths)) || (v.test_ids !== undefined && !isStrings(v.test_ids)) || (v.tags !== undefined && !isStrings(v.tags))) return null;
  if ((v.target != null && !isStr(v.target)) || (v.grader != null && !isStr(v.grader)) || (v.workers != null && !isPositive(v.workers))) return null;
  if (v.reuse !== undefined && typeof v.reuse !== 'boolean') return null;
  return {
    suite_paths: v.suite_paths ? [...v.suite_paths] : [],
    target: (v.target as string | null | undefined) ?? null,
    grader: (v.grader as string | null | undefined) ?? null,
    workers: (v.workers as number | null | undefined) ?? null,
    test_ids: v.test_ids ? [...v.test_ids] : [],
    tags: v.tags ? [...v.tags] : [],
    ...(v.reuse !== undefined && { reuse: v.reuse }),
  };
}

function ownerOf(v: unknown): Manifest['owner'] {
  if (!isObj(v) || !isStr(v.host) || !isInt(v.pid)) return null;
  if ((v.boot_id != null && !isStr(v.boot_id)) || (v.proc_start != null && !isStr(v.proc_start))) return null;
  return { host: v.host, pid: v.pid, boot_id: (v.boot_id as string | null | undefined) ?? null, proc_start: (v.proc_start as string | null | undefined) ?? null };
}

function eventOf(v: unknown): RunEvent | null {
  if (!isObj(v) || !isStr(v.type) || !EVENT_TYPES.has(v.type) || !isTime(v.at)) return null;
  if (v.mode !== undefined && !(isStr(v.mode) && EVENT_MODES.has(v.mode))) return null;
  if ((v.planned !== undefined && !isInt(v.planned)) || (v.executed !== undefined && !isInt(v.executed)) || (v.detail !== undefined && !isStr(v.detail))) return null;
  return {
    type: v.type as RunEvent['type'],
    at: v.at,
    ...(v.mode !== undefined && { mode: v.mode as RunEvent['mode'] }),
    ...(v.planned !== undefined && { planned: v.planned }),
    ...(v.executed !== undefined && { executed: v.executed }),
    ...(v.detail !== undefined && { detail: v.detail }),
  };
}

function sliceSummaryOf(v: unknown): SliceSummary | null {
  if (!isObj(v) || !isPositive(v.index) || !isStr(v.status) || !RUN_STATUSES.has(v.status) || !isStr(v.host) || !isTime(v.started_at)) return null;
  if ((v.finished_at !== null && !isTime(v.finished_at)) || !isCount(v.planned_test_count) || !isCount(v.completed_count)) return null;
  return {
    index: v.index,
    status: v.status as SliceSummary['status'],
    host: v.host,
    started_at: v.started_at,
    finished_at: v.finished_at,
    planned_test_count: v.planned_test_count,
    completed_count: v.completed_count,
  };
}

/** Each element checked by `check`, or null when any is not one. */
function listOf<T>(v: unknown, check: (v: unknown) => T | null): T[] | null {
  if (!Array.isArray(v)) return null;
  const out: T[] = [];
  for (const x of v) {
    const y = check(x);
    if (y === null) return null;
    out.push(y);
  }
  return out;
}

/** PlannedTest[] checked by hand (unknown keys dropped, as zod does), or null if any entry is not one. */
export function plannedTestsOf(values: unknown[]): PlannedTest[] | null {
  const out: PlannedTest[] = new Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as { test_id?: unknown; input_hash?: unknown; call_key?: unknown; grading_key?: unknown } | null;
    if (typeof v !== 'object' || v === null || typeof v.test_id !== 'string' || v.test_id.length === 0 || typeof v.input_hash !== 'string') return null;
    if ((v.call_key !== undefined && typeof v.call_key !== 'string') || (v.grading_key !== undefined && typeof v.grading_key !== 'string')) return null;
    out[i] = {
      test_id: v.test_id,
      input_hash: v.input_hash,
      ...(v.call_key !== undefined && { call_key: v.call_key as string }),
      ...(v.grading_key !== undefined && { grading_key: v.grading_key as string }),
    };
  }
  return out;
}

/** The manifest `v` is, when this check is sure; null means: ask the Manifest schema. */
export function quickManifest(v: unknown): Manifest | null {
  if (!isObj(v) || v.schema_version !== 1 || !isRunId(v.run_id)) return null;
  const suite = v.suite;
  if (!isObj(suite) || !isStr(suite.name) || !isStr(suite.path) || !isStr(v.suite_hash)) return null;
  const target = targetOf(v.target);
  const grader = orNull(v.grader, targetOf);
  const planned = Array.isArray(v.planned_tests) ? plannedTestsOf(v.planned_tests) : null;
  if (!target || grader === undefined || !planned || !isCount(v.planned_test_count)) return null;
  if ((v.source_commit !== null && !isStr(v.source_commit)) || typeof v.source_dirty !== 'boolean' || !isStrings(v.argv)) return null;
  if (!isStr(v.agentv_version) || !isStr(v.host) || !isTime(v.started_at) || (v.finished_at != null && !isTime(v.finished_at))) return null;
  if (!isStr(v.status) || !RUN_STATUSES.has(v.status) || (v.tags !== undefined && !isStrings(v.tags))) return null;
  const counts = orNull(v.counts, countsOf);
  const options = optionsOf(v.options);
  const owner = orNull(v.owner, ownerOf);
  const events = v.events === undefined ? [] : listOf(v.events, eventOf);
  if (counts === undefined || !options || owner === undefined || !events || (v.retry_of != null && !isRunId(v.retry_of))) return null;
  let slice: Manifest['slice'];
  if (v.slice !== undefined) {
    if (!isObj(v.slice) || !isPositive(v.slice.index) || !isPositive(v.slice.count)) return null;
    slice = { index: v.slice.index, count: v.slice.count };
  }
  let slices: Manifest['slices'];
  if (v.slices !== undefined) {
    const arrived = isObj(v.slices) && isPositive(v.slices.count) ? listOf(v.slices.arrived, sliceSummaryOf) : null;
    if (!arrived) return null;
    slices = { count: (v.slices as Obj).count as number, arrived };
  }
  return {
    schema_version: 1,
    run_id: v.run_id,
    suite: { name: suite.name, path: suite.path },
    suite_hash: v.suite_hash,
    target,
    grader,
    planned_tests: planned,
    planned_test_count: v.planned_test_count,
    source_commit: v.source_commit,
    source_dirty: v.source_dirty,
    argv: [...v.argv],
    agentv_version: v.agentv_version,
    host: v.host,
    started_at: v.started_at,
    finished_at: (v.finished_at as string | null | undefined) ?? null,
    status: v.status as Manifest['status'],
    counts,
    tags: v.tags ? [...v.tags] : [],
    options,
    owner,
    events,
    retry_of: (v.retry_of as string | null | undefined) ?? null,
    ...(slice && { slice }),
    ...(slices && { slices }),
  };
}
