// The typed event stream of one run (`agentv eval --events FILE|-`): one
// RunEvent per NDJSON line. Studio follows its jobs through this stream and
// never through human output; the CLI progress line, Studio's job progress and
// the manifest's counts all count with the same function (src/store/tally.ts).
import { z } from 'zod';
import { ExecutionStatus, RunId, Timestamp } from './common.js';
import { RunCounts } from './manifest.js';

export const EvalMode = z.enum(['new', 'resume', 'rerun_failed', 'retry_errors', 'regrade']);
export type EvalMode = z.infer<typeof EvalMode>;

/** `passed` (completed, every test passed), `failed` (completed with a failure or error), `incomplete`; null while running. */
export const RunOutcome = z.enum(['passed', 'failed', 'incomplete']);
export type RunOutcome = z.infer<typeof RunOutcome>;

/** The run's counts when an event is recorded: what the manifest says. */
export const EventCounts = RunCounts.extend({ planned_test_count: z.number().int().nonnegative() });
export type EventCounts = z.infer<typeof EventCounts>;

const base = { run_id: RunId, at: Timestamp };

export const RunEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('started'), ...base, mode: EvalMode, suite: z.string(), target: z.string() }),
  /** What this invocation will execute: `to_execute` of `planned` (the rest already has rows). */
  z.object({ type: z.literal('planned'), ...base, planned: z.number().int().nonnegative(), to_execute: z.number().int().nonnegative() }),
  z.object({
    type: z.literal('test_finished'),
    ...base,
    test_id: z.string(),
    status: ExecutionStatus,
    passed: z.boolean(),
    score: z.number(),
    duration_ms: z.number().nonnegative(),
    /** The first failing assertion's reason, or the error; cut to 200 characters. */
    reason: z.string().nullable(),
  }),
  /** `now`: the second signal (end target processes at once). */
  z.object({ type: z.literal('stopping'), ...base, now: z.boolean(), grace_ms: z.number().int().nonnegative() }),
  z.object({
    type: z.literal('resumed'),
    ...base,
    mode: z.enum(['resume', 'rerun_failed', 'accept_changed']),
    planned: z.number().int().nonnegative(),
    suite: z.string(),
    target: z.string(),
  }),
  /** Stored outputs graded again without a target call (`agentv regrade`, or a resume after a grading-only change). */
  z.object({ type: z.literal('regraded'), ...base, regraded: z.number().int().nonnegative(), counts: EventCounts, outcome: RunOutcome }),
  z.object({ type: z.literal('stopped'), ...base, executed: z.number().int().nonnegative(), counts: EventCounts, outcome: RunOutcome }),
  z.object({ type: z.literal('completed'), ...base, executed: z.number().int().nonnegative(), counts: EventCounts, outcome: RunOutcome }),
  z.object({ type: z.literal('failed'), ...base, error: z.string() }),
]);
export type RunEvent = z.infer<typeof RunEvent>;
export type RunEventType = RunEvent['type'];
