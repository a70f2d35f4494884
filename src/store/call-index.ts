// The call index (SPEC 3.9): call key → where the newest reusable row of that
// call lives, so `eval --reuse` finds a test's earlier output without ever
// scanning runs. It is a projection of the rows:
// - the write path (createRun, updateRun) adds the rows it commits, in the
//   same commit, keeping an existing entry that is newer;
// - a merge of two histories takes the union, the newer entry on a clash;
// - `results reindex` rebuilds it from every run's rows and `--check` proves it.
// Which rows it holds, and reading them back: call-rows.ts.
//
// Layout: a trie of bucket files under index/calls/. The root's children are
// named by a key's first two hex digits; a child is a bucket (a blob of entry
// lines, one per call key, sorted by key) while it holds at most BUCKET_MAX
// entries, and otherwise a tree whose children are named by the key's next hex
// digit, and so on down. The shape is a function of the set of entries alone,
// so the write path, a merge and a rebuild all arrive at the same tree. A
// commit of k rows rewrites at most k buckets (one blob each, shared by every
// row that falls in it) instead of one blob and two trees per row; a lookup
// of n keys reads at most one bucket per key and, in a history of up to
// 256 x BUCKET_MAX distinct calls, at most 256 buckets however large n is.
import { canonicalJson } from '../canonical-json.js';
import { MODE_DIR, MODE_FILE, encodeTree, objectId, sortTreeEntries, type TreeEntry } from '../git/index.js';
import { CallIndexLine, type CallIndexEntry } from '../schemas/call-index.js';
import { CALLS_DIR } from './layout.js';
import type { Edits, Store } from './store.js';

/** What a call key looks like (hex of a hash). */
export const CALL_KEY_RE = /^[0-9a-f]{16,128}$/;
const KEY_RE = CALL_KEY_RE;

/** A bucket holding more entries than this becomes a tree of 16 buckets (by the next hex digit). */
export const BUCKET_MAX = 256;

/** Entry lines by call key, as a bucket stores them (canonical JSON, no newline). */
type Lines = Map<string, string>;

/** The order of entries of one call key: later finished_at wins, then run id, file, line (deterministic on every machine). */
function rank(e: CallIndexEntry): string {
  return `${e.finished_at}\u0000${e.run_id}\u0000${e.file}\u0000${String(e.line).padStart(9, '0')}`;
}

export function newerEntry(a: CallIndexEntry, b: CallIndexEntry | null): boolean {
  return b === null || rank(a) > rank(b);
}

/** One bucket line: the entry with its key, as canonical JSON (so `call_key` comes first). */
function entryLine(callKey: string, e: CallIndexEntry): string {
  return canonicalJson({ call_key: callKey, run_id: e.run_id, test_id: e.test_id, file: e.file, line: e.line, finished_at: e.finished_at });
}

const LINE_HEAD = '{"call_key":"';

/** The call key a bucket line names (read without parsing the rest), or null. */
function keyOfLine(line: string): string | null {
  if (!line.startsWith(LINE_HEAD)) return null;
  const end = line.indexOf('"', LINE_HEAD.length);
  const key = end < 0 ? '' : line.slice(LINE_HEAD.length, end);
  return KEY_RE.test(key) ? key : null;
}

/** The entry of a bucket line (null when it does not parse). */
function parseLine(line: string): CallIndexEntry | null {
  try {
    const parsed = CallIndexLine.safeParse(JSON.parse(line));
    if (!parsed.success) return null;
    const { call_key: _, ...entry } = parsed.data;
    return entry;
  } catch {
    return null;
  }
}

/** A bucket's lines by key. A line whose key cannot be read is left out (the index then misses it: fsck reports drift). */
function parseBucket(buf: Buffer, only?: Set<string>): Lines {
  const out: Lines = new Map();
  for (const line of buf.toString('utf8').split('\n')) {
    const key = keyOfLine(line);
    if (key && (!only || only.has(key))) out.set(key, line);
  }
  return out;
}

function bucketText(lines: Lines): string {
  let text = '';
  for (const key of [...lines.keys()].sort()) text += `${lines.get(key)}\n`;
  return text;
}

/** The name of the trie node at `depth` (1 = a child of index/calls) that holds `key`. */
function nodeName(key: string, depth: number): string {
  return depth === 1 ? key.slice(0, 2) : key.charAt(depth);
}

function groupBy(keys: Iterable<string>, depth: number): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const k of keys) {
    const name = nodeName(k, depth);
    const list = out.get(name);
    if (list) list.push(k);
    else out.set(name, [k]);
  }
  return out;
}

function pick(lines: Lines, keys: string[]): Lines {
  return new Map(keys.map((k) => [k, lines.get(k)!]));
}

/** `a` with `b`'s lines added, the newer entry (a readable one over a damaged one) on a clash. */
function unionLines(a: Lines, b: Lines): Lines {
  const out = new Map(a);
  for (const [k, line] of b) {
    const mine = out.get(k);
    if (mine === undefined || mine === line) {
      out.set(k, line);
      continue;
    }
    const [x, y] = [parseLine(mine), parseLine(line)];
    if (y && (!x || newerEntry(y, x))) out.set(k, line);
  }
  return out;
}

