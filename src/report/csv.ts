// CSV export of a run: one record per test (RunCsvRecord), written by
// csv-stringify so quoting of commas, quotes and newlines is RFC 4180.
import { lazyRequire } from '../lazy-require.js';
import type { RunDetailResponse } from '../schemas/api.js';
import { RunCsvRecord } from '../schemas/export.js';
import { failReason, rowStatus } from './text.js';

const csvStringify = lazyRequire<typeof import('csv-stringify/sync')>('csv-stringify/sync');

const text = (v: unknown): string => (v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v));

export function runCsv(detail: RunDetailResponse): string {
  const records = detail.results.map((r) =>
    RunCsvRecord.parse({
      test_id: r.test_id,
      status: rowStatus(r),
      score: r.score,
      duration_ms: r.duration_ms,
      attempt: r.attempt,
      reason: failReason(r),
      output: r.output ?? '',
      error: r.error ?? '',
      prompt: r.input ? (r.input.prompt ?? text(r.input.messages)) : '',
      vars: r.input ? text(r.input.vars) : '',
      expected_output: r.input ? text(r.input.expected_output) : '',
      input_ref: r.input_ref ?? '',
      tokens_total: r.token_usage?.total ?? null,
      cost_usd: r.cost_usd,
      started_at: r.started_at,
      finished_at: r.finished_at,
    }),
  );
  return csvStringify().stringify(records, { header: true, columns: Object.keys(RunCsvRecord.shape) });
}
