// Runs on the ref, read back: a run's manifest (or a slice's part), its rows
// (numbered chunks rows/000001.jsonl, ...) and what follows from them. Writing
// them is run-writes.ts. Reading loads no zod: the hand checks read healthy
// values, and the schemas are loaded only to say what is wrong with another.
import { AgentvError } from '../errors.js';
import { quickManifest } from '../schemas/manifest-check.js';
import type { Manifest, RunCounts, SliceRef } from '../schemas/manifest.js';
import type { Row } from '../schemas/row.js';
import { describeDamage, parseJsonlLazy, type DamagedLine } from './jsonl.js';
import { quickRow, rowSchema } from './row-check.js';
import { MODE_DIR } from '../git/index.js';
import { MANIFEST_FILE, ROWS_DIR, SLICES_DIR, parseRowChunkSeq, partDir, runDir, sliceKey } from './layout.js';
import { slicePartOids } from './slices.js';
import type { RowPosition } from './digest.js';
import type { Store } from './store.js';
import { tallyRows } from './tally.js';

/** The run's manifest.json, or a slice's manifest part (`slice`). */
export function manifestPath(runId: string, slice?: SliceRef | null): string {
  return `${partDir(runId, slice)}/${MANIFEST_FILE}`;
}

export function serializeManifest(m: Manifest): string {
  return `${JSON.stringify(m, null, 1)}\n`;
}

/**
 * The manifest each store parsed last, by blob id: a command reads its run's
 * manifest several times (planning, then each commit's change re-reads it on
 * the new tip), and a 10,000-test manifest costs milliseconds to parse. A blob
 * never changes, so the same id is the same manifest; callers never mutate it.
 */
const lastParsed = new WeakMap<Store, { oid: string; manifest: Manifest }>();

export async function readManifestAt(store: Store, tree: string, runId: string, slice?: SliceRef | null): Promise<Manifest | null> {
  const file = manifestPath(runId, slice);
  const i = file.lastIndexOf('/');
  const entry = (await store.readTree(tree, file.slice(0, i)))?.find((e) => e.name === MANIFEST_FILE);
  if (!entry || entry.mode === MODE_DIR) return null;
  const hit = lastParsed.get(store);
  if (hit?.oid === entry.oid) return hit.manifest;
  const manifest = await parseManifest(await store.readBlobOid(entry.oid, file), slice ? `run ${runId} slice ${sliceKey(slice)}` : `run ${runId}`, runId);
  lastParsed.set(store, { oid: entry.oid, manifest });
  return manifest;
}

/** The manifest parts of a sharded run's slices present in `tree`, by slice index. */
export async function readSlicePartsAt(store: Store, tree: string, runId: string): Promise<Manifest[]> {
  const out: Manifest[] = [];
  for (const p of await slicePartOids(store, tree, runId)) {
    const file = `${runDir(runId)}/${SLICES_DIR}/${p.key}/${MANIFEST_FILE}`;
    const entry = (await store.treeEntries(p.oid)).find((e) => e.name === MANIFEST_FILE);
    if (!entry) throw new AgentvError('CORRUPT', `run ${runId}: slice directory ${p.key} has no ${MANIFEST_FILE}`, { run_id: runId, file });
    out.push(await parseManifest(await store.readBlobOid(entry.oid, file), `run ${runId} slice ${p.key}`, runId));
  }
  return out;
}

async function parseManifest(buf: Buffer, what: string, runId: string): Promise<Manifest> {
  let json: unknown;
  try {
    json = JSON.parse(buf.toString('utf8'));
  } catch (e) {
    throw new AgentvError('CORRUPT', `manifest of ${what} is not valid JSON: ${(e as Error).message}`, { run_id: runId });
  }
  const quick = quickManifest(json);
  if (quick) return quick;
  // What the hand check declines, the schema decides (and says what is wrong).
  const parsed = (await import('../schemas/manifest.js')).Manifest.safeParse(json);
  if (!parsed.success) {
    throw new AgentvError('CORRUPT', `manifest of ${what} does not match the schema: ${parsed.error.issues[0]?.message}`, { run_id: runId });
  }
  return parsed.data;
}

export interface RowChunkDamage {
  /** Path of the chunk on the ref. */
  file: string;
  object: string;
  lines: DamagedLine[];
}

export interface RunRows {
  /** Every row in commit order (chunk by chunk). */
  rows: Row[];
  /** Where each row of `rows` lives (same order). */
  positions: RowPosition[];
  lastChunk: number;
  /** Row chunk files read. */
  chunkCount: number;
  damaged: number;
  /** Chunks with lines that did not parse; empty for a healthy run. */
  damage: RowChunkDamage[];
}

/**
 * Row chunks already parsed, by blob id. A blob's content never changes, so a
 * reader given this map parses only the chunks it does not hold (and adds them);
 * updateRun adds the chunk it writes. One command keeps one for the run it
 * continues, so its final manifest update does not parse the run's history again.
 */
export type KnownChunks = Map<string, Row[]>;

/**
 * Every row of a run, tolerant of damage (which it lists); readers use requireIntact.
 * A sharded run's rows are its own plus every slice's (slices are disjoint, so
 * their order does not matter); `slice` reads one slice's rows only.
 */
