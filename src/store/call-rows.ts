// Which rows the call index (call-index.ts) holds, and the way back from an
// entry to its row. A row is reusable when its output came from a target call
// in that run: it has a call key and an output, is not carried from elsewhere
// (its origin is indexed instead), is the row the execution wrote (grade_seq 0:
// a re-grade has the same output), and is not a target-phase execution_error.
import { MODE_DIR, type TreeEntry } from '../git/index.js';
import type { CallIndexEntry } from '../schemas/call-index.js';
import { Row } from '../schemas/row.js';
import { CALL_KEY_RE, newerEntry } from './call-index.js';
import { ROWS_DIR, SLICES_DIR, parseRowChunkSeq, runDir } from './layout.js';
import { quickRow } from './row-check.js';
import type { Store } from './store.js';
import { runDirShards } from './walk.js';

export function reusableRow(r: Row): r is Row & { call_key: string; output: string } {
  return (
    r.call_key !== undefined &&
    CALL_KEY_RE.test(r.call_key) &&
    r.output !== null &&
    r.carried_from === undefined &&
    (r.grade_seq ?? 0) === 0 &&
    !(r.execution_status === 'execution_error' && r.error_phase !== 'grading')
  );
}

/** The entries of one chunk's rows: the newest reusable row per call key (`file` relative to the run's directory). */
export function entriesOfChunk(runId: string, file: string, rows: { row: Row; line: number }[], into = new Map<string, CallIndexEntry>()): Map<string, CallIndexEntry> {
  for (const { row, line } of rows) {
    if (!reusableRow(row)) continue;
    const e: CallIndexEntry = { run_id: runId, test_id: row.test_id, file, line, finished_at: row.finished_at };
    if (newerEntry(e, into.get(row.call_key) ?? null)) into.set(row.call_key, e);
  }
  return into;
}

/** Rows of a chunk as written (one per line), numbered from 1. */
export function numberedRows(rows: Row[]): { row: Row; line: number }[] {
  return rows.map((row, i) => ({ row, line: i + 1 }));
}

/** A reusable row found through the index, read from its chunk and checked against its key. */
export interface IndexedRow {
  entry: CallIndexEntry;
  row: Row;
}

function rowOfLine(text: string): Row | null {
  try {
    const v: unknown = JSON.parse(text);
    const quick = quickRow(v);
    if (quick) return quick;
    const parsed = Row.safeParse(v);
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/**
 * The rows the entries point at, each chunk read once. An entry whose row is
 * gone or no longer matches (a chunk replaced by a merge of one run continued
 * on two machines) is left out: reuse then calls the target, never grades a
 * wrong output; fsck and reindex --check report the stale entry.
 */
export async function readIndexedRows(store: Store, tree: string, found: Map<string, CallIndexEntry | null>): Promise<Map<string, IndexedRow>> {
  const chunks = new Map<string, Promise<string[] | null>>();
  const readChunk = (path: string) => {
    let p = chunks.get(path);
    if (!p) {
      p = store
        .readBlob(tree, path)
        .then((b) => (b ? b.toString('utf8').split('\n') : null))
        .catch(() => null);
      chunks.set(path, p);
    }
    return p;
  };
  const out = new Map<string, IndexedRow>();
  await Promise.all(
    [...found].map(async ([key, entry]) => {
      if (!entry) return;
      const text = (await readChunk(`${runDir(entry.run_id)}/${entry.file}`))?.[entry.line - 1];
      const row = text ? rowOfLine(text) : null;
      if (row && row.call_key === key && reusableRow(row)) out.set(key, { entry, row });
    }),
  );
  return out;
}

/** The index a rebuild would write: every reusable row of every run under runs/. */
export async function buildCallIndex(store: Store, tree: string): Promise<Map<string, CallIndexEntry>> {
  const out = new Map<string, CallIndexEntry>();
  for await (const runs of runDirShards(store, tree)) {
    const perRun = await Promise.all(runs.map((r) => runEntries(store, r.name, r.oid)));
    for (const m of perRun) for (const [k, e] of m) if (newerEntry(e, out.get(k) ?? null)) out.set(k, e);
  }
  return out;
}

async function runEntries(store: Store, runId: string, dirOid: string): Promise<Map<string, CallIndexEntry>> {
  const out = new Map<string, CallIndexEntry>();
  const top = await store.treeEntries(dirOid);
  await rowsDirEntries(store, runId, top, '', out);
  // A sharded run's rows live in its slices' parts (shards/<I>-of-<N>/rows).
  const slices = top.find((e) => e.name === SLICES_DIR && e.mode === MODE_DIR);
  for (const part of slices ? await store.treeEntries(slices.oid) : []) {
    if (part.mode === MODE_DIR) await rowsDirEntries(store, runId, await store.treeEntries(part.oid), `${SLICES_DIR}/${part.name}/`, out);
  }
  return out;
}

async function rowsDirEntries(store: Store, runId: string, entries: TreeEntry[], prefix: string, out: Map<string, CallIndexEntry>): Promise<void> {
  const rowsDir = entries.find((e) => e.name === ROWS_DIR && e.mode === MODE_DIR);
  if (!rowsDir) return;
  const chunks = (await store.treeEntries(rowsDir.oid)).filter((e) => e.mode !== MODE_DIR && parseRowChunkSeq(e.name) !== null);
  const texts = await Promise.all(chunks.map((c) => store.readObject(c.oid)));
  chunks.forEach((c, i) => {
    const obj = texts[i];
    if (obj?.type !== 'blob') return; // damage: fsck reports the chunk itself
    const rows: { row: Row; line: number }[] = [];
    obj.data
      .toString('utf8')
      .split('\n')
      .forEach((text, j) => {
        // a damaged line is reported by fsck as damaged rows
        const row = text.trim() ? rowOfLine(text) : null;
        if (row) rows.push({ row, line: j + 1 });
      });
    entriesOfChunk(runId, `${prefix}${ROWS_DIR}/${c.name}`, rows, out);
  });
}

