// Hand-written readers for what `runs list` reads, beside the schemas (the
// authority): an index row (RunSummary) and the list query (RunsListQuery).
// They let a listing run without loading zod at all (loading it and building
// the schemas costs more than the rest of the command). Each accepts only what
// its schema accepts and returns what the schema's parse returns (same keys,
// same order, unknown keys dropped); anything else returns null and the caller
// asks the schema. test/store/summary-check.test.ts proves the agreement.
import { isRunId } from '../schemas/ids.js';
import type { RunsListQuery } from '../schemas/api.js';
import type { RunSummary } from '../schemas/summary.js';

const STATUSES = new Set(['running', 'completed', 'stopped', 'interrupted', 'failed']);
const OUTCOMES = new Set(['passed', 'failed', 'incomplete']);

const isStr = (v: unknown): v is string => typeof v === 'string';
const isTime = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** The index row `v` is, when it has the common shape; null means: ask the RunSummary schema. */
export function quickSummary(v: unknown): RunSummary | null {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return null;
  const r = v as Record<string, unknown>;
  if (!isRunId(r.run_id) || !isStr(r.suite) || !isStr(r.target) || !isStr(r.status) || !STATUSES.has(r.status)) return null;
  if (!isTime(r.started_at) || (r.finished_at !== null && !isTime(r.finished_at))) return null;
  if (!isCount(r.planned_test_count) || !isCount(r.passed) || !isCount(r.failed) || !isCount(r.errored)) return null;
  if ((r.pass_rate !== null && !isNum(r.pass_rate)) || (r.avg_score !== null && !isNum(r.avg_score))) return null;
  if (r.source_commit !== null && !isStr(r.source_commit)) return null;
  if (!Array.isArray(r.tags) || !r.tags.every(isStr)) return null;
  if (r.host !== undefined && !isStr(r.host)) return null;
  if (r.active_ms !== undefined && r.active_ms !== null && !(isNum(r.active_ms) && r.active_ms >= 0)) return null;
  if (r.running_since !== undefined && r.running_since !== null && !isTime(r.running_since)) return null;
  if (r.outcome !== undefined && r.outcome !== null && !(isStr(r.outcome) && OUTCOMES.has(r.outcome))) return null;
  return {
    run_id: r.run_id,
    suite: r.suite,
    target: r.target,
    status: r.status as RunSummary['status'],
    started_at: r.started_at,
    finished_at: r.finished_at as string | null,
    planned_test_count: r.planned_test_count,
    passed: r.passed,
    failed: r.failed,
    errored: r.errored,
    pass_rate: r.pass_rate as number | null,
    avg_score: r.avg_score as number | null,
    source_commit: r.source_commit as string | null,
    tags: [...r.tags],
    ...(r.host !== undefined && { host: r.host }),
    ...(r.active_ms !== undefined && { active_ms: r.active_ms as number | null }),
    ...(r.running_since !== undefined && { running_since: r.running_since as string | null }),
    ...(r.outcome !== undefined && { outcome: r.outcome as RunSummary['outcome'] }),
  };
}

const shortText = (v: unknown, max: number): boolean => v === undefined || (isStr(v) && v.length <= max);

/** The list query `q` (raw strings from argv or a querystring) when valid; null means: ask RunsListQuery (it explains what is wrong). */
export function quickListQuery(q: Record<string, unknown>): RunsListQuery | null {
  // z.coerce.number(): Number() of the value, for the types argv and querystrings carry.
  const limit = q.limit === undefined ? 50 : isStr(q.limit) || typeof q.limit === 'number' ? Number(q.limit) : NaN;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 500) return null;
  if (!shortText(q.cursor, 512) || !shortText(q.suite, 256) || !shortText(q.target, 256) || !shortText(q.commit, 256)) return null;
  if (q.status !== undefined && !(isStr(q.status) && STATUSES.has(q.status))) return null;
  if (q.sort !== undefined && q.sort !== 'started_at' && q.sort !== '-started_at') return null;
  return {
    limit,
    ...(q.cursor !== undefined && { cursor: q.cursor as string }),
    ...(q.suite !== undefined && { suite: q.suite as string }),
    ...(q.target !== undefined && { target: q.target as string }),
    ...(q.status !== undefined && { status: q.status as RunsListQuery['status'] }),
    ...(q.commit !== undefined && { commit: q.commit as string }),
    ...(q.sort !== undefined && { sort: q.sort }),
  };
}
