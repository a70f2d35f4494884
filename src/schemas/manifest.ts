// The run manifest: committed before the first test executes, rewritten on
// every status change. `planned_tests` is the contract that resume diffs against.
import { z } from 'zod';
import { RunId, RunStatus, Timestamp } from './common.js';
import { defaultRunOptions, plannedTestsOf, quickManifest } from './manifest-check.js';

export { plannedTestsOf };

export const PlannedTest = z.object({
  test_id: z.string().min(1),
  input_hash: z.string(),
  /** Absent in runs written before the split (SPEC 3.9): input_hash alone is compared then. */
  call_key: z.string().optional(),
  grading_key: z.string().optional(),
});
export type PlannedTest = z.infer<typeof PlannedTest>;

export const TargetRef = z.object({
  name: z.string(),
  provider: z.string(),
  config_hash: z.string(),
});
export type TargetRef = z.infer<typeof TargetRef>;

/** Who owns a running run: enough to tell "alive" from "dead" without guessing. */
export const Owner = z.object({
  host: z.string(),
  pid: z.number().int(),
  boot_id: z.string().nullable().default(null),
  proc_start: z.string().nullable().default(null),
});
export type Owner = z.infer<typeof Owner>;

export const RunEvent = z.object({
  type: z.enum(['started', 'resumed', 'stopped', 'interrupted', 'completed', 'failed', 'recovered', 'regraded']),
  at: Timestamp,
  mode: z.enum(['resume', 'rerun_failed', 'retry_errors', 'accept_changed']).optional(),
  planned: z.number().int().optional(),
  executed: z.number().int().optional(),
  detail: z.string().optional(),
});
export type RunEvent = z.infer<typeof RunEvent>;

export const RunCounts = z.object({
  completed_count: z.number().int().nonnegative(),
  passed: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  errored: z.number().int().nonnegative(),
  pass_rate: z.number().nullable(),
  avg_score: z.number().nullable(),
});
export type RunCounts = z.infer<typeof RunCounts>;

/** Options recorded so that `agentv resume <id>` can repeat the command. */
export const RunOptions = z.object({
  suite_paths: z.array(z.string()).default([]),
  target: z.string().nullable().default(null),
  grader: z.string().nullable().default(null),
  workers: z.number().int().positive().nullable().default(null),
  test_ids: z.array(z.string()).default([]),
  tags: z.array(z.string()).default([]),
  /** The run graded earlier outputs of the same call instead of calling the target (`--reuse`, SPEC 3.9); absent in runs written before it was recorded. */
  reuse: z.boolean().optional(),
});
export type RunOptions = z.infer<typeof RunOptions>;

/** One slice of a sharded run (`--shard I/N`): 1 ≤ index ≤ count. */
export const SliceRef = z.object({ index: z.number().int().positive(), count: z.number().int().positive() });
export type SliceRef = z.infer<typeof SliceRef>;

/** What the whole-run manifest of a sharded run says about each slice that has arrived. */
export const SliceSummary = z.object({
  index: z.number().int().positive(),
  status: RunStatus,
  host: z.string(),
  started_at: Timestamp,
  finished_at: Timestamp.nullable(),
  planned_test_count: z.number().int().nonnegative(),
  completed_count: z.number().int().nonnegative(),
});
export type SliceSummary = z.infer<typeof SliceSummary>;

/** The slices of a sharded run: how many there are, and the ones present on this ref. */
export const SlicesInfo = z.object({ count: z.number().int().positive(), arrived: z.array(SliceSummary) });
export type SlicesInfo = z.infer<typeof SlicesInfo>;

export const Manifest = z.object({
  schema_version: z.literal(1),
  run_id: RunId,
  suite: z.object({ name: z.string(), path: z.string() }),
  suite_hash: z.string(),
  target: TargetRef,
  grader: TargetRef.nullable().default(null),
  planned_tests: z.array(PlannedTest),
  planned_test_count: z.number().int().nonnegative(),
  source_commit: z.string().nullable(),
  source_dirty: z.boolean(),
  argv: z.array(z.string()),
  agentv_version: z.string(),
  host: z.string(),
  started_at: Timestamp,
  finished_at: Timestamp.nullable().default(null),
  status: RunStatus,
  counts: RunCounts.nullable().default(null),
  tags: z.array(z.string()).default([]),
  options: RunOptions.default(defaultRunOptions),
  owner: Owner.nullable().default(null),
  events: z.array(RunEvent).default([]),
  retry_of: RunId.nullable().default(null),
  /** On a slice's own manifest part (runs/.../<run>/shards/<I>-of-<N>/manifest.json). */
  slice: SliceRef.optional(),
  /** On the whole-run manifest of a sharded run, derived from its parts. */
  slices: SlicesInfo.optional(),
});
export type Manifest = z.infer<typeof Manifest>;

/**
 * Manifest.parse, by the readers' hand check (quickManifest) when it is sure: the
 * same value (keys in the same order) at a fraction of the cost (zod checks a
 * 10,000-test plan in tens of milliseconds). What it declines goes to the schema,
 * which reports what is wrong.
 */
export function parseManifestValue(value: unknown): Manifest {
  return quickManifest(value) ?? Manifest.parse(value);
}
