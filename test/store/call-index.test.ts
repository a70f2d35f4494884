// The call index's trie of buckets (src/store/call-index.ts): whatever order
// entries arrive in — commit by commit, merged from two histories, or rebuilt at
// once — the tree is the same canonical one, lookups find the newest entry, and
// a damaged or misshapen index is reported.
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { CallIndexEntry } from '../../src/schemas/call-index.js';
import {
  BUCKET_MAX,
  CALLS_DIR,
  callIndexEdits,
  callIndexFiles,
  canonicalCallTree,
  checkCallIndex,
  lookupCalls,
  mergeCallTrees,
  openStore,
  readCallIndex,
  type Store,
} from '../../src/store/index.js';
import { cleanupRepos, makeRepo } from '../helpers/repo.js';

afterEach(cleanupRepos);

const key = (s: string, prefix = '') => (prefix + createHash('sha256').update(s).digest('hex')).slice(0, 64);
const entry = (run: string, n: number, at = '2026-12-01T10:00:00.000Z'): CallIndexEntry => ({ run_id: run, test_id: `t${n}`, file: 'rows/000001.jsonl', line: n + 1, finished_at: at });

/** Commit these entries through the write path; returns the new root tree. */
async function add(store: Store, entries: Map<string, CallIndexEntry>): Promise<string> {
  await store.commit({ subject: 'calls', runId: null, sourceCommit: null, change: async (tip) => callIndexEdits(store, tip?.tree ?? null, entries) });
  return (await store.tip())!.tree;
}

async function callsOid(store: Store, tree: string): Promise<string | null> {
  return (await store.readTree(tree, 'index'))?.find((e) => e.name === 'calls')?.oid ?? null;
}

/** Entries enough to split one first-level bucket (all under prefix "ab") plus some spread over others. */
function manyEntries(run: string, at?: string): Map<string, CallIndexEntry> {
  const out = new Map<string, CallIndexEntry>();
  for (let i = 0; i < BUCKET_MAX + 60; i++) out.set(`ab${key(`${run}-ab-${i}`).slice(2)}`, entry(run, i, at));
  for (let i = 0; i < 200; i++) out.set(key(`${run}-spread-${i}`), entry(run, 1000 + i, at));
  return out;
}

