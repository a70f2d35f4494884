// The comparison of two runs (SPEC 3.8): `agentv runs diff --json`, the
// `baseline` of `agentv eval --baseline --json`, and GET /api/compare (paged).
import { z } from 'zod';
import { EvalSummary } from './api.js';
import { RunId } from './common.js';
import { RowWithInput } from './input.js';
import { RunSummary } from './summary.js';

/** Each test gets exactly one change: the first of these that applies, in this order. */
export const Change = z.enum(['added', 'removed', 'new_error', 'regressed', 'fixed', 'still_failing', 'unchanged']);
export type Change = z.infer<typeof Change>;

export const CompareTest = z.object({
  test_id: z.string(),
  change: Change,
  /** The two rows' call keys differ (else input_ref, else input_hash, for rows written before call keys). */
  changed_input: z.boolean(),
  /** head.score − base.score; null unless the test is in both runs. */
  score_delta: z.number().nullable(),
  base: RowWithInput.nullable(),
  head: RowWithInput.nullable(),
});
export type CompareTest = z.infer<typeof CompareTest>;

export const CompareSummary = z.object({
  added: z.number().int().nonnegative(),
  removed: z.number().int().nonnegative(),
  new_error: z.number().int().nonnegative(),
  regressed: z.number().int().nonnegative(),
  fixed: z.number().int().nonnegative(),
  still_failing: z.number().int().nonnegative(),
  unchanged: z.number().int().nonnegative(),
  changed_input: z.number().int().nonnegative(),
  /** Tests in both runs: the pairs the delta and its interval are computed over. */
  paired: z.number().int().nonnegative(),
  /** Pass rate of head minus pass rate of base, over the paired tests; null with no pairs. */
  pass_rate_delta: z.number().nullable(),
  /** 95 % Agresti–Min interval for that paired difference (docs/compare.md); null with no pairs. */
  pass_rate_delta_ci: z.tuple([z.number(), z.number()]).nullable(),
});
export type CompareSummary = z.infer<typeof CompareSummary>;

export const CompareDocument = z.object({
  base: RunSummary,
  head: RunSummary,
  summary: CompareSummary,
  /** Regressions first, then new errors, fixes, still failing, added, removed, unchanged; by test_id within each. */
  tests: z.array(CompareTest),
  /** Things to know about this comparison (runs of different suites, incomplete runs). */
  warnings: z.array(z.string()),
});
export type CompareDocument = z.infer<typeof CompareDocument>;

export const CompareQuery = z.object({
  base: RunId,
  head: RunId,
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(64).optional(),
  change: z
    .string()
    .max(200)
    .optional()
    .transform((s, ctx) => {
      if (!s) return undefined;
      const parts = s.split(',').filter(Boolean);
      for (const p of parts) {
        if (!Change.safeParse(p).success) {
          ctx.addIssue({ code: 'custom', message: `unknown change ${JSON.stringify(p)}: one of ${Change.options.join(', ')}` });
          return z.NEVER;
        }
      }
      return parts as Change[];
    }),
});
export type CompareQuery = z.infer<typeof CompareQuery>;

/** GET /api/compare: the document with `tests` paged and filtered; `summary` is always whole. */
export const ComparePage = CompareDocument.extend({
  next_cursor: z.string().nullable(),
  /** Tests matching the change filter (all pages). */
  total: z.number().int().nonnegative(),
});
export type ComparePage = z.infer<typeof ComparePage>;

/** `agentv eval --baseline --json`: `baseline` on each run's summary (null when no baseline run was found). */
export const EvalBaseline = z.object({
  base: RunSummary,
  /** First-parent steps from REV to the base run's source commit (0 = REV itself). */
  distance: z.number().int().nonnegative(),
  summary: CompareSummary,
  /** Tests that fail the gate: regressed or new_error. */
  regressions: z.array(z.object({ test_id: z.string(), change: Change })),
  warnings: z.array(z.string()),
});
export type EvalBaseline = z.infer<typeof EvalBaseline>;

/** One run's `agentv eval --json` summary; with --baseline it carries `baseline` (null when none was found). */
export const EvalRunJson = EvalSummary.extend({ baseline: EvalBaseline.nullable().optional() });
export type EvalRunJson = z.infer<typeof EvalRunJson>;

/** GET /api/baseline: the run `eval --baseline REV` would compare against (Studio's "run of the base commit"). */
export const BaselineQuery = z.object({
  suite: z.string().min(1).max(256),
  target: z.string().min(1).max(256),
  /** A revision of the source repository: a commit, a branch, `<sha>~1`. */
  rev: z.string().min(1).max(256).regex(/^[^-\s]/, 'a revision cannot start with a dash or space'),
});
export const BaselineResponse = z.object({
  run: RunSummary.nullable(),
  /** First-parent steps from REV to the run's source commit (0 = REV itself); null with no run. */
  distance: z.number().int().nonnegative().nullable(),
  /** REV resolved. */
  commit: z.string(),
});
export type BaselineResponse = z.infer<typeof BaselineResponse>;
