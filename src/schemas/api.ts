// Documents that leave the process: `--json` output and Studio's HTTP API.
// A CLI command and the matching route print the same document.
import { z } from 'zod';
import { RunId, RunStatus } from './common.js';
import { Manifest, RunEvent } from './manifest.js';
import { RowWithInput } from './input.js';
import { RunSummary } from './summary.js';
import { RunOutcome } from './events.js';

export const RunsListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(512).optional(),
  suite: z.string().max(256).optional(),
  target: z.string().max(256).optional(),
  status: RunStatus.optional(),
  commit: z.string().max(256).optional(),
  /** `-started_at` newest first (the default), `started_at` oldest first. */
  sort: z.enum(['-started_at', 'started_at']).optional(),
});
export type RunsListQuery = z.infer<typeof RunsListQuery>;

export const RunsListResponse = z.object({
  runs: z.array(RunSummary),
  next_cursor: z.string().nullable(),
  /** Runs matching the filters, when the index can tell without a scan (no filter); otherwise null. */
  total: z.number().int().nonnegative().nullable().optional(),
});
export type RunsListResponse = z.infer<typeof RunsListResponse>;

export const ResumeReason = z.enum(['execution_errors', 'incomplete', 'interrupted', 'stopped']);
export type ResumeReason = z.infer<typeof ResumeReason>;

export const RunDetailResponse = z.object({
  run: Manifest.extend({ status: RunStatus, outcome: RunOutcome.nullable().optional() }),
  /**
   * One current row per test, each with `input` (SPEC 3.1: what the target was asked, or null for rows
   * from before inputs were stored); empty with `results=false` (pages that page them: GET /api/runs/:run_id/results).
   */
  results: z.array(RowWithInput),
  history: z.array(RowWithInput).optional(),
  planned_test_count: z.number().int().nonnegative(),
  is_resumable: z.boolean(),
  resume_reason: ResumeReason.nullable(),
  /** Some planned test's current row is not ok (missing, quality failure, error): "Rerun failed cases" applies. */
  has_not_ok: z.boolean(),
  missing_test_ids: z.array(z.string()),
  /** Per named metric (`metric:` on assertions), over the current rows of planned tests. */
  metrics: z.array(z.object({ metric: z.string(), passed: z.number().int(), total: z.number().int(), avg_score: z.number() })),
  events: z.array(RunEvent),
});
export type RunDetailResponse = z.infer<typeof RunDetailResponse>;

export const EvalSummary = z.object({
  run_id: RunId,
  status: RunStatus,
  outcome: RunOutcome.nullable(),
  planned_test_count: z.number().int().nonnegative(),
  completed_count: z.number().int().nonnegative(),
  passed: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  errored: z.number().int().nonnegative(),
  pass_rate: z.number().nullable(),
  resume_command: z.string().nullable(),
  /** With --reuse (or eval.reuse in .agentv/config.yaml): tests graded from an earlier output, no target call. */
  reused_count: z.number().int().nonnegative().optional(),
});
export type EvalSummary = z.infer<typeof EvalSummary>;

export const ReindexReport = z.object({
  runs: z.number().int().nonnegative(),
  drift: z.array(z.object({ run_id: z.string(), kind: z.enum(['missing', 'extra', 'different']) })),
  rewritten: z.boolean(),
  /** The call index (index/calls/, SPEC 3.9) against a rebuild from every run's rows. */
  call_index: z
    .object({
      entries: z.number().int().nonnegative(),
      drift: z.array(z.object({ call_key: z.string(), kind: z.enum(['missing', 'extra', 'different', 'layout']) })),
    })
    .optional(),
});
export type ReindexReport = z.infer<typeof ReindexReport>;
