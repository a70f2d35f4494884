// One row per (test, attempt, grade_seq). The row with the highest (attempt,
// grade_seq) of a test_id is that test's result. Fields added after the first
// format are optional so that rows written by earlier versions still parse.
import { z } from 'zod';
import { ExecutionStatus, RunId, Timestamp } from './common.js';

export const ErrorPhase = z.enum(['target', 'grading']);
export type ErrorPhase = z.infer<typeof ErrorPhase>;

export const AssertionResult = z.object({
  type: z.string(),
  passed: z.boolean(),
  score: z.number(),
  reason: z.string().nullable().default(null),
  weight: z.number().optional(),
  metric: z.string().optional(),
  required: z.boolean().optional(),
});
export type AssertionResult = z.infer<typeof AssertionResult>;

export const TokenUsage = z.object({
  prompt: z.number().int().nonnegative().default(0),
  completion: z.number().int().nonnegative().default(0),
  total: z.number().int().nonnegative().default(0),
});
export type TokenUsage = z.infer<typeof TokenUsage>;

/** What the target reported doing, kept so a stored output can be re-graded as it was first judged. */
export const RowTrace = z.object({
  tool_calls: z.array(z.object({ tool: z.string(), args: z.unknown().optional(), duration_ms: z.number().optional() })).default([]),
  llm_calls: z.number().int().nonnegative().optional(),
  duration_ms: z.number().nonnegative().optional(),
});
export type RowTrace = z.infer<typeof RowTrace>;

export const Row = z.object({
  test_id: z.string().min(1),
  input_hash: z.string(),
  execution_status: ExecutionStatus,
  passed: z.boolean(),
  score: z.number(),
  assertions: z.array(AssertionResult).default([]),
  output: z.string().nullable().default(null),
  error: z.string().nullable().default(null),
  duration_ms: z.number().nonnegative(),
  started_at: Timestamp,
  finished_at: Timestamp,
  attempt: z.number().int().positive(),
  token_usage: TokenUsage.nullable().default(null),
  cost_usd: z.number().nullable().default(null),
  carried_from: RunId.optional(),
  /** Where an execution_error happened: the target call, or grading (its output is kept). */
  error_phase: ErrorPhase.nullable().optional(),
  /** 0 for the row an execution wrote; each re-grade of that output appends one higher. */
  grade_seq: z.number().int().nonnegative().optional(),
  /** The content address of the stored input (prompt or messages, vars, expected output). */
  input_ref: z.string().nullable().optional(),
  /** What the target saw (call key) and how it was graded (grading key); input_hash combines them. */
  call_key: z.string().optional(),
  grading_key: z.string().optional(),
  /** How long the target call took (duration_ms also counts grading); `latency` is judged on it. */
  target_ms: z.number().nonnegative().optional(),
  /** The target's reported tool calls and LLM calls, when it reported any. */
  trace: RowTrace.optional(),
});
export type Row = z.infer<typeof Row>;
