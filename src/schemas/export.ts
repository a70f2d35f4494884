// Export shapes: `agentv runs show --format`, GET /api/runs/:run_id/export, and
// the JUnit model both exports and `runs diff --format junit` serialize.
import { z } from 'zod';

export const ExportFormat = z.enum(['json', 'csv', 'junit', 'markdown']);
export type ExportFormat = z.infer<typeof ExportFormat>;

export const ExportQuery = z.object({ format: ExportFormat.default('json') });

/** One CSV record per test (the header is these keys, in this order). */
export const RunCsvRecord = z.object({
  test_id: z.string(),
  status: z.enum(['passed', 'failed', 'error']),
  score: z.number(),
  duration_ms: z.number(),
  attempt: z.number().int(),
  reason: z.string(),
  output: z.string(),
  error: z.string(),
  prompt: z.string(),
  vars: z.string(),
  expected_output: z.string(),
  input_ref: z.string(),
  tokens_total: z.number().nullable(),
  cost_usd: z.number().nullable(),
  started_at: z.string(),
  finished_at: z.string(),
});
export type RunCsvRecord = z.infer<typeof RunCsvRecord>;

/** The JUnit XML model (what CI test reports read): <testsuites><testsuite><testcase>. */
export const JunitCase = z.object({
  name: z.string(),
  classname: z.string(),
  time_s: z.number().nonnegative(),
  /** failure = a test that did not pass (a regression in a diff); error = an execution error. */
  result: z.enum(['passed', 'failure', 'error', 'skipped']),
  message: z.string().nullable(),
  detail: z.string().nullable(),
});
export const JunitSuite = z.object({
  name: z.string(),
  timestamp: z.string().nullable(),
  cases: z.array(JunitCase),
});
export type JunitSuite = z.infer<typeof JunitSuite>;
export type JunitCase = z.infer<typeof JunitCase>;
