// Runs on the ref: create (manifest + index row in one commit), append rows as
// numbered chunks (rows/000001.jsonl, ... one per group commit, so a commit
// never rewrites earlier rows), update the manifest, read a run back.
// Every write is a change applied by Store.commit, re-applied on a lost race.
import { AgentvError } from '../errors.js';
import { Manifest, ManifestHead, parseManifestValue, plannedTestsOf, type RunCounts, type SliceRef } from '../schemas/manifest.js';
import { Row } from '../schemas/row.js';
import { describeDamage, parseJsonl, toJsonl, type DamagedLine } from './jsonl.js';
import type { StoredInput } from '../schemas/input.js';
import { inputEdits } from './inputs.js';
import { quickRow } from './row-check.js';
import { MODE_DIR, objectId } from '../git/index.js';
import { MANIFEST_FILE, ROWS_DIR, SLICES_DIR, parseRowChunkSeq, partDir, rowChunkName, runDir, sliceKey } from './layout.js';
import { sliceMismatch, slicePartOids, wholeManifest } from './slices.js';
import { digestOf, digestPath, firstChunkDigest, serializeDigest, type RowPosition } from './digest.js';
import { callIndexEdits } from './call-index.js';
import { entriesOfChunk, numberedRows } from './call-rows.js';
import { indexEdits, summaryOf } from './run-index.js';
import type { Edits, Store, Tip } from './store.js';
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
  const manifest = parseManifest(await store.readBlobOid(entry.oid, file), slice ? `run ${runId} slice ${sliceKey(slice)}` : `run ${runId}`, runId);
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
    out.push(parseManifest(await store.readBlobOid(entry.oid, file), `run ${runId} slice ${p.key}`, runId));
  }
  return out;
}

function parseManifest(buf: Buffer, what: string, runId: string): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(buf.toString('utf8'));
  } catch (e) {
    throw new AgentvError('CORRUPT', `manifest of ${what} is not valid JSON: ${(e as Error).message}`, { run_id: runId });
  }
  // The plan is checked by hand (a 10,000-test plan costs zod tens of milliseconds), the rest by the schema.
  const parsed = ManifestHead.safeParse(json);
  const planned = parsed.success ? plannedTestsOf(parsed.data.planned_tests) : null;
  if (!parsed.success || !planned) {
    const why = parsed.success ? Manifest.safeParse(json).error?.issues[0]?.message ?? 'planned_tests: invalid entry' : parsed.error.issues[0]?.message;
    throw new AgentvError('CORRUPT', `manifest of ${what} does not match the schema: ${why}`, {
      run_id: runId,
    });
  }
  return { ...parsed.data, planned_tests: planned };
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
  bufs.forEach((buf, i) => {
    const oid = chunks[i]!.e.oid;
    const parsed = buf === null ? { rows: known!.get(oid)!, damaged: 0, bad: [] } : parseJsonl(Row, buf.toString('utf8'), quickRow);
    for (const r of parsed.rows) rows.push(r);
    parsed.rows.forEach((_, line) => positions.push({ chunk: chunks[i]!.seq, line }));
    damaged += parsed.damaged;
    if (parsed.bad.length) damage.push({ file: `${dir}/${chunks[i]!.e.name}`, object: oid, lines: parsed.bad });
    else if (known && buf !== null) known.set(oid, parsed.rows);
  });
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

/**
 * Commit a new run: its manifest and its index row. RUN_EXISTS-style USAGE error if the id is taken.
 * A slice of a sharded run (`manifest.slice` set) is a part: it joins the run
 * when the run exists with the same slicing, suite and target (else USAGE,
 * exit 2), and otherwise creates it with `whole` as the run's manifest.json.
 */
