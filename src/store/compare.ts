// Comparing two runs (SPEC 3.8): tests matched by test_id, each given the
// first change that applies, and the pass-rate delta over the tests in both
// runs with a 95 % interval for paired proportions. Inputs are attached only
// to the rows that are returned, so a page of a 10,000-test comparison reads
// a page of inputs.
import { AgentvError } from '../errors.js';
import type { Change, CompareDocument, ComparePage, CompareSummary, CompareTest } from '../schemas/compare.js';
import type { Row } from '../schemas/row.js';
import type { RunSummary } from '../schemas/summary.js';
import { withInputs } from './inputs.js';
import { effectiveStatus } from './owner.js';
import { recoverRun } from './recover.js';
import { needsRecovery } from './recovery-check.js';
import { runDir } from './layout.js';
import { summaryOf } from './run-index.js';
import { currentRows, readRun } from './runs.js';
import type { Store } from './store.js';

/** The order tests are listed in: what needs attention first. */
export const CHANGE_ORDER: Change[] = ['regressed', 'new_error', 'fixed', 'still_failing', 'added', 'removed', 'unchanged'];

export function changeOf(base: Row | null, head: Row | null): Change {
  if (!base) return 'added';
  if (!head) return 'removed';
  if (head.execution_status === 'execution_error' && base.execution_status !== 'execution_error') return 'new_error';
  if (base.passed && !head.passed) return 'regressed';
  if (!base.passed && head.passed) return 'fixed';
  if (!base.passed && !head.passed) return 'still_failing';
  return 'unchanged';
}

/** Whether the target was asked something different: call keys, else stored inputs, else input hashes. */
export function inputChanged(base: Row, head: Row): boolean {
  if (base.call_key && head.call_key) return base.call_key !== head.call_key;
  if (base.input_ref && head.input_ref) return base.input_ref !== head.input_ref;
  return base.input_hash !== head.input_hash;
}

/**
 * 95 % interval for the difference of two paired proportions (head − base),
 * Agresti–Min adjusted Wald: add 0.5 to each cell of the 2×2 table of
 * (base passed, head passed), then the Wald interval for the McNemar-setting
 * difference (c − b)/n. Good coverage even with few discordant pairs, where
 * the plain Wald interval collapses to a point.
 * @example pairedInterval({ n: 100, b: 1, c: 0 }) // ≈ [-0.036, 0.016]
 */
export function pairedInterval({ n, b, c, z = 1.959964 }: { n: number; b: number; c: number; z?: number }): [number, number] {
  const nn = n + 2;
  const bb = b + 0.5;
  const cc = c + 0.5;
  const d = (cc - bb) / nn;
  const variance = (bb + cc - (cc - bb) ** 2 / nn) / nn ** 2;
  const half = z * Math.sqrt(Math.max(0, variance));
  const clamp = (x: number) => Math.min(1, Math.max(-1, x));
  return [clamp(d - half), clamp(d + half)];
}

interface LoadedRun {
  summary: RunSummary;
  rows: Map<string, Row>;
  order: Map<string, number>;
  complete: boolean;
}

async function loadRun(store: Store, runId: string): Promise<LoadedRun> {
  let run = await readRun({ store, runId });
  if (needsRecovery(store, run.manifest) && (await recoverRun({ store, runId }))) run = await readRun({ store, runId });
  const status = effectiveStatus(store, run.manifest);
  const rows = currentRows(run.rows);
  return {
    summary: { ...summaryOf(run.manifest), status },
    rows,
    order: new Map(run.manifest.planned_tests.map((p, i) => [p.test_id, i])),
    complete: run.manifest.planned_tests.every((p) => rows.has(p.test_id)),
  };
}

export interface RawComparison {
  base: RunSummary;
  head: RunSummary;
  summary: CompareSummary;
  tests: { test_id: string; change: Change; changed_input: boolean; score_delta: number | null; base: Row | null; head: Row | null }[];
  warnings: string[];
}

/** Compare rows without reading inputs; pure over the two loaded runs. */
export function compareRows(base: LoadedRun, head: LoadedRun): RawComparison {
  const ids = new Set([...base.rows.keys(), ...head.rows.keys()]);
  const counts: Record<Change, number> = { added: 0, removed: 0, new_error: 0, regressed: 0, fixed: 0, still_failing: 0, unchanged: 0 };
  let changed = 0;
  let paired = 0;
  let basePassed = 0;
  let headPassed = 0;
  let b = 0; // base passed, head did not
  let c = 0; // head passed, base did not
  const tests: RawComparison['tests'] = [];
  for (const id of ids) {
    const br = base.rows.get(id) ?? null;
    const hr = head.rows.get(id) ?? null;
    const change = changeOf(br, hr);
    counts[change]++;
    const both = br !== null && hr !== null;
    const changedInput = both && inputChanged(br, hr);
    if (changedInput) changed++;
    if (both) {
      paired++;
      if (br.passed) basePassed++;
      if (hr.passed) headPassed++;
      if (br.passed && !hr.passed) b++;
      if (!br.passed && hr.passed) c++;
    }
    tests.push({ test_id: id, change, changed_input: changedInput, score_delta: both ? hr.score - br.score : null, base: br, head: hr });
  }
  const rank = new Map(CHANGE_ORDER.map((ch, i) => [ch, i]));
  tests.sort((x, y) => rank.get(x.change)! - rank.get(y.change)! || (x.test_id < y.test_id ? -1 : x.test_id > y.test_id ? 1 : 0));
  const warnings: string[] = [];
  if (base.summary.suite !== head.summary.suite) {
    warnings.push(`comparing runs of different suites (${base.summary.suite} and ${head.summary.suite}): tests are matched by id, so most are added or removed`);
  }
  for (const [name, r] of [['base', base], ['head', head]] as const) {
    if (!r.complete) warnings.push(`${name} run ${r.summary.run_id} is ${r.summary.status} and incomplete: its missing tests count as ${name === 'base' ? 'added' : 'removed'}`);
  }
  return {
    base: base.summary,
    head: head.summary,
    summary: {
      ...counts,
      changed_input: changed,
      paired,
      pass_rate_delta: paired ? (headPassed - basePassed) / paired : null,
      pass_rate_delta_ci: paired ? pairedInterval({ n: paired, b, c }) : null,
    },
    tests,
    warnings,
  };
}

