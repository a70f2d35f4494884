// A run's results digest (runs/<ab>/<cd>/<run_id>/digest.json): the current row
// of each test, where it lives and what a page needs to filter and sort it, so a
// run's document and its first results page do not read every row. Written by
// the write path each time the manifest is (start, resume, finish, regrade,
// recovery), from the rows it reads anyway; a projection of the rows, used only
// while it covers the run's row chunks (`chunks`, `last_chunk`).
import { z } from 'zod';
import { RunCounts } from './manifest.js';

/** `o` ok, `q` quality_failure, `e` execution_error. */
export const DigestStatus = z.enum(['o', 'q', 'e']);

/** [test_id, row chunk seq, row index in the chunk, status, passed (0/1), score, duration_ms, planned (0/1)]. */
export const DigestEntry = z.tuple([
  z.string().min(1),
  z.number().int().positive(),
  z.number().int().nonnegative(),
  DigestStatus,
  z.union([z.literal(0), z.literal(1)]),
  z.number(),
  z.number().nonnegative(),
  z.union([z.literal(0), z.literal(1)]),
]);
export type DigestEntry = z.infer<typeof DigestEntry>;

export const RunDigest = z.object({
  /** 2 since the run document's facts are carried; readers use no other version (they read the rows). */
  schema_version: z.literal(2),
  /** How many row chunks the digest covers, and the newest one's number. */
  chunks: z.number().int().nonnegative(),
  last_chunk: z.number().int().nonnegative(),
  /** Current rows in display order: planned order, then tests outside the plan by id. */
  tests: z.array(DigestEntry),
  /** Per-metric aggregates over the current rows of the planned tests (as the run document's `metrics`). */
  metrics: z.array(z.object({ metric: z.string(), passed: z.number().int(), total: z.number().int(), avg_score: z.number() })),
  /** What the run document says of the planned tests' current rows: counts, tests with no row, how many errored, how many are missing or not ok. */
  counts: RunCounts,
  missing: z.array(z.string()),
  errored: z.number().int().nonnegative(),
  not_ok: z.number().int().nonnegative(),
});
export type RunDigest = z.infer<typeof RunDigest>;

/**
 * RunDigest with its entries left unchecked, for readers: zod checks 10,000
 * tuples in hundreds of milliseconds, so each entry is checked by isDigestEntry.
 */
export const RunDigestHead = RunDigest.extend({ tests: z.array(z.unknown()) });

const STATUS_CODES = new Set(['o', 'q', 'e']);
const bit = (v: unknown) => v === 0 || v === 1;
const int = (v: unknown, min: number) => Number.isInteger(v) && (v as number) >= min;

/** The same check as DigestEntry, by hand. */
export function isDigestEntry(v: unknown): v is DigestEntry {
  if (!Array.isArray(v) || v.length !== 8) return false;
  const [id, chunk, line, s, passed, score, duration, planned] = v as unknown[];
  return (
    typeof id === 'string' && id.length > 0 && int(chunk, 1) && int(line, 0) && STATUS_CODES.has(s as string) && bit(passed) &&
    typeof score === 'number' && Number.isFinite(score) && typeof duration === 'number' && duration >= 0 && bit(planned)
  );
}