/**
 * The trie node holding exactly these lines at `depth`: a bucket, or a tree of
 * smaller nodes once there are more than BUCKET_MAX. `put` writes (or only
 * hashes) an object and returns its id.
 */
async function buildNode(put: (type: 'blob' | 'tree', body: Buffer) => Promise<string> | string, lines: Lines, depth: number): Promise<{ mode: string; oid: string }> {
  if (lines.size <= BUCKET_MAX || depth >= 16) return { mode: MODE_FILE, oid: await put('blob', Buffer.from(bucketText(lines))) };
  const entries: TreeEntry[] = [];
  for (const [name, keys] of groupBy(lines.keys(), depth + 1)) entries.push({ name, ...(await buildNode(put, pick(lines, keys), depth + 1)) });
  return { mode: MODE_DIR, oid: await put('tree', encodeTree(sortTreeEntries(entries))) };
}

/** Edits that put exactly these lines at the node `path` (depth `depth`), split as the layout says. */
function nodeEdits(path: string, lines: Lines, depth: number, edits: Edits): void {
  if (lines.size <= BUCKET_MAX || depth >= 16) {
    edits.set(path, bucketText(lines));
    return;
  }
  for (const [name, keys] of groupBy(lines.keys(), depth + 1)) nodeEdits(`${path}/${name}`, pick(lines, keys), depth + 1, edits);
}

async function readBucket(store: Store, oid: string, only?: Set<string>): Promise<Lines> {
  const obj = await store.readObject(oid);
  return obj?.type === 'blob' ? parseBucket(obj.data, only) : new Map();
}

/**
 * Walk the trie under `node` (a tree's entries) to the buckets holding `keys`,
 * each tree and bucket read once however many keys fall in it, the reads
 * pipelined through the one cat-file reader; `visit` gets each bucket's
 * entry (absent: no key of the group is indexed) with the keys that fall in it.
 */
async function walk(store: Store, node: TreeEntry[], keys: string[], depth: number, visit: (bucket: TreeEntry | null, keys: string[], depth: number, path: string[]) => Promise<void>, path: string[] = []): Promise<void> {
  const byName = new Map(node.map((e) => [e.name, e]));
  await Promise.all(
    [...groupBy(keys, depth)].map(async ([name, group]) => {
      const child = byName.get(name);
      if (child?.mode === MODE_DIR) await walk(store, await store.treeEntries(child.oid), group, depth + 1, visit, [...path, name]);
      else await visit(child ?? null, group, depth, [...path, name]);
    }),
  );
}

/** Entries of these call keys in a tree (null where none, or where the line does not parse). */
export async function lookupCalls(store: Store, tree: string, keys: Iterable<string>): Promise<Map<string, CallIndexEntry | null>> {
  const wanted = [...new Set(keys)].filter((k) => KEY_RE.test(k));
  const out = new Map<string, CallIndexEntry | null>(wanted.map((k) => [k, null]));
  const root = wanted.length ? await store.readTree(tree, CALLS_DIR) : null;
  if (!root) return out;
  await walk(store, root, wanted, 1, async (bucket, group) => {
    if (!bucket) return;
    for (const [k, line] of await readBucket(store, bucket.oid, new Set(group))) out.set(k, parseLine(line));
  });
  return out;
}

/** Whether the tree has a call index at all (stores written before it have none until reindex). */
export async function hasCallIndex(store: Store, tree: string): Promise<boolean> {
  return (await store.readTree(tree, CALLS_DIR)) !== null;
}

/**
 * Edits that add these entries to the index at `tree`, each only where it is
 * newer than the entry already there (concurrent writers and resumes of old
 * runs keep the index equal to a rebuild): each bucket they fall in is read
 * and written once.
 */
export async function callIndexEdits(store: Store, tree: string | null, entries: Map<string, CallIndexEntry>, edits: Edits = new Map()): Promise<Edits> {
  if (entries.size === 0) return edits;
  const fresh: Lines = new Map([...entries].map(([k, e]) => [k, entryLine(k, e)]));
  const root = tree ? await store.readTree(tree, CALLS_DIR) : null;
  if (!root) {
    for (const [name, keys] of groupBy(fresh.keys(), 1)) nodeEdits(`${CALLS_DIR}/${name}`, pick(fresh, keys), 1, edits);
    return edits;
  }
  await walk(store, root, [...fresh.keys()], 1, async (bucket, keys, depth, path) => {
    const existing = bucket ? await readBucket(store, bucket.oid) : new Map<string, string>();
    const merged = unionLines(existing, pick(fresh, keys));
    if (merged.size !== existing.size || keys.some((k) => merged.get(k) !== existing.get(k))) nodeEdits(`${CALLS_DIR}/${path.join('/')}`, merged, depth, edits);
  });
  return edits;
}

