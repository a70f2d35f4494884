// Studio's HTTP API shapes (SPEC section 4.1), shared by the server and the viewer.
import { z } from 'zod';
import { RunId } from './common.js';
import { RunOutcome } from './events.js';

export const ConfigResponse = z.object({
  read_only: z.boolean(),
  repo: z.string(),
  ref: z.string(),
  remote: z.string().nullable(),
  version: z.string(),
});
export type ConfigResponse = z.infer<typeof ConfigResponse>;

/** GET /api/links: where a source commit can be seen on the web (`{sha}` placeholder), when the remote is a known host. */
export const LinksResponse = z.object({ commit_url: z.string().nullable() });
export type LinksResponse = z.infer<typeof LinksResponse>;

/**
 * A suite the launch form offers. `tag_sets`: each distinct set of tags its tests
 * carry, with how many tests carry exactly that set (untagged tests are left
 * out), so the form can count what any tag selection picks (--tag matches a test
 * with any of the tags); `null` when a suite has more sets than are worth sending.
 */
export const SuiteEntry = z.object({
  path: z.string(),
  name: z.string(),
  test_count: z.number().int().nonnegative(),
  tag_sets: z.array(z.object({ tags: z.array(z.string()), test_count: z.number().int().positive() })).nullable(),
});
export type SuiteEntry = z.infer<typeof SuiteEntry>;

export const SuitesResponse = z.object({
  suites: z.array(SuiteEntry),
  targets: z.array(z.object({ name: z.string(), provider: z.string() })),
  default_target: z.string().nullable(),
  default_grader: z.string().nullable(),
});
export type SuitesResponse = z.infer<typeof SuitesResponse>;

/** POST /api/eval/run. Targets are names from configuration, never definitions. */
export const EvalRunRequest = z
  .strictObject({
    suite: z.string().min(1).max(1024),
    target: z.string().min(1).max(256).optional(),
    test_ids: z.array(z.string().min(1).max(512)).max(10_000).optional(),
    /** Select tests as --tag does. */
    tags: z.array(z.string().min(1).max(128)).max(100).optional(),
    workers: z.number().int().min(1).max(64).optional(),
    resume: z.boolean().optional(),
    rerun_failed: z.boolean().optional(),
    retry_errors: z.boolean().optional(),
    run_id: RunId.optional(),
    /** true: --reuse, false: --no-reuse; absent: .agentv/config.yaml decides (SPEC 3.9). */
    reuse: z.boolean().optional(),
  })
  .refine((b) => [b.resume, b.rerun_failed, b.retry_errors].filter(Boolean).length <= 1, {
    message: 'resume, rerun_failed and retry_errors cannot be combined: choose one',
  })
  .refine((b) => !(b.rerun_failed || b.retry_errors) || b.run_id !== undefined, {
    message: 'rerun_failed and retry_errors need run_id',
  })
  .refine((b) => !(b.rerun_failed && b.reuse === true), {
    message: 'reuse does not go with rerun_failed (it re-executes failed tests to get new outputs)',
  });
export type EvalRunRequest = z.infer<typeof EvalRunRequest>;

export const JobState = z.enum(['starting', 'running', 'stopping', 'finished', 'failed', 'stopped']);
export type JobState = z.infer<typeof JobState>;

export const EvalRunResponse = z.object({
  id: z.string(),
  run_id: z.string().nullable(),
  status: JobState,
  command: z.string(),
});
export type EvalRunResponse = z.infer<typeof EvalRunResponse>;

export const JobProgress = z.object({
  planned: z.number().int().nonnegative(),
  /** What this job executes (a resume: the tests left to run, of `planned`). */
  to_execute: z.number().int().nonnegative(),
  done: z.number().int().nonnegative(),
  passed: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  errored: z.number().int().nonnegative(),
});
export type JobProgress = z.infer<typeof JobProgress>;

export const JobKind = z.enum(['eval', 'resume', 'rerun_failed', 'retry_errors', 'regrade']);
export type JobKind = z.infer<typeof JobKind>;

export const JobStatus = z.object({
  id: z.string(),
  run_id: z.string().nullable(),
  kind: JobKind,
  status: JobState,
  /** The run's outcome once known (null while running or when the run never started). */
  outcome: RunOutcome.nullable(),
  exit_code: z.number().int().nullable(),
  /** The exit code in words ("tests failed", "stopped by SIGTERM"); null while running. */
  exit_reason: z.string().nullable(),
  suite: z.string().nullable(),
  target: z.string().nullable(),
  started_at: z.string(),
  finished_at: z.string().nullable(),
  progress: JobProgress,
  log_tail: z.array(z.string()),
  command: z.string(),
});
export type JobStatus = z.infer<typeof JobStatus>;

export const JobsResponse = z.object({ jobs: z.array(JobStatus) });
export type JobsResponse = z.infer<typeof JobsResponse>;

export const StopResponse = z.union([
  z.object({ stopped: z.literal(true), status: JobState }),
  z.object({ stopped: z.literal(false), reason: z.literal('already_terminal') }),
]);
export type StopResponse = z.infer<typeof StopResponse>;

export const SyncResponse = z.object({
  remote: z.string().nullable(),
  fetched_runs: z.number().int().nonnegative(),
  message: z.string(),
});
export type SyncResponse = z.infer<typeof SyncResponse>;

export const ErrorResponse = z.object({
  error: z.object({ code: z.string(), message: z.string() }),
});
export type ErrorResponse = z.infer<typeof ErrorResponse>;

export const JobParams = z.object({ id: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/) });
export const RunParams = z.object({ run_id: RunId });
export const RunDetailQuery = z.object({ history: z.enum(['true', 'false', '1', '0']).optional(), results: z.enum(['true', 'false', '1', '0']).optional() });
