// The call index (SPEC 3.9): call key → where the newest reusable row of that
// call lives, one small blob per key at index/calls/<ab>/<cd>/<call_key>, so
// `eval --reuse` finds a test's earlier output with two small tree reads and
// one blob read, never a scan of runs. It is a projection of the rows:
// - the write path (createRun, updateRun) adds the rows it commits, in the
//   same commit, keeping an existing entry that is newer;
// - a merge of two histories takes the union, the newer entry on a clash;
// - `results reindex` rebuilds it from every run's rows and `--check` proves it.
// A row is reusable when its output came from a target call in that run: it
// has a call key and an output, is not carried from elsewhere (its origin is
// indexed instead), is the row the execution wrote (grade_seq 0: a re-grade
// has the same output), and is not a target-phase execution_error.
import { canonicalJson } from '../canonical-json.js';
import { MODE_DIR, MODE_FILE, encodeTree, sortTreeEntries, type TreeEntry } from '../git/index.js';
import { CallIndexEntry } from '../schemas/call-index.js';
import { Row } from '../schemas/row.js';
import { CALLS_DIR, ROWS_DIR, SLICES_DIR, callEntryPath, parseRowChunkSeq, runDir } from './layout.js';
import type { Edits, Store } from './store.js';

const KEY_RE = /^[0-9a-f]{16,128}$/;

export function reusableRow(r: Row): r is Row & { call_key: string; output: string } {
  return (
    r.call_key !== undefined &&
    KEY_RE.test(r.call_key) &&
    r.output !== null &&
    r.carried_from === undefined &&
    (r.grade_seq ?? 0) === 0 &&
    !(r.execution_status === 'execution_error' && r.error_phase !== 'grading')
  );
}

/** The order of entries of one call key: later finished_at wins, then run id, file, line (deterministic on every machine). */
function rank(e: CallIndexEntry): string {
  return `${e.finished_at}\u0000${e.run_id}\u0000${e.file}\u0000${String(e.line).padStart(9, '0')}`;
}

export function newerEntry(a: CallIndexEntry, b: CallIndexEntry | null): boolean {
  return b === null || rank(a) > rank(b);
}

export function serializeEntry(e: CallIndexEntry): string {
  return `${canonicalJson({ run_id: e.run_id, test_id: e.test_id, file: e.file, line: e.line, finished_at: e.finished_at })}\n`;
}

