// Paged reads of one run's current rows (filter, search, sort, keyset cursor)
// and a suite's trend from the index. A page never carries every row of a big
// run, and long outputs travel as previews; the whole row has its own read.
import { AgentvError } from '../errors.js';
import type { RowWithInput, StoredInput } from '../schemas/input.js';
import type { Row } from '../schemas/row.js';
import type { ResultPreview, ResultsQuery, TrendsResponse } from '../schemas/run-results.js';
import type { RunSummary } from '../schemas/summary.js';
import { IndexView, readPage } from './run-index.js';
import { classifyRow } from './tally.js';

export const PREVIEW_CHARS = 400;

/** What a results page needs of a run, computed once per (tip, run) by the caller. */
export interface RunRowsView {
  runId: string;
  /** Current rows in planned order (tests outside the plan last, by id). */
  current: Row[];
  /** Every row (history included). */
  all: Row[];
  /** Stored inputs by `input_ref`, loaded once when a search needs them (reading 10,000 inputs per page would not do). */
  inputs?: Map<string, StoredInput | null>;
}

/** A page of rows before their inputs are attached (the caller reads inputs for just these rows). */
export interface RowsPage {
  rows: Row[];
  next_cursor: string | null;
  total: number;
}

type Key = [number | string, string];

/** What paging filters and sorts on: a row, or a digest entry that stands for one. */
export type Pageable = Pick<Row, 'test_id' | 'execution_status' | 'passed' | 'score' | 'duration_ms'>;

function keyOf(r: Pageable, i: number, sort: ResultsQuery['sort']): Key {
  switch (sort) {
    case 'test_id':
      return [r.test_id, r.test_id];
    case 'score':
      return [r.score, r.test_id];
    case '-score':
      return [-r.score, r.test_id];
    case 'duration':
      return [r.duration_ms, r.test_id];
    case '-duration':
      return [-r.duration_ms, r.test_id];
    default:
      return [i, r.test_id];
  }
}

const cmp = (a: Key, b: Key) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);

function encodeCursor(k: Key): string {
  return Buffer.from(JSON.stringify(k)).toString('base64url');
}

/** The cursor after the item at `index` of the display order (no sort), as pageOf makes it. */
export function positionCursor(index: number, testId: string): string {
  return encodeCursor([index, testId]);
}

function decodeCursor(text: string): Key {
  try {
    const k = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(k) && k.length === 2 && (typeof k[0] === 'number' || typeof k[0] === 'string') && typeof k[1] === 'string') return k as Key;
  } catch {
    // fall through
  }
  throw new AgentvError('USAGE', 'invalid cursor: pass the next_cursor of a previous page');
}

function matchesStatus(r: Pageable, status: ResultsQuery['status']): boolean {
  if (!status) return true;
  const c = classifyRow(r);
  return status === 'not_ok' ? r.execution_status !== 'ok' : c === status;
}

/** Search over id, input, output, error and assertion reasons (case-insensitive). */
function matchesQuery(r: Row, q: string, inputs: RunRowsView['inputs']): boolean {
  if (r.test_id.toLowerCase().includes(q)) return true;
  if (r.output?.toLowerCase().includes(q) || r.error?.toLowerCase().includes(q)) return true;
  if (r.assertions.some((a) => a.reason?.toLowerCase().includes(q))) return true;
  const input = r.input_ref ? inputs?.get(r.input_ref) : null;
  return input != null && JSON.stringify(input).toLowerCase().includes(q);
}

export function preview(r: RowWithInput): ResultPreview {
  const long = r.output !== null && r.output.length > PREVIEW_CHARS;
  return Object.assign({}, r, { output: long ? r.output!.slice(0, PREVIEW_CHARS) : r.output, output_truncated: long });
}

/**
 * One page of `items` (current rows in display order, or digest entries standing
 * for them), filtered by status and `match`, in the query's sort. The cursor is
 * a key, so rows arriving while a run runs never repeat a row.
 */
export function pageOf<T extends Pageable>(items: T[], query: ResultsQuery, match?: (t: T) => boolean): { items: T[]; next_cursor: string | null; total: number } {
  const keyed: { item: T; key: Key }[] = [];
  items.forEach((item, i) => {
    if (matchesStatus(item, query.status) && (!match || match(item))) keyed.push({ item, key: keyOf(item, i, query.sort) });
  });
  // Display order (no sort) is keyed by position: already in order.
  if (query.sort) keyed.sort((a, b) => cmp(a.key, b.key));
  const after = query.cursor ? decodeCursor(query.cursor) : null;
  const start = after ? keyed.findIndex((k) => cmp(k.key, after) > 0) : 0;
  const from = start < 0 ? keyed.length : start;
  const page = keyed.slice(from, from + query.limit);
  const more = from + query.limit < keyed.length;
  return {
    items: page.map((k) => k.item),
    next_cursor: more ? encodeCursor(page[page.length - 1]!.key) : null,
    total: keyed.length,
  };
}

/** One page of a run's current rows, searched (`q`) over id, input, output and reasons. */
export function pageResults(view: RunRowsView, query: ResultsQuery): RowsPage {
  const q = query.q?.trim().toLowerCase();
  const page = pageOf(view.current, query, q ? (r) => matchesQuery(r, q, view.inputs) : undefined);
  return { rows: page.items, next_cursor: page.next_cursor, total: page.total };
}

/** One test whole, with its earlier rows (newest first). */
export function testDetail(view: RunRowsView, testId: string, planned: boolean): { run_id: string; test_id: string; result: Row | null; history: Row[] } {
  const result = view.current.find((r) => r.test_id === testId) ?? null;
  if (!result && !planned) throw new AgentvError('RUN_NOT_FOUND', `test ${testId} is not in run ${view.runId}`, { run_id: view.runId, test_id: testId });
  const history = view.all.filter((r) => r.test_id === testId && r !== result).reverse();
  return { run_id: view.runId, test_id: testId, result, history };
}

/** Pass-rate points of the newest `limit` runs of a suite and target, oldest first, read from the index. */
export async function readTrend(
  view: IndexView | null,
  { suite, target, limit }: { suite?: string; target?: string; limit: number },
): Promise<TrendsResponse> {
  const points: TrendsResponse['points'] = [];
  if (view) {
    const filter = (s: RunSummary) => (!suite || s.suite === suite) && (!target || s.target === target) && s.status !== 'running';
    const page = await readPage(view, { limit, filter });
    for (const s of page.runs) {
      points.push({
        run_id: s.run_id,
        started_at: s.started_at,
        pass_rate: s.pass_rate,
        avg_score: s.avg_score,
        passed: s.passed,
        completed_count: s.passed + s.failed + s.errored,
      });
    }
  }
  return { suite: suite ?? null, target: target ?? null, points: points.reverse() };
}
