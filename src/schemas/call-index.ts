// An entry of the call index on the ref (a line of a bucket under index/calls/,
// docs/formats.md): where the newest reusable row of one call key lives. It points at the row
// (run, row chunk relative to the run's directory, 1-based line) instead of
// copying it, so the index costs a few dozen bytes per call however long the
// output is.
import { z } from 'zod';
import { RunId, Timestamp } from './common.js';

export const CallIndexEntry = z.object({
  run_id: RunId,
  test_id: z.string().min(1),
  /** The row chunk, relative to the run's directory: rows/000003.jsonl. */
  file: z.string().regex(/^[A-Za-z0-9._/-]+$/),
  /** 1-based line of the row in that chunk. */
  line: z.number().int().positive(),
  /** The row's finished_at: the newest entry of a call key wins (then run_id, file, line). */
  finished_at: Timestamp,
});
export type CallIndexEntry = z.infer<typeof CallIndexEntry>;

/** One line of a call index bucket: the entry with the call key it belongs to. */
export const CallIndexLine = CallIndexEntry.extend({ call_key: z.string().regex(/^[0-9a-f]{16,128}$/) });
export type CallIndexLine = z.infer<typeof CallIndexLine>;
