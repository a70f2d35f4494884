// A run's results digest (schema in src/schemas/digest.ts): the current row of
// each test with where it lives, its status, score and duration, plus the
// per-metric aggregates. The write path rewrites it with the manifest (it has
// read every row then anyway); readers use it only while it covers exactly the
// run's row chunks, so a run's document and a results page cost the rows they
// show, not every row of a 10,000-test run. Anything else falls back to reading all rows.
import { AgentvError } from '../errors.js';
import type { DigestEntry, RunDigest } from '../schemas/digest.js';
import type { Row } from '../schemas/row.js';
import { describeDamage, parseJsonlLazy } from './jsonl.js';
import { quickRow, rowSchema } from './row-check.js';
import { ROWS_DIR, parseRowChunkSeq, rowChunkName, runDir } from './layout.js';
import type { Store } from './store.js';
import { tallyRows } from './tally.js';
import type { RunCounts } from '../schemas/manifest.js';

export const DIGEST_FILE = 'digest.json';

export function digestPath(runId: string): string {
  return `${runDir(runId)}/${DIGEST_FILE}`;
}

/** Where a row lives: its chunk's number and its index among the chunk's rows. */
export interface RowPosition {
  chunk: number;
  line: number;
}

type MetricRow = Pick<Row, 'assertions'>;

/** Aggregates per named metric over the current rows of the planned tests. */
export function metricsOf(planned: { test_id: string }[], current: Map<string, MetricRow>) {
  const by = new Map<string, { metric: string; passed: number; total: number; sum: number }>();
  for (const p of planned) {
    for (const a of current.get(p.test_id)?.assertions ?? []) {
      if (!a.metric) continue;
      const m = by.get(a.metric) ?? { metric: a.metric, passed: 0, total: 0, sum: 0 };
      m.total++;
      m.sum += a.score;
      if (a.passed) m.passed++;
      by.set(a.metric, m);
    }
  }
  return [...by.values()].map(({ sum, ...m }) => ({ ...m, avg_score: m.total ? sum / m.total : 0 }));
}

/** What the run document says of the planned tests' current rows (`not_ok`: missing or not `ok`). */
export interface PlanFacts {
  counts: RunCounts;
  missing: string[];
  errored: number;
  not_ok: number;
}

/** The run document's facts from the current rows, counted by the one counting function (tally.ts). */
export function planFacts(planned: { test_id: string }[], current: Map<string, Pick<Row, 'execution_status' | 'passed' | 'score'>>): PlanFacts {
  const missing: string[] = [];
  const rows: Pick<Row, 'execution_status' | 'passed' | 'score'>[] = [];
  let errored = 0;
  let notOk = 0;
  for (const p of planned) {
    const r = current.get(p.test_id);
    if (!r) {
      missing.push(p.test_id);
      notOk++;
      continue;
    }
    rows.push(r);
    if (r.execution_status === 'execution_error') errored++;
    if (r.execution_status !== 'ok') notOk++;
  }
  return { counts: tallyRows(rows), missing, errored, not_ok: notOk };
}

const CODE = { ok: 'o', quality_failure: 'q', execution_error: 'e' } as const;
const STATUS = { o: 'ok', q: 'quality_failure', e: 'execution_error' } as const;

/**
 * The digest of a run's rows (every committed row, in commit order, with its
 * position). The current row of a test is its highest (attempt, grade_seq), the
 * later on a tie, as `currentRows` decides.
 */
export function digestOf(planned: { test_id: string }[], rows: Row[], positions: RowPosition[], chunks: { count: number; last: number }): RunDigest {
  const cur = new Map<string, number>();
  rows.forEach((r, i) => {
    const prev = cur.get(r.test_id);
    const p = prev === undefined ? undefined : rows[prev]!;
    if (!p || r.attempt > p.attempt || (r.attempt === p.attempt && (r.grade_seq ?? 0) >= (p.grade_seq ?? 0))) cur.set(r.test_id, i);
  });
  const order = new Map(planned.map((p, i) => [p.test_id, i]));
  const ids = [...cur.keys()].sort((a, b) => (order.get(a) ?? Infinity) - (order.get(b) ?? Infinity) || (a < b ? -1 : a > b ? 1 : 0));
  const tests: DigestEntry[] = ids.map((id) => {
    const i = cur.get(id)!;
    const r = rows[i]!;
    const at = positions[i]!;
    return [id, at.chunk, at.line, CODE[r.execution_status], r.passed ? 1 : 0, r.score, r.duration_ms, order.has(id) ? 1 : 0];
  });
  const current = new Map(ids.map((id) => [id, rows[cur.get(id)!]!]));
  return { schema_version: 2, chunks: chunks.count, last_chunk: chunks.last, tests, metrics: metricsOf(planned, current), ...planFacts(planned, current) };
}