/**
 * Read both runs and compare them (rows without inputs).
 * @example await diffRuns({ store, base: 'run-a', head: 'run-b' })
 */
export async function diffRuns({ store, base, head }: { store: Store; base: string; head: string }): Promise<RawComparison> {
  const [b, h] = await Promise.all([loadRun(store, base), loadRun(store, head)]);
  return compareRows(b, h);
}

async function attachInputs(store: Store, tests: RawComparison['tests']): Promise<CompareTest[]> {
  const tip = await store.tip();
  if (!tip) throw new AgentvError('RUN_NOT_FOUND', 'no runs yet');
  const rows = tests.flatMap((t) => [t.base, t.head].filter((r): r is Row => r !== null));
  const withIn = await withInputs(store, tip.tree, rows);
  const byRow = new Map(rows.map((r, i) => [r, withIn[i]!]));
  // Object.assign, not `{ ...t, ... }`: one hidden class for 10,000 tests, not one each (docs/architecture.md).
  return tests.map((t) => Object.assign({}, t, { base: t.base && byRow.get(t.base)!, head: t.head && byRow.get(t.head)! }));
}

/**
 * The whole `runs diff --json` document, rows with their inputs. Renderings
 * that never show inputs (text, Markdown, JUnit) pass `inputs: false` and skip
 * one object read per distinct input (rows then carry `input: null`).
 */
export async function compareRuns({ store, base, head, inputs = true }: { store: Store; base: string; head: string; inputs?: boolean }): Promise<CompareDocument> {
  const raw = await diffRuns({ store, base, head });
  const noInput = (r: Row | null) => r && Object.assign({}, r, { input: null });
  if (!inputs) return { ...raw, tests: raw.tests.map((t) => Object.assign({}, t, { base: noInput(t.base), head: noInput(t.head) })) };
  return { ...raw, tests: await attachInputs(store, raw.tests) };
}

/** GET /api/compare: tests filtered by change and paged by an opaque offset cursor; summary whole. */
export async function compareRunsPage({
  store,
  base,
  head,
  limit,
  cursor,
  change,
  cache,
}: {
  store: Store;
  base: string;
  head: string;
  limit: number;
  cursor?: string;
  change?: Change[];
  /** Reuses the comparison of unchanged runs across pages (Studio keeps one). */
  cache?: CompareCache;
}): Promise<ComparePage> {
  const raw = cache ? await cache.get(store, base, head) : await diffRuns({ store, base, head });
  const start = cursor === undefined ? 0 : decodeCursor(cursor);
  const wanted = change?.length ? new Set(change) : null;
  const matching = wanted ? raw.tests.filter((t) => wanted.has(t.change)) : raw.tests;
  const page = matching.slice(start, start + limit);
  const end = start + page.length;
  return {
    ...raw,
    tests: await attachInputs(store, page),
    next_cursor: end < matching.length ? encodeCursor(end) : null,
    total: matching.length,
  };
}

function encodeCursor(offset: number): string {
  return Buffer.from(`o:${offset}`).toString('base64url');
}

function decodeCursor(cursor: string): number {
  const m = /^o:(\d{1,9})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw new AgentvError('USAGE', `cursor: not a cursor this comparison gave out: ${JSON.stringify(cursor)}`);
  return Number(m[1]);
}

/**
 * Comparisons keyed by the two run directories' tree ids: a run's tree id
 * changes with any row or manifest change, so a hit is always current, and
 * paging a 10,000-test comparison reads the runs once, not once per page.
 */
export class CompareCache {
  private readonly entries = new Map<string, RawComparison>();
  constructor(private readonly max = 8) {}

  async get(store: Store, base: string, head: string): Promise<RawComparison> {
    const tip = await store.tip();
    const dirOid = async (runId: string) => {
      const i = runDir(runId).lastIndexOf('/');
      const entries = tip ? await store.readTree(tip.tree, runDir(runId).slice(0, i)) : null;
      return entries?.find((e) => e.name === runId)?.oid ?? null;
    };
    const [b, h] = await Promise.all([dirOid(base), dirOid(head)]);
    // A live run may still be recovered on read: only settled trees are cached.
    const key = b && h ? `${b}:${h}` : null;
    const hit = key ? this.entries.get(key) : undefined;
    if (hit) return hit;
    const raw = await diffRuns({ store, base, head });
    const settled = raw.base.status !== 'running' && raw.head.status !== 'running';
    if (key && settled) {
      if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(key, raw);
    }
    return raw;
  }
}
