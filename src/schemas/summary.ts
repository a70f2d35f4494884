// One line of the committed run index (index/*.jsonl): what list views show.
import { z } from 'zod';
import { RunId, RunStatus, Timestamp } from './common.js';
import { RunOutcome } from './events.js';

export const RunSummary = z.object({
  run_id: RunId,
  suite: z.string(),
  target: z.string(),
  status: RunStatus,
  started_at: Timestamp,
  finished_at: Timestamp.nullable(),
  planned_test_count: z.number().int().nonnegative(),
  passed: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  errored: z.number().int().nonnegative(),
  pass_rate: z.number().nullable(),
  avg_score: z.number().nullable(),
  source_commit: z.string().nullable(),
  tags: z.array(z.string()),
  /** The machine that ran it: lets a reader tell a dead local owner from a remote one. */
  host: z.string().optional(),
  /**
   * Milliseconds the run spent running, from its lifecycle events: time it sat
   * stopped between a stop and a resume is not counted. For a running run, the
   * spans before the current one (see running_since). Absent in index rows
   * written before it existed (readers then use finished_at - started_at).
   */
  active_ms: z.number().nonnegative().nullable().optional(),
  /** When the current running span began (the start or the last resume); null unless running. */
  running_since: Timestamp.nullable().optional(),
  /** Derived on read from status and counts (not stored in the index): see RunOutcome. */
  outcome: RunOutcome.nullable().optional(),
});
export type RunSummary = z.infer<typeof RunSummary>;