export async function readRowsAt(store: Store, tree: string, runId: string, slice?: SliceRef | null, known?: KnownChunks): Promise<RunRows> {
  if (slice) return readRowsIn(store, tree, `${partDir(runId, slice)}/${ROWS_DIR}`, known);
  const own = await readRowsIn(store, tree, `${runDir(runId)}/${ROWS_DIR}`, known);
  for (const p of await slicePartOids(store, tree, runId)) {
    const part = await readRowsIn(store, tree, `${runDir(runId)}/${SLICES_DIR}/${p.key}/${ROWS_DIR}`, known);
    own.rows.push(...part.rows);
    own.damaged += part.damaged;
    own.damage.push(...part.damage);
    own.lastChunk += part.lastChunk;
    // positions cover the run's own rows only: a sharded run has no results digest.
  }
  return own;
}

async function readRowsIn(store: Store, tree: string, dir: string, known?: KnownChunks): Promise<RunRows> {
  const entries = (await store.readTree(tree, dir)) ?? [];
  const chunks = entries
    .map((e) => ({ e, seq: parseRowChunkSeq(e.name) }))
    .filter((x): x is { e: (typeof entries)[number]; seq: number } => x.seq !== null)
    .sort((a, b) => a.seq - b.seq);
  const bufs = await Promise.all(chunks.map((c) => (known?.has(c.e.oid) ? null : store.readBlobOid(c.e.oid, `${dir}/${c.e.name}`))));
  const rows: Row[] = [];
  const positions: RowPosition[] = [];
  const damage: RowChunkDamage[] = [];
  let damaged = 0;
  for (let i = 0; i < chunks.length; i++) {
    const buf = bufs[i]!;
    const oid = chunks[i]!.e.oid;
    const parsed = buf === null ? { rows: known!.get(oid)!, damaged: 0, bad: [] } : await parseJsonlLazy(rowSchema, buf.toString('utf8'), quickRow);
    for (const r of parsed.rows) rows.push(r);
    parsed.rows.forEach((_, line) => positions.push({ chunk: chunks[i]!.seq, line }));
    damaged += parsed.damaged;
    if (parsed.bad.length) damage.push({ file: `${dir}/${chunks[i]!.e.name}`, object: oid, lines: parsed.bad });
    else if (known && buf !== null) known.set(oid, parsed.rows);
  }
  return { rows, positions, lastChunk: chunks.length ? chunks[chunks.length - 1]!.seq : 0, chunkCount: chunks.length, damaged, damage };
}

/**
 * A run read with damaged row chunks would report wrong counts ("completed 1/10"):
 * that is an error naming the chunk and lines, never a quiet partial answer.
 */
export function requireIntact(runId: string, rows: RunRows): RunRows {
  const d = rows.damage[0];
  if (!d) return rows;
  throw new AgentvError(
    'CORRUPT',
    `run ${runId}: row chunk ${d.file} (blob ${d.object}) is damaged: ${describeDamage(d.lines)}` +
      `${rows.damage.length > 1 ? ` (and ${rows.damage.length - 1} more damaged chunk(s))` : ''}. ` +
      'Its rows cannot be read; restore the chunk from a clone or remote (agentv results pull), and see: agentv results fsck',
    { run_id: runId, file: d.file, object: d.object, lines: d.lines.map((l) => l.line) },
  );
}

/** Highest row chunk number of a run or slice (0 when it has none), from the tree alone. */
export async function lastRowChunk(store: Store, tree: string, runId: string, slice?: SliceRef | null): Promise<number> {
  const entries = (await store.readTree(tree, `${partDir(runId, slice)}/${ROWS_DIR}`)) ?? [];
  let last = 0;
  for (const e of entries) last = Math.max(last, parseRowChunkSeq(e.name) ?? 0);
  return last;
}

/** The current row of each test: the highest (attempt, grade_seq), the later one on a tie. */
export function currentRows(rows: Row[]): Map<string, Row> {
  const cur = new Map<string, Row>();
  for (const r of rows) {
    const prev = cur.get(r.test_id);
    if (!prev || r.attempt > prev.attempt || (r.attempt === prev.attempt && (r.grade_seq ?? 0) >= (prev.grade_seq ?? 0))) cur.set(r.test_id, r);
  }
  return cur;
}

/** Aggregates over the planned tests, counted by the one counting function (tally.ts). */
export function countsOf(planned: { test_id: string }[], current: Map<string, Pick<Row, 'execution_status' | 'passed' | 'score'>>): RunCounts {
  const rows: Pick<Row, 'execution_status' | 'passed' | 'score'>[] = [];
  for (const p of planned) {
    const r = current.get(p.test_id);
    if (r) rows.push(r);
  }
  return tallyRows(rows);
}

export async function readRun({ store, runId, tree, known }: { store: Store; runId: string; tree?: string; known?: KnownChunks }) {
  const t = tree ?? (await store.tip())?.tree;
  const manifest = t ? await readManifestAt(store, t, runId) : null;
  if (!t || !manifest) throw new AgentvError('RUN_NOT_FOUND', `run ${runId} not found`, { run_id: runId });
  const rows = requireIntact(runId, await readRowsAt(store, t, runId, null, known));
  return { manifest, ...rows };
}
