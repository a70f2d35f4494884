// Studio's paged views (rows carry `input`, SPEC 3.1) of one run and of a suite's history (SPEC 4.1):
// GET /api/runs/:run_id/results, GET /api/runs/:run_id/results/:test_id, GET /api/trends.
import { z } from 'zod';
import { RunId, Timestamp } from './common.js';
import { RowWithInput } from './input.js';

export const ResultsStatusFilter = z.enum(['passed', 'failed', 'errored', 'not_ok']);
export const ResultsSort = z.enum(['test_id', 'score', '-score', 'duration', '-duration']);
export type ResultsSort = z.infer<typeof ResultsSort>;

export const ResultsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().max(1024).optional(),
  status: ResultsStatusFilter.optional(),
  q: z.string().max(512).optional(),
  sort: ResultsSort.optional(),
});
export type ResultsQuery = z.infer<typeof ResultsQuery>;

/** A row as a page shows it: a long output is cut to a preview (`output_truncated`); the test's own route has it whole. */
export const ResultPreview = RowWithInput.extend({ output_truncated: z.boolean() });
export type ResultPreview = z.infer<typeof ResultPreview>;

export const ResultsPage = z.object({
  results: z.array(ResultPreview),
  next_cursor: z.string().nullable(),
  /** Rows matching the filters (the whole run when unfiltered). */
  total: z.number().int().nonnegative(),
});
export type ResultsPage = z.infer<typeof ResultsPage>;

export const TestDetail = z.object({
  run_id: RunId,
  test_id: z.string(),
  /** The current row, whole (null: planned, not run yet). */
  result: RowWithInput.nullable(),
  /** Earlier rows of the test, newest first. */
  history: z.array(RowWithInput),
});
export type TestDetail = z.infer<typeof TestDetail>;

export const TestParams = z.object({ run_id: RunId, test_id: z.string().min(1).max(512) });

export const TrendsQuery = z.object({
  suite: z.string().max(256).optional(),
  target: z.string().max(256).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

export const TrendPoint = z.object({
  run_id: RunId,
  started_at: Timestamp,
  pass_rate: z.number().nullable(),
  avg_score: z.number().nullable(),
  passed: z.number().int().nonnegative(),
  completed_count: z.number().int().nonnegative(),
});

export const TrendsResponse = z.object({
  suite: z.string().nullable(),
  target: z.string().nullable(),
  /** Oldest first. */
  points: z.array(TrendPoint),
});
export type TrendsResponse = z.infer<typeof TrendsResponse>;