export async function createRun({ store, manifest, rows = [], whole }: { store: Store; manifest: Manifest; rows?: Row[]; whole?: Manifest }): Promise<Manifest> {
  const m = Manifest.parse(manifest);
  const slice = m.slice ?? null;
  let result = m;
  await store.commit({
    subject: `run ${m.run_id}: start${slice ? ` slice ${slice.index}/${slice.count}` : ''} (${m.planned_test_count} tests)`,
    runId: m.run_id,
    sourceCommit: m.source_commit,
    change: async (tip) => {
      const edits: Edits = new Map();
      if (!slice) {
        if (tip && (await store.readTree(tip.tree, runDir(m.run_id)))) {
          throw new AgentvError('USAGE', `run id ${m.run_id} already exists; choose another --run-id`, { run_id: m.run_id });
        }
        result = m;
      } else {
        const existing = tip ? await readManifestAt(store, tip.tree, m.run_id) : null;
        if (existing) {
          const why = sliceMismatch(existing, m);
          if (why) throw new AgentvError('USAGE', why, { run_id: m.run_id });
          if (await store.readTree(tip!.tree, partDir(m.run_id, slice))) {
            throw new AgentvError('USAGE', `slice ${slice.index}/${slice.count} of run ${m.run_id} already exists; continue it with --resume ${m.run_id} --shard ${slice.index}/${slice.count}`, { run_id: m.run_id });
          }
        } else if (tip && (await store.readTree(tip.tree, runDir(m.run_id)))) {
          throw new AgentvError('CORRUPT', `run ${m.run_id} has a directory but no manifest.json; check with: agentv results fsck`, { run_id: m.run_id });
        }
        const parts = existing ? await readSlicePartsAt(store, tip!.tree, m.run_id) : [];
        result = Manifest.parse(wholeManifest(existing ?? Manifest.parse(whole ?? m), [...parts, m], slice.count));
        edits.set(manifestPath(m.run_id, slice), serializeManifest(m));
      }
      for (const [k, v] of await indexEdits(store, tip?.tree ?? null, [summaryOf(result)])) edits.set(k, v);
      edits.set(manifestPath(m.run_id), serializeManifest(result));
      if (rows.length) {
        const dir = partDir(m.run_id, slice);
        const chunk = `${ROWS_DIR}/${rowChunkName(1)}`;
        edits.set(`${dir}/${chunk}`, toJsonl(rows));
        await callIndexEdits(store, tip?.tree ?? null, entriesOfChunk(m.run_id, `${dir.slice(runDir(m.run_id).length + 1)}${slice ? '/' : ''}${chunk}`, numberedRows(rows)), edits);
      }
      // A sharded run has no results digest: its rows live in parts other machines write (readers read them all).
      if (!slice) {
        edits.set(digestPath(m.run_id), serializeDigest(firstChunkDigest(m.planned_tests, rows)));
      }
      return edits;
    },
  });
  return result;
}

export interface RunUpdate {
  /** Rows to add as a new chunk (skipping any (test_id, attempt) already committed when `dedupe`). */
  rows?: Row[];
  dedupe?: boolean;
  /** Inputs the rows name (input_ref → document), stored content-addressed in the same commit. */
  inputs?: Map<string, StoredInput>;
  /**
   * Rewrites the manifest; the index row follows it in the same commit. With
   * `slice`, it rewrites the slice's part, from which the run's manifest.json
   * and index row are derived in the same commit.
   */
  manifest?: (m: Manifest, committed: Row[]) => Manifest;
  subject: string;
  /**
   * The run's source commit, when the caller knows it: an append of rows then
   * does not read the manifest (a big one costs milliseconds per group commit).
   */
  sourceCommit?: string | null;
  /** The slice of a sharded run this update writes (its part and rows only). */
  slice?: SliceRef | null;
  /** Chunks of this run (or slice) already parsed: not parsed again; the chunk written here joins them. */
  known?: KnownChunks;
}

/**
 * Apply rows and/or a manifest change to a run (or one slice of it) in one
 * commit. Returns the rows added and the run's manifest as committed (null
 * for an append that did not read it); for a slice, `part` is its own manifest.
 */