/** The digest of a run's rows as readRowsAt gives them (every chunk, with positions): fsck's check and repair. */
export function digestOfRows(planned: { test_id: string }[], rows: { rows: Row[]; positions: RowPosition[]; chunkCount: number; lastChunk: number }): RunDigest {
  return digestOf(planned, rows.rows, rows.positions, { count: rows.chunkCount, last: rows.lastChunk });
}

/** The digest of a run whose rows are all in its first chunk (none yet, or one group commit): createRun and the seeder. */
export function firstChunkDigest(planned: { test_id: string }[], rows: Row[]): RunDigest {
  return digestOf(planned, rows, rows.map((_, line) => ({ chunk: 1, line })), rows.length ? { count: 1, last: 1 } : { count: 0, last: 0 });
}

export function serializeDigest(d: RunDigest): string {
  return `${JSON.stringify(d)}\n`;
}

/** A digest entry as the fields paging filters and sorts on. */
export interface DigestItem {
  test_id: string;
  chunk: number;
  line: number;
  execution_status: Row['execution_status'];
  passed: boolean;
  score: number;
  duration_ms: number;
  planned: boolean;
}

export interface LoadedDigest {
  /** The run document's facts, as written. */
  facts: PlanFacts;
  metrics: RunDigest['metrics'];
  /** How many tests have a current row. */
  size: number;
  /** Entries `from` to `to` (display order) as items; cheap for a page. */
  slice(from: number, to: number): DigestItem[];
  /** Every entry as an item, made on first call (filters and sorts need them). */
  items(): DigestItem[];
}

function itemOf([test_id, chunk, line, s, passed, score, duration_ms, planned]: DigestEntry): DigestItem {
  return { test_id, chunk, line, execution_status: STATUS[s], passed: passed === 1, score, duration_ms, planned: planned === 1 };
}

/**
 * The run's digest at `tree` if it covers exactly the run's row chunks (same
 * number, same newest), else null: rows appended since (a running run), a
 * merge that brought chunks from elsewhere, or a run written before digests.
 */
export async function readDigest(store: Store, tree: string, runId: string): Promise<LoadedDigest | null> {
  const [buf, chunkEntries] = await Promise.all([store.readBlob(tree, digestPath(runId)), store.readTree(tree, `${runDir(runId)}/${ROWS_DIR}`)]);
  if (!buf) return null;
  let count = 0;
  let last = 0;
  for (const e of chunkEntries ?? []) {
    const seq = parseRowChunkSeq(e.name);
    if (seq === null) continue;
    count++;
    last = Math.max(last, seq);
  }
  // Loaded here, not with the module: `runs show` reads the rows and never the digest.
  const schema = await import('../schemas/digest.js');
  let parsed;
  try {
    parsed = schema.RunDigestHead.safeParse(JSON.parse(buf.toString('utf8')));
  } catch {
    return null; // a damaged digest is only a lost shortcut: the rows are the truth
  }
  if (!parsed.success || parsed.data.chunks !== count || parsed.data.last_chunk !== last) return null;
  const tests = parsed.data.tests;
  if (!tests.every(schema.isDigestEntry)) return null;
  const entries = tests as DigestEntry[];
  const { counts, missing, errored, not_ok, metrics } = parsed.data;
  let items: DigestItem[] | null = null;
  return {
    facts: { counts, missing, errored, not_ok },
    metrics,
    size: entries.length,
    slice: (from, to) => entries.slice(from, to).map(itemOf),
    items: () => (items ??= entries.map(itemOf)),
  };
}

/**
 * The rows the items point at, reading only their chunks. Null when a chunk
 * does not hold the row the digest names (the digest is then not trusted).
 */
export async function readDigestRows(store: Store, tree: string, runId: string, items: DigestItem[]): Promise<Row[] | null> {
  const dir = `${runDir(runId)}/${ROWS_DIR}`;
  const seqs = [...new Set(items.map((i) => i.chunk))];
  const chunks = new Map<number, Row[]>();
  await Promise.all(
    seqs.map(async (seq) => {
      const file = `${dir}/${rowChunkName(seq)}`;
      const buf = await store.readBlob(tree, file);
      if (!buf) return;
      const parsed = await parseJsonlLazy(rowSchema, buf.toString('utf8'), quickRow);
      if (parsed.bad.length) {
        throw new AgentvError('CORRUPT', `run ${runId}: row chunk ${file} is damaged: ${describeDamage(parsed.bad)}. See: agentv results fsck`, {
          run_id: runId,
          file,
          lines: parsed.bad.map((b) => b.line),
        });
      }
      chunks.set(seq, parsed.rows);
    }),
  );
  const out: Row[] = [];
  for (const i of items) {
    const r = chunks.get(i.chunk)?.[i.line];
    if (!r || r.test_id !== i.test_id) return null;
    out.push(r);
  }
  return out;
}