describe('call index trie', () => {
  it('written commit by commit equals the rebuild, splits a full bucket, and keeps the newest entry', async () => {
    const store = await openStore({ repoDir: makeRepo() });
    try {
      const all = manyEntries('run-a');
      const keys = [...all.keys()];
      // Arrive in uneven batches, as group commits would.
      let tree = '';
      for (let i = 0; i < keys.length; i += 97) tree = await add(store, new Map(keys.slice(i, i + 97).map((k) => [k, all.get(k)!])));
      expect(await checkCallIndex(store, tree, all)).toEqual([]);
      // The "ab" bucket passed BUCKET_MAX entries: it is a tree of buckets now; others stay buckets.
      const root = (await store.readTree(tree, CALLS_DIR))!;
      expect(root.find((e) => e.name === 'ab')!.mode).toBe('40000');
      expect(root.filter((e) => e.name !== 'ab').every((e) => e.mode === '100644')).toBe(true);

      // An older entry for a known key is ignored; a newer one replaces it.
      const [k1, k2] = keys;
      tree = await add(store, new Map([[k1!, entry('run-old', 5, '2026-01-01T00:00:00.000Z')], [k2!, entry('run-new', 6, '2027-01-01T00:00:00.000Z')]]));
      const found = await lookupCalls(store, tree, [k1!, k2!, key('never written')]);
      expect(found.get(k1!)?.run_id).toBe('run-a');
      expect(found.get(k2!)?.run_id).toBe('run-new');
      expect(found.get(key('never written'))).toBeNull();
      all.set(k2!, entry('run-new', 6, '2027-01-01T00:00:00.000Z'));
      expect(await checkCallIndex(store, tree, all)).toEqual([]);
      expect((await readCallIndex(store, tree)).size).toBe(all.size);
    } finally {
      store.close();
    }
  });

  it('a merge of two histories is their union, newest entry per key, laid out as a rebuild would', async () => {
    const store = await openStore({ repoDir: makeRepo() });
    try {
      // Ours: a few entries under "ab" (a bucket). Theirs: enough under "ab" to be a tree, and a clash on one key.
      const ours = new Map([...manyEntries('run-a')].slice(0, 20));
      const theirs = manyEntries('run-b', '2026-12-02T00:00:00.000Z');
      const clash = [...ours.keys()][0]!;
      theirs.set(clash, entry('run-b', 7, '2026-12-02T00:00:00.000Z'));
      const a = await callsOid(store, await add(store, ours));
      const b = await callsOid(store, await store.applyEdits(null, callIndexFiles(theirs)));
      const union = new Map([...ours, ...theirs]);
      const expected = await canonicalCallTree(store, union);
      expect(await mergeCallTrees(store, a, b)).toBe(expected);
      expect(await mergeCallTrees(store, b, a)).toBe(expected);
      // Two buckets whose union passes BUCKET_MAX split as a rebuild would.
      const left = new Map([...theirs].slice(0, 150));
      const right = new Map([...theirs].slice(150, 320));
      const l = await callsOid(store, await store.applyEdits(null, callIndexFiles(left)));
      const r = await callsOid(store, await store.applyEdits(null, callIndexFiles(right)));
      expect(await mergeCallTrees(store, l, r)).toBe(await canonicalCallTree(store, new Map([...left, ...right])));
    } finally {
      store.close();
    }
  });

  it('reports a damaged line, a missing entry and a misshapen tree', async () => {
    const store = await openStore({ repoDir: makeRepo() });
    try {
      const all = manyEntries('run-a');
      const tree = await add(store, all);
      const [k1] = all.keys();
      // One line garbled in its bucket (found through a lookup path), one key missing from the expectation.
      const bucketPath = async (k: string): Promise<string> => {
        let path = `${CALLS_DIR}/${k.slice(0, 2)}`;
        for (let d = 2; (await store.readTree(tree, path)) !== null; d++) path += `/${k.charAt(d)}`;
        return path;
      };
      const p = await bucketPath(k1!);
      const text = (await store.readBlob(tree, p))!.toString('utf8').replace(`"call_key":"${k1}","file"`, `"call_key":"${k1}","file":1,"x"`);
      const damaged = await store.applyEdits(tree, new Map([[p, text]]));
      expect(await checkCallIndex(store, damaged, all)).toEqual([{ call_key: k1, kind: 'different' }]);
      const fewer = new Map(all);
      fewer.delete(k1!);
      expect(await checkCallIndex(store, tree, fewer)).toEqual([{ call_key: k1, kind: 'extra' }]);
      // Every entry in one flat bucket per first-level prefix: right entries, wrong shape.
      const flat = new Map<string, string>();
      for (const e of (await store.readTree(tree, CALLS_DIR))!) {
        if (e.mode !== '40000') continue;
        const lines = [...(await readCallIndex(store, tree))].filter(([k]) => k.startsWith(e.name)).map(([k]) => k).sort();
        const bodies = await Promise.all(lines.map(async (k) => (await store.readBlob(tree, await bucketPath(k)))!.toString('utf8').split('\n').find((l) => l.includes(k))!));
        flat.set(`${CALLS_DIR}/${e.name}`, `${bodies.join('\n')}\n`);
      }
      const misshapen = await store.applyEdits(tree, new Map<string, string | null>([[`${CALLS_DIR}/ab`, null], ...flat]));
      expect(await checkCallIndex(store, misshapen, all)).toEqual([{ call_key: '', kind: 'layout' }]);
    } finally {
      store.close();
    }
  });
});