export async function updateRun({
  store,
  runId,
  update,
}: {
  store: Store;
  runId: string;
  update: RunUpdate;
}): Promise<{ manifest: Manifest | null; part: Manifest | null; added: number }> {
  let result: Manifest | null = null;
  let part: Manifest | null = null;
  let added = 0;
  let sourceCommit: string | null = null;
  const slice = update.slice ?? null;
  const dir = partDir(runId, slice);
  const change = async (tip: Tip | null): Promise<Edits | null> => {
    const appendOnly = update.sourceCommit !== undefined && !update.manifest && !update.dedupe;
    const current = !tip ? null : appendOnly ? null : await readManifestAt(store, tip.tree, runId, slice);
    const exists = tip !== null && (current !== null || (appendOnly && (await store.readTree(tip.tree, dir)) !== null));
    if (!tip || !exists) {
      throw new AgentvError('RUN_NOT_FOUND', slice ? `slice ${slice.index}/${slice.count} of run ${runId} not found` : `run ${runId} not found`, { run_id: runId });
    }
    sourceCommit = current ? current.source_commit : (update.sourceCommit ?? null);
    const edits: Edits = new Map();
    let rows = update.rows ?? [];
    // Appending needs only the last chunk number (a tree listing); reading every
    // committed row is for dedupe and manifest counts, which are rare (recovery, finish).
    const needRows = update.dedupe || update.manifest !== undefined;
    const existing = needRows
      ? requireIntact(runId, await readRowsAt(store, tip.tree, runId, slice, update.known))
      : { rows: [], positions: [], chunkCount: 0, lastChunk: rows.length ? await lastRowChunk(store, tip.tree, runId, slice) : 0 };
    if (update.dedupe) {
      const key = (r: Row) => `${r.test_id}\u0000${r.attempt}\u0000${r.grade_seq ?? 0}`;
      const have = new Set(existing.rows.map(key));
      rows = rows.filter((r) => !have.has(key(r)));
    }
    if (rows.length) {
      const name = `${ROWS_DIR}/${rowChunkName(existing.lastChunk + 1)}`;
      const chunk = Buffer.from(toJsonl(rows));
      edits.set(`${dir}/${name}`, chunk);
      // The call index follows the rows in the same commit (SPEC 3.9); its paths are relative to the run's directory.
      await callIndexEdits(store, tip.tree, entriesOfChunk(runId, `${dir.slice(runDir(runId).length + 1)}${slice ? '/' : ''}${name}`, numberedRows(rows)), edits);
      // A later read of this run finds these rows by the blob id of what is written,
      // exactly as a reader would parse them (a chunk with a rarer row shape is parsed then).
      const asRead = update.known ? rows.map(quickRow) : [];
      if (update.known && !asRead.includes(null)) update.known.set(objectId('blob', chunk, store.repo.objectFormat), asRead as Row[]);
    }
    if (update.inputs?.size) inputEdits(update.inputs, edits);
    added = rows.length;
    result = current;
    part = slice ? current : null;
    if (update.manifest && current) {
      let next = parseManifestValue(update.manifest(current, [...existing.rows, ...rows]));
      if (slice) {
        // The slice's part changed: the run's manifest.json follows from all parts.
        part = next;
        edits.set(manifestPath(runId, slice), serializeManifest(next));
        const whole = await readManifestAt(store, tip.tree, runId);
        if (!whole) throw new AgentvError('CORRUPT', `run ${runId} has slice parts but no manifest.json; check with: agentv results fsck`, { run_id: runId });
        const others = (await readSlicePartsAt(store, tip.tree, runId)).filter((p) => p.slice?.index !== slice.index);
        next = Manifest.parse(wholeManifest(whole, [...others, next], slice.count));
      }
      result = next;
      edits.set(manifestPath(runId), serializeManifest(next));
      for (const [k, v] of await indexEdits(store, tip.tree, [summaryOf(next)])) edits.set(k, v);
      // The results digest follows the manifest: every row has just been read. A sharded run has none.
      if (!slice && !next.slices) {
        const seq = existing.lastChunk + 1;
        const all = [...existing.rows, ...rows];
        const positions = [...existing.positions, ...rows.map((_, line) => ({ chunk: seq, line }))];
        const chunks = rows.length ? { count: existing.chunkCount + 1, last: seq } : { count: existing.chunkCount, last: existing.lastChunk };
        edits.set(digestPath(runId), serializeDigest(digestOf(next.planned_tests, all, positions, chunks)));
      }
    }
    return edits.size ? edits : null;
  };
  await store.commit({
    subject: update.subject,
    runId,
    // Known only once the change has read the manifest.
    sourceCommit: () => sourceCommit,
    change,
  });
  return { manifest: result, part, added };
}

export async function readRun({ store, runId, tree, known }: { store: Store; runId: string; tree?: string; known?: KnownChunks }) {
  const t = tree ?? (await store.tip())?.tree;
  const manifest = t ? await readManifestAt(store, t, runId) : null;
  if (!t || !manifest) throw new AgentvError('RUN_NOT_FOUND', `run ${runId} not found`, { run_id: runId });
  const rows = requireIntact(runId, await readRowsAt(store, t, runId, null, known));
  return { manifest, ...rows };
}
