// One row per (test, attempt). The latest row of a test_id is that test's result.
import { z } from 'zod';
import { ExecutionStatus, RunId, Timestamp } from './common.js';

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
});
export type Row = z.infer<typeof Row>;