export function parseEntry(buf: Buffer): CallIndexEntry | null {
  try {
    const parsed = CallIndexEntry.safeParse(JSON.parse(buf.toString('utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** The newest reusable row per call key among rows of one chunk (`file` relative to the run's directory). */
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

/**
 * Entries of these call keys in a tree (null where none, or where the blob is
 * unreadable). Level by level, each tree read once however many keys fall in
 * it (concurrent walks from the root would read and parse the shared upper
 * trees once per key), the reads pipelined through the one cat-file reader.
 */
export async function lookupCalls(store: Store, tree: string, keys: Iterable<string>): Promise<Map<string, CallIndexEntry | null>> {
  const wanted = [...new Set(keys)].filter((k) => KEY_RE.test(k));
  const out = new Map<string, CallIndexEntry | null>(wanted.map((k) => [k, null]));
  const root = wanted.length ? await store.readTree(tree, CALLS_DIR) : null;
  if (!root) return out;
  const group = (ks: string[], at: number) => {
    const m = new Map<string, string[]>();
    for (const k of ks) {
      const g = k.slice(at, at + 2);
      const list = m.get(g);
      if (list) list.push(k);
      else m.set(g, [k]);
    }
    return m;
  };
  const dirs = (entries: TreeEntry[]) => new Map(entries.filter((e) => e.mode === MODE_DIR).map((e) => [e.name, e.oid]));
  const rootDirs = dirs(root);
  const blobs: [string, string][] = [];
  await Promise.all(
    [...group(wanted, 0)].map(async ([ab, abKeys]) => {
      const abOid = rootDirs.get(ab);
      if (!abOid) return;
      const abDirs = dirs(await store.treeEntries(abOid));
      await Promise.all(
        [...group(abKeys, 2)].map(async ([cd, cdKeys]) => {
          const cdOid = abDirs.get(cd);
          if (!cdOid) return;
          const files = new Map((await store.treeEntries(cdOid)).filter((e) => e.mode !== MODE_DIR).map((e) => [e.name, e.oid]));
          for (const k of cdKeys) {
            const oid = files.get(k);
            if (oid) blobs.push([k, oid]);
          }
        }),
      );
    }),
  );
  await Promise.all(
    blobs.map(async ([k, oid]) => {
      const obj = await store.reader.read(oid);
      if (obj?.type === 'blob') out.set(k, parseEntry(obj.data));
    }),
  );
  return out;
}

/** Whether the tree has a call index at all (stores written before it have none until reindex). */
export async function hasCallIndex(store: Store, tree: string): Promise<boolean> {
  return (await store.readTree(tree, CALLS_DIR)) !== null;
}

/**
 * Edits that add these entries to the index at `tree`, each only where it is
 * newer than the entry already there (concurrent writers and resumes of old
 * runs keep the index equal to a rebuild).
 */
export async function callIndexEdits(store: Store, tree: string | null, entries: Map<string, CallIndexEntry>, edits: Edits = new Map()): Promise<Edits> {
  if (entries.size === 0) return edits;
  const existing = tree ? await lookupCalls(store, tree, entries.keys()) : new Map<string, CallIndexEntry | null>();
  for (const [k, e] of entries) if (newerEntry(e, existing.get(k) ?? null)) edits.set(callEntryPath(k), serializeEntry(e));
  return edits;
}

/** A reusable row found through the index, read from its chunk and checked against its key. */
export interface IndexedRow {
  entry: CallIndexEntry;
  row: Row;
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
      const lines = await readChunk(`${runDir(entry.run_id)}/${entry.file}`);
      const text = lines?.[entry.line - 1];
      if (!text) return;
      let row: Row;
      try {
        const parsed = Row.safeParse(JSON.parse(text));
        if (!parsed.success) return;
        row = parsed.data;
      } catch {
        return;
      }
      if (row.call_key === key && reusableRow(row)) out.set(key, { entry, row });
    }),
  );
  return out;
}

/** The index a rebuild would write: every reusable row of every run under runs/. */
export async function buildCallIndex(store: Store, tree: string): Promise<Map<string, CallIndexEntry>> {
  const out = new Map<string, CallIndexEntry>();
  const shards = (await store.readTree(tree, 'runs')) ?? [];
  for (const a of shards) {
    if (a.mode !== MODE_DIR) continue;
    for (const b of await store.treeEntries(a.oid)) {
      if (b.mode !== MODE_DIR) continue;
      const runs = (await store.treeEntries(b.oid)).filter((e) => e.mode === MODE_DIR);
      const perRun = await Promise.all(runs.map((r) => runEntries(store, r.name, r.oid)));
      for (const m of perRun) for (const [k, e] of m) if (newerEntry(e, out.get(k) ?? null)) out.set(k, e);
    }
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
  const texts = await Promise.all(chunks.map((c) => store.reader.read(c.oid)));
  chunks.forEach((c, i) => {
    const obj = texts[i];
    if (obj?.type !== 'blob') return; // damage: fsck reports the chunk itself
    const lines = obj.data.toString('utf8').split('\n');
    const rows: { row: Row; line: number }[] = [];
    lines.forEach((text, j) => {
      if (!text.trim()) return;
      try {
        const parsed = Row.safeParse(JSON.parse(text));
        if (parsed.success) rows.push({ row: parsed.data, line: j + 1 });
      } catch {
        // a damaged line is reported by fsck as damaged rows
      }
    });
    entriesOfChunk(runId, `${prefix}${ROWS_DIR}/${c.name}`, rows, out);
  });
}

/** The index as stored: call key → its blob's text (null when the blob does not parse). */
export async function readCallIndex(store: Store, tree: string): Promise<Map<string, CallIndexEntry | null>> {
  const out = new Map<string, CallIndexEntry | null>();
  const root = await store.readTree(tree, CALLS_DIR);
  if (!root) return out;
  const leaves: TreeEntry[] = [];
  for (const a of root.filter((e) => e.mode === MODE_DIR)) {
    for (const b of (await store.treeEntries(a.oid)).filter((e) => e.mode === MODE_DIR)) {
      for (const f of await store.treeEntries(b.oid)) if (f.mode !== MODE_DIR) leaves.push(f);
    }
  }
  const objs = await Promise.all(leaves.map((f) => store.reader.read(f.oid)));
  leaves.forEach((f, i) => out.set(f.name, objs[i]?.type === 'blob' ? parseEntry(objs[i]!.data) : null));
  return out;
}

export type CallDrift = { call_key: string; kind: 'missing' | 'extra' | 'different' };

export function diffCallIndex(expected: Map<string, CallIndexEntry>, actual: Map<string, CallIndexEntry | null>): CallDrift[] {
  const drift: CallDrift[] = [];
  for (const [k, e] of expected) {
    const a = actual.get(k);
    if (a === undefined) drift.push({ call_key: k, kind: 'missing' });
    else if (a === null || serializeEntry(a) !== serializeEntry(e)) drift.push({ call_key: k, kind: 'different' });
  }
  for (const k of actual.keys()) if (!expected.has(k)) drift.push({ call_key: k, kind: 'extra' });
  return drift;
}

/** Edits that replace the whole call index with these entries. */
export function callIndexFiles(entries: Map<string, CallIndexEntry>, edits: Edits = new Map()): Edits {
  edits.set(CALLS_DIR, null);
  for (const [k, e] of entries) edits.set(callEntryPath(k), serializeEntry(e));
  return edits;
}

/**
 * Union of two call index trees (the trees at index/calls): equal subtrees are
 * never opened; a key on both sides keeps the newer entry (a readable one over
 * a damaged one), so every machine merging the same histories gets the same tree.
 */
export async function mergeCallTrees(store: Store, ours: string | null, theirs: string | null): Promise<string | null> {
  if (!ours || ours === theirs) return theirs ?? ours;
  if (!theirs) return ours;
  const out = new Map((await store.treeEntries(ours)).map((e) => [e.name, e]));
  for (const e of await store.treeEntries(theirs)) {
    const o = out.get(e.name);
    if (!o) out.set(e.name, e);
    else if (o.oid === e.oid) continue;
    else if (o.mode === MODE_DIR && e.mode === MODE_DIR) out.set(e.name, { ...o, oid: (await mergeCallTrees(store, o.oid, e.oid))! });
    else if (o.mode === MODE_FILE && e.mode === MODE_FILE) {
      const [a, b] = await Promise.all([store.readBlobOid(o.oid).then(parseEntry, () => null), store.readBlobOid(e.oid).then(parseEntry, () => null)]);
      if (b && (!a || newerEntry(b, a))) out.set(e.name, e);
    }
  }
  return store.writeObject('tree', encodeTree(sortTreeEntries([...out.values()])));
}

/**
 * The `index` tree a merge keeps (one side's run index), with the call index
 * of both sides merged into it: the run index is rebuilt from manifests by the
 * merge, the call index by this union.
 */
export async function withMergedCalls(store: Store, kept: TreeEntry | undefined, ours: TreeEntry | undefined, theirs: TreeEntry | undefined): Promise<TreeEntry | undefined> {
  const callsOf = async (index: TreeEntry | undefined) =>
    index?.mode === MODE_DIR ? ((await store.treeEntries(index.oid)).find((e) => e.name === 'calls' && e.mode === MODE_DIR)?.oid ?? null) : null;
  const [a, b] = await Promise.all([callsOf(ours), callsOf(theirs)]);
  if (a === b) return kept;
  const calls = await mergeCallTrees(store, a, b);
  const base = kept?.mode === MODE_DIR ? await store.treeEntries(kept.oid) : [];
  const entries = [...base.filter((e) => e.name !== 'calls'), ...(calls ? [{ mode: MODE_DIR, name: 'calls', oid: calls }] : [])];
  return { mode: MODE_DIR, name: 'index', oid: await store.writeObject('tree', encodeTree(sortTreeEntries(entries))) };
}