/** The index as stored: call key → its entry (null when its line does not parse). */
export async function readCallIndex(store: Store, tree: string): Promise<Map<string, CallIndexEntry | null>> {
  const out = new Map<string, CallIndexEntry | null>();
  const visit = async (node: TreeEntry[]): Promise<void> => {
    await Promise.all(
      node.map(async (e) => {
        if (e.mode === MODE_DIR) await visit(await store.treeEntries(e.oid));
        else for (const [k, line] of await readBucket(store, e.oid)) out.set(k, parseLine(line));
      }),
    );
  };
  await visit((await store.readTree(tree, CALLS_DIR)) ?? []);
  return out;
}

export type CallDrift = { call_key: string; kind: 'missing' | 'extra' | 'different' | 'layout' };

function diffEntries(expected: Map<string, CallIndexEntry>, actual: Map<string, CallIndexEntry | null>): CallDrift[] {
  const drift: CallDrift[] = [];
  for (const [k, e] of expected) {
    const a = actual.get(k);
    if (a === undefined) drift.push({ call_key: k, kind: 'missing' });
    else if (a === null || entryLine(k, a) !== entryLine(k, e)) drift.push({ call_key: k, kind: 'different' });
  }
  for (const k of actual.keys()) if (!expected.has(k)) drift.push({ call_key: k, kind: 'extra' });
  return drift;
}

/**
 * How the index at `tree` differs from `expected` (a rebuild). Equal trees are
 * proved by one hash of the expected tree, computed without writing; otherwise
 * every entry is compared, and a tree with the right entries in the wrong shape
 * (a bucket over its size, a key in the wrong bucket) is one `layout` drift.
 */
export async function checkCallIndex(store: Store, tree: string, expected: Map<string, CallIndexEntry>): Promise<CallDrift[]> {
  const actual = (await store.readTree(tree, 'index'))?.find((e) => e.name === 'calls');
  const canonical = await canonicalCallTree(store, expected);
  if ((actual?.mode === MODE_DIR ? actual.oid : null) === canonical) return [];
  const drift = diffEntries(expected, await readCallIndex(store, tree));
  return drift.length ? drift : [{ call_key: '', kind: 'layout' }];
}

/** The id of the index/calls tree holding exactly these entries (null: none), hashed without writing. */
export async function canonicalCallTree(store: Store, entries: Map<string, CallIndexEntry>): Promise<string | null> {
  if (entries.size === 0) return null;
  const put = (type: 'blob' | 'tree', body: Buffer) => objectId(type, body, store.repo.objectFormat);
  const lines: Lines = new Map([...entries].map(([k, e]) => [k, entryLine(k, e)]));
  const children: TreeEntry[] = [];
  for (const [name, keys] of groupBy(lines.keys(), 1)) children.push({ name, ...(await buildNode(put, pick(lines, keys), 1)) });
  return put('tree', encodeTree(sortTreeEntries(children)));
}

/** Edits that replace the whole call index with these entries. */
export function callIndexFiles(entries: Map<string, CallIndexEntry>, edits: Edits = new Map()): Edits {
  edits.set(CALLS_DIR, null);
  const lines: Lines = new Map([...entries].map(([k, e]) => [k, entryLine(k, e)]));
  for (const [name, keys] of groupBy(lines.keys(), 1)) nodeEdits(`${CALLS_DIR}/${name}`, pick(lines, keys), 1, edits);
  return edits;
}

/** Every line in the trie node `e` (a bucket or a tree of them). */
async function linesUnder(store: Store, e: TreeEntry): Promise<Lines> {
  if (e.mode !== MODE_DIR) return readBucket(store, e.oid);
  const parts = await Promise.all((await store.treeEntries(e.oid)).map((c) => linesUnder(store, c)));
  return new Map(parts.flatMap((p) => [...p]));
}

/**
 * Union of two trie nodes at `depth` (0: the index/calls trees themselves):
 * equal nodes are never opened, trees merge child by child, and where a bucket
 * meets a bucket or a tree their lines are united and laid out again, so every
 * machine merging the same histories gets the same tree.
 */
async function mergeNodes(store: Store, a: TreeEntry, b: TreeEntry, depth: number): Promise<{ mode: string; oid: string }> {
  if (a.oid === b.oid) return a;
  if (a.mode === MODE_DIR && b.mode === MODE_DIR) {
    const out = new Map((await store.treeEntries(a.oid)).map((e) => [e.name, e]));
    for (const e of await store.treeEntries(b.oid)) {
      const o = out.get(e.name);
      out.set(e.name, o ? { name: e.name, ...(await mergeNodes(store, o, e, depth + 1)) } : e);
    }
    return { mode: MODE_DIR, oid: await store.writeObject('tree', encodeTree(sortTreeEntries([...out.values()]))) };
  }
  const [x, y] = await Promise.all([linesUnder(store, a), linesUnder(store, b)]);
  return buildNode((type, body) => store.writeObject(type, body), unionLines(x, y), depth);
}

/** Union of two call index trees (the trees at index/calls). */
export async function mergeCallTrees(store: Store, ours: string | null, theirs: string | null): Promise<string | null> {
  if (!ours || ours === theirs) return theirs ?? ours;
  if (!theirs) return ours;
  return (await mergeNodes(store, { mode: MODE_DIR, name: 'calls', oid: ours }, { mode: MODE_DIR, name: 'calls', oid: theirs }, 0)).oid;
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
