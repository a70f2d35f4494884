// Runs on the ref: create (manifest + index row in one commit), append rows as
// numbered chunks (rows/000001.jsonl, ... one per group commit, so a commit
// never rewrites earlier rows), update the manifest, read a run back.
// Every write is a change applied by Store.commit, re-applied on a lost race.
import { AgentvError } from '../errors.js';
import { Manifest, type RunCounts } from '../schemas/manifest.js';
import { Row } from '../schemas/row.js';
import { describeDamage, parseJsonl, toJsonl, type DamagedLine } from './jsonl.js';
import type { StoredInput } from '../schemas/input.js';
import { inputEdits } from './inputs.js';
import { callIndexEdits, entriesOfChunk, numberedRows } from './call-index.js';
import { MANIFEST_FILE, ROWS_DIR, parseRowChunkSeq, rowChunkName, runDir } from './layout.js';
import { indexEdits, summaryOf } from './run-index.js';
import type { Edits, Store, Tip } from './store.js';
import { tallyRows } from './tally.js';

export function manifestPath(runId: string): string {
  return `${runDir(runId)}/${MANIFEST_FILE}`;
}

export function serializeManifest(m: Manifest): string {
  return `${JSON.stringify(m, null, 1)}\n`;
}

export async function readManifestAt(store: Store, tree: string, runId: string): Promise<Manifest | null> {
  const buf = await store.readBlob(tree, manifestPath(runId));
  if (!buf) return null;
  let json: unknown;
  try {
    json = JSON.parse(buf.toString('utf8'));
  } catch (e) {
    throw new AgentvError('CORRUPT', `manifest of run ${runId} is not valid JSON: ${(e as Error).message}`, { run_id: runId });
  }
  const parsed = Manifest.safeParse(json);
  if (!parsed.success) {
    throw new AgentvError('CORRUPT', `manifest of run ${runId} does not match the schema: ${parsed.error.issues[0]?.message}`, {
      run_id: runId,
    });
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
  lastChunk: number;
  damaged: number;
  /** Chunks with lines that did not parse; empty for a healthy run. */
  damage: RowChunkDamage[];
}

/** Every row of a run, tolerant of damage (which it lists); readers use requireIntact. */
export async function readRowsAt(store: Store, tree: string, runId: string): Promise<RunRows> {
  const dir = `${runDir(runId)}/${ROWS_DIR}`;
  const entries = (await store.readTree(tree, dir)) ?? [];
  const chunks = entries
    .map((e) => ({ e, seq: parseRowChunkSeq(e.name) }))
    .filter((x): x is { e: (typeof entries)[number]; seq: number } => x.seq !== null)
    .sort((a, b) => a.seq - b.seq);
  const bufs = await Promise.all(chunks.map((c) => store.readBlobOid(c.e.oid, `${dir}/${c.e.name}`)));
  const rows: Row[] = [];
  const damage: RowChunkDamage[] = [];
  let damaged = 0;
  bufs.forEach((buf, i) => {
    const parsed = parseJsonl(Row, buf.toString('utf8'));
    rows.push(...parsed.rows);
    damaged += parsed.damaged;
    if (parsed.bad.length) damage.push({ file: `${dir}/${chunks[i]!.e.name}`, object: chunks[i]!.e.oid, lines: parsed.bad });
  });
  return { rows, lastChunk: chunks.length ? chunks[chunks.length - 1]!.seq : 0, damaged, damage };
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

/** Highest row chunk number of a run (0 when it has none), from the tree alone. */
export async function lastRowChunk(store: Store, tree: string, runId: string): Promise<number> {
  const entries = (await store.readTree(tree, `${runDir(runId)}/${ROWS_DIR}`)) ?? [];
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
export function countsOf(planned: { test_id: string }[], current: Map<string, Row>): RunCounts {
  const rows: Row[] = [];
  for (const p of planned) {
    const r = current.get(p.test_id);
    if (r) rows.push(r);
  }
  return tallyRows(rows);
}

/** Commit a new run: its manifest and its index row. RUN_EXISTS-style USAGE error if the id is taken. */
export async function createRun({ store, manifest, rows = [] }: { store: Store; manifest: Manifest; rows?: Row[] }): Promise<void> {
  const m = Manifest.parse(manifest);
  await store.commit({
    subject: `run ${m.run_id}: start (${m.planned_test_count} tests)`,
    runId: m.run_id,
    sourceCommit: m.source_commit,
    change: async (tip) => {
      if (tip && (await store.readTree(tip.tree, runDir(m.run_id)))) {
        throw new AgentvError('USAGE', `run id ${m.run_id} already exists; choose another --run-id`, { run_id: m.run_id });
      }
      const edits = await indexEdits(store, tip?.tree ?? null, [summaryOf(m)]);
      edits.set(manifestPath(m.run_id), serializeManifest(m));
      if (rows.length) {
        edits.set(`${runDir(m.run_id)}/${ROWS_DIR}/${rowChunkName(1)}`, toJsonl(rows));
        await callIndexEdits(store, tip?.tree ?? null, entriesOfChunk(m.run_id, `${ROWS_DIR}/${rowChunkName(1)}`, numberedRows(rows)), edits);
      }
      return edits;
    },
  });
}

export interface RunUpdate {
  /** Rows to add as a new chunk (skipping any (test_id, attempt) already committed when `dedupe`). */
  rows?: Row[];
  dedupe?: boolean;
  /** Inputs the rows name (input_ref → document), stored content-addressed in the same commit. */
  inputs?: Map<string, StoredInput>;
  /** Rewrites the manifest; the index row follows it in the same commit. */
  manifest?: (m: Manifest, committed: Row[]) => Manifest;
  subject: string;
  /**
   * The run's source commit, when the caller knows it: an append of rows then
   * does not read the manifest (a big one costs milliseconds per group commit).
   */
  sourceCommit?: string | null;
}

/**
 * Apply rows and/or a manifest change to a run in one commit. Returns the rows
 * added and the manifest as committed (null for an append that did not read it).
 */
export async function updateRun({
  store,
  runId,
  update,
}: {
  store: Store;
  runId: string;
  update: RunUpdate;
}): Promise<{ manifest: Manifest | null; added: number }> {
  let result: Manifest | null = null;
  let added = 0;
  let sourceCommit: string | null = null;
  const change = async (tip: Tip | null): Promise<Edits | null> => {
    const appendOnly = update.sourceCommit !== undefined && !update.manifest && !update.dedupe;
    const current = !tip ? null : appendOnly ? null : await readManifestAt(store, tip.tree, runId);
    const exists = tip !== null && (current !== null || (appendOnly && (await store.readTree(tip.tree, runDir(runId))) !== null));
    if (!tip || !exists) throw new AgentvError('RUN_NOT_FOUND', `run ${runId} not found`, { run_id: runId });
    sourceCommit = current ? current.source_commit : (update.sourceCommit ?? null);
    const edits: Edits = new Map();
    let rows = update.rows ?? [];
    // Appending needs only the last chunk number (a tree listing); reading every
    // committed row is for dedupe and manifest counts, which are rare (recovery, finish).
    const needRows = update.dedupe || update.manifest !== undefined;
    const existing = needRows
      ? requireIntact(runId, await readRowsAt(store, tip.tree, runId))
      : { rows: [], lastChunk: rows.length ? await lastRowChunk(store, tip.tree, runId) : 0 };
    if (update.dedupe) {
      const key = (r: Row) => `${r.test_id}\u0000${r.attempt}\u0000${r.grade_seq ?? 0}`;
      const have = new Set(existing.rows.map(key));
      rows = rows.filter((r) => !have.has(key(r)));
    }
    if (rows.length) {
      const chunk = `${ROWS_DIR}/${rowChunkName(existing.lastChunk + 1)}`;
      edits.set(`${runDir(runId)}/${chunk}`, toJsonl(rows));
      // The call index follows the rows in the same commit (SPEC 3.9).
      await callIndexEdits(store, tip.tree, entriesOfChunk(runId, chunk, numberedRows(rows)), edits);
    }
    if (update.inputs?.size) inputEdits(update.inputs, edits);
    added = rows.length;
    result = current;
    if (update.manifest && current) {
      const next = Manifest.parse(update.manifest(current, [...existing.rows, ...rows]));
      result = next;
      edits.set(manifestPath(runId), serializeManifest(next));
      for (const [k, v] of await indexEdits(store, tip.tree, [summaryOf(next)])) edits.set(k, v);
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
  return { manifest: result, added };
}

export async function readRun({ store, runId, tree }: { store: Store; runId: string; tree?: string }) {
  const t = tree ?? (await store.tip())?.tree;
  const manifest = t ? await readManifestAt(store, t, runId) : null;
  if (!t || !manifest) throw new AgentvError('RUN_NOT_FOUND', `run ${runId} not found`, { run_id: runId });
  const rows = requireIntact(runId, await readRowsAt(store, t, runId));
  return { manifest, ...rows };
}
