// Merging another history of the results ref (a remote's) into the local one.
// Each run directory has one writer, so two histories are a union of runs:
// shard trees are merged entry by entry (equal subtrees are never opened);
// the index of the side with more runs is kept and the other side's own runs
// are upserted into it (indexEdits), so a merge costs the runs that differ,
// not the runs stored. A run on both sides with different content is the
// same run continued on two machines: the newer manifest wins (finished over
// running, then the later finished_at, then more events), its files win name
// clashes, and the union of both sides' row chunks is kept.
// foldRuns joins several tips at once (a remote's ref and its incoming refs)
// into one merge commit by the same union. The ref moves only by
// compare-and-swap; a lost race merges again.
import { AgentvError } from '../errors.js';
import {
  MODE_DIR,
  MODE_FILE,
  commitIdentity,
  encodeCommit,
  encodeTree,
  independentCommits,
  isAncestor,
  parseCommitMessage,
  sortTreeEntries,
  updateRefCas,
  type TreeEntry,
} from '../git/index.js';
import { Manifest } from '../schemas/manifest.js';
import type { RunSummary } from '../schemas/summary.js';
import { MANIFEST_FILE, SLICES_DIR, commitMessage } from './layout.js';
import { serializeManifest } from './runs.js';
import { wholeManifest } from './slices.js';
import { IndexView, SEAL, indexEdits, summaryOf } from './run-index.js';
import { withMergedCalls } from './call-index.js';
import type { Store } from './store.js';

export type MergeKind = 'up_to_date' | 'fast_forward' | 'merged';

export interface MergeResult {
  kind: MergeKind;
  /** The local ref afterwards. */
  commit: string;
  /** How many more runs the local index lists than before. */
  newRuns: number;
  /** Runs present on both sides with different content. */
  conflicts: string[];
}

export interface MergeRequest {
  store: Store;
  /** The commit to merge, e.g. a remote-tracking ref's tip. */
  theirs: string;
  subject: string;
  /** Make blobs local in one round trip before they are read (partial clones). */
  prefetch?: (oids: string[]) => Promise<void>;
  maxAttempts?: number;
}

/**
 * Bring `theirs` into the store's ref: fast-forward when possible, else a
 * two-parent merge commit whose tree is the union of both sides.
 * @example await mergeRuns({ store, theirs: trackingTip, subject: 'merge runs from origin' })
 */
export async function mergeRuns({ store, theirs, subject, prefetch, maxAttempts = 50 }: MergeRequest): Promise<MergeResult> {
  const cwd = store.repo.root;
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    const ours = await store.tip();
    if (ours && (ours.commit === theirs || (await isAncestor({ cwd, ancestor: theirs, descendant: ours.commit })))) {
      return { kind: 'up_to_date', commit: ours.commit, newRuns: 0, conflicts: [] };
    }
    const theirsTree = await treeOf(store, theirs);
    const before = ours ? await indexSize(store, ours.tree) : 0;
    let result: MergeResult;
    if (!ours || (await isAncestor({ cwd, ancestor: ours.commit, descendant: theirs }))) {
      result = { kind: 'fast_forward', commit: theirs, newRuns: (await indexSize(store, theirsTree)) - before, conflicts: [] };
    } else {
      const merged = await mergeTrees(store, ours.tree, theirsTree, prefetch);
      const body = encodeCommit({
        tree: merged.tree,
        parents: [ours.commit, theirs],
        // The runs that differ between the two sides: what this merge joins.
        message: commitMessage({ subject, runId: merged.runIds, sourceCommit: null }),
        author: await commitIdentity({ cwd }),
        when: store.now(),
      });
      const commit = await store.writeObject('commit', body);
      result = { kind: 'merged', commit, newRuns: (await indexSize(store, merged.tree)) - before, conflicts: merged.conflicts };
    }
    if (await updateRefCas({ cwd, ref: store.ref, newOid: result.commit, oldOid: ours?.commit ?? null, message: subject })) return result;
    // A local writer committed meanwhile: merge again on its tip.
    await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 ** attempt)));
  }
  throw new AgentvError('CAS_EXHAUSTED', `could not move ${store.ref} to merge ${theirs} after ${maxAttempts} attempts`, { ref: store.ref });
}

/**
 * Bring several commits into the store's ref at once (a remote's tip and the
 * incoming refs other machines pushed): the ones no other reaches become the
 * parents of one merge commit whose tree is the union of all of them, built
 * by the same pairwise union as mergeRuns. One tip is mergeRuns itself.
 * @example await foldRuns({ store, tips: [remoteTip, ...incoming], subject: 'merge runs from origin' })
 */
export async function foldRuns({
  store,
  tips,
  subject,
  prefetch,
  maxAttempts = 50,
}: Omit<MergeRequest, 'theirs'> & { tips: string[] }): Promise<MergeResult> {
  const cwd = store.repo.root;
  if (tips.length === 0) throw new AgentvError('INTERNAL', 'foldRuns needs at least one commit to fold');
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    const ours = await store.tip();
    const heads = await independentCommits({ cwd, oids: ours ? [ours.commit, ...tips] : tips });
    const others = heads.filter((h) => h !== ours?.commit);
    if (others.length === 0) return { kind: 'up_to_date', commit: ours!.commit, newRuns: 0, conflicts: [] };
    if (others.length === 1) return mergeRuns({ store, theirs: others[0]!, subject, prefetch, maxAttempts });
    const parents = ours && heads.includes(ours.commit) ? [ours.commit, ...others] : others;
    let tree = await treeOf(store, parents[0]!);
    const conflicts = new Set<string>();
    const runIds = new Set<string>();
    for (const p of parents.slice(1)) {
      const m = await mergeTrees(store, tree, await treeOf(store, p), prefetch);
      tree = m.tree;
      for (const c of m.conflicts) conflicts.add(c);
      for (const r of m.runIds) runIds.add(r);
    }
    const body = encodeCommit({
      tree,
      parents,
      message: commitMessage({ subject, runId: [...runIds], sourceCommit: null }),
      author: await commitIdentity({ cwd }),
      when: store.now(),
    });
    const commit = await store.writeObject('commit', body);
    const before = ours ? await indexSize(store, ours.tree) : 0;
    const result: MergeResult = { kind: 'merged', commit, newRuns: (await indexSize(store, tree)) - before, conflicts: [...conflicts] };
    if (await updateRefCas({ cwd, ref: store.ref, newOid: commit, oldOid: ours?.commit ?? null, message: subject })) return result;
    await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 ** attempt)));
  }
  throw new AgentvError('CAS_EXHAUSTED', `could not move ${store.ref} to fold ${tips.length} commits after ${maxAttempts} attempts`, { ref: store.ref });
}

async function treeOf(store: Store, commit: string): Promise<string> {
  const obj = await store.readObject(commit);
  if (!obj || obj.type !== 'commit') throw new AgentvError('CORRUPT', `commit ${commit} is missing`, { commit });
  return parseCommitMessage(obj.data).tree;
}

/** Runs listed by the index of a tree, from the head and the number of sealed chunks: O(1). */
async function indexSize(store: Store, tree: string): Promise<number> {
  const view = new IndexView(store, tree);
  return ((await view.lastSealed()) + 1) * SEAL + (await view.head()).length;
}

type Side = 'ours' | 'theirs';

interface Taken {
  runId: string;
  dir: string;
  /** The run's index key on the kept index's side, when the merge changed it (a sharded run's earliest start). */
  before?: { run_id: string; started_at: string };
}

/**
 * Merges the runs/ trees. `collect` is the side whose index is NOT kept: its
 * own runs (only there, or newer there) are listed in `taken`, and only its
 * exclusive subtrees are walked, so the cost follows the smaller side.
 */
class TreeMerger {
  readonly taken: Taken[] = [];
  readonly conflicts: string[] = [];
  constructor(
    private readonly store: Store,
    private readonly collect: Side,
  ) {}

  async write(entries: Map<string, TreeEntry>): Promise<string> {
    const body = encodeTree(sortTreeEntries([...entries.values()]));
    return this.store.writeObject('tree', body);
  }

  async entries(oid: string): Promise<Map<string, TreeEntry>> {
    return new Map((await this.store.treeEntries(oid)).map((e) => [e.name, e]));
  }

  /** Record every run below a subtree only `side` has; `levels` = directory levels above the run dirs. */
  async only(side: Side, name: string, oid: string, levels: number): Promise<void> {
    if (side !== this.collect) return;
    if (levels === 0) {
      this.taken.push({ runId: name, dir: oid });
      return;
    }
    for (const e of await this.store.treeEntries(oid)) if (e.mode === MODE_DIR) await this.only(side, e.name, e.oid, levels - 1);
  }

  /** Union of a shard tree (`depth` 0 = runs/, 1 = runs/ab, 2 = runs/ab/cd whose entries are runs). */
  async shard(ours: string, theirs: string, depth: number): Promise<string> {
    if (ours === theirs) return ours;
    const out = await this.entries(ours);
    const theirEntries = await this.entries(theirs);
    for (const o of out.values()) if (!theirEntries.has(o.name) && o.mode === MODE_DIR) await this.only('ours', o.name, o.oid, 2 - depth);
    for (const e of theirEntries.values()) {
      const o = out.get(e.name);
      if (o?.oid === e.oid) continue;
      if (!o) {
        out.set(e.name, e);
        if (e.mode === MODE_DIR) await this.only('theirs', e.name, e.oid, 2 - depth);
      } else if (o.mode === MODE_DIR && e.mode === MODE_DIR) {
        const oid = depth < 2 ? await this.shard(o.oid, e.oid, depth + 1) : await this.run(e.name, o.oid, e.oid);
        out.set(e.name, { ...o, oid });
      }
    }
    return this.write(out);
  }

  /** The same run on both sides: newer manifest's side first, union of files. */
  async run(runId: string, ours: string, theirs: string): Promise<string> {
    if ((await this.isSharded(ours)) || (await this.isSharded(theirs))) return this.shardedRun(runId, ours, theirs);
    this.conflicts.push(runId);
    const winner: Side = rank(await this.manifest(theirs)) > rank(await this.manifest(ours)) ? 'theirs' : 'ours';
    const merged = winner === 'theirs' ? await this.union(theirs, ours) : await this.union(ours, theirs);
    if (winner === this.collect) this.taken.push({ runId, dir: merged });
    return merged;
  }

  /** Recursive union of two trees; `winner`'s entry is kept on a name clash. */
  async union(winner: string, loser: string): Promise<string> {
    if (winner === loser) return winner;
    const out = await this.entries(winner);
    for (const e of await this.store.treeEntries(loser)) {
      const w = out.get(e.name);
      if (!w) out.set(e.name, e);
      else if (w.mode === MODE_DIR && e.mode === MODE_DIR && w.oid !== e.oid) out.set(e.name, { ...w, oid: await this.union(w.oid, e.oid) });
    }
    return this.write(out);
  }

  async isSharded(dir: string): Promise<boolean> {
    return (await this.store.treeEntries(dir)).some((e) => e.name === SLICES_DIR && e.mode === MODE_DIR);
  }

  /**
   * Slices of one sharded run from two machines: not a conflict. Each slice's
   * part is its own directory, so the union keeps every slice (one slice on
   * both sides, continued on two machines, merges like a run: the newer part
   * wins clashes, row chunks are a union); the run's manifest.json is then
   * derived from the union's parts (slices.ts), the same on either side, and
   * its index row is upserted from it.
   */
  async shardedRun(runId: string, ours: string, theirs: string): Promise<string> {
    const out = await this.entries(ours);
    const theirEntries = await this.entries(theirs);
    for (const e of theirEntries.values()) {
      const o = out.get(e.name);
      if (!o) out.set(e.name, e);
      else if (o.oid === e.oid || e.name === MANIFEST_FILE) continue;
      else if (e.name === SLICES_DIR && o.mode === MODE_DIR && e.mode === MODE_DIR) {
        const slices = await this.entries(o.oid);
        for (const t of await this.store.treeEntries(e.oid)) {
          const mine = slices.get(t.name);
          if (!mine) slices.set(t.name, t);
          else if (mine.oid !== t.oid && mine.mode === MODE_DIR && t.mode === MODE_DIR) {
            const theirsWins = rank(await this.manifest(t.oid)) > rank(await this.manifest(mine.oid));
            slices.set(t.name, { ...mine, oid: theirsWins ? await this.union(t.oid, mine.oid) : await this.union(mine.oid, t.oid) });
          }
        }
        out.set(SLICES_DIR, { ...o, oid: await this.write(slices) });
      } else if (o.mode === MODE_DIR && e.mode === MODE_DIR) out.set(e.name, { ...o, oid: await this.union(o.oid, e.oid) });
    }
    const mine = await this.manifest(ours);
    const yours = await this.manifest(theirs);
    const parts: Manifest[] = [];
    const slicesOid = out.get(SLICES_DIR)?.oid;
    for (const p of slicesOid ? await this.store.treeEntries(slicesOid) : []) {
      const part = p.mode === MODE_DIR ? await this.manifest(p.oid) : null;
      if (part?.slice) parts.push(part);
    }
    // The earlier-started side's manifest.json is the base (what every slice shares);
    // the planned set is both sides' and every part's.
    const base = !mine ? yours : !yours ? mine : yours.started_at < mine.started_at ? yours : mine;
    const count = base?.slices?.count ?? parts[0]?.slice?.count;
    if (!base || !count) return this.write(out);
    const other = base === mine ? yours : mine;
    const seen = new Set(base.planned_tests.map((p) => p.test_id));
    const planned = [...base.planned_tests, ...(other?.planned_tests ?? []).filter((p) => !seen.has(p.test_id))];
    const whole = Manifest.parse(wholeManifest({ ...base, planned_tests: planned }, parts, count));
    out.set(MANIFEST_FILE, { mode: MODE_FILE, name: MANIFEST_FILE, oid: await this.store.writeObject('blob', Buffer.from(serializeManifest(whole))) });
    const dir = await this.write(out);
    // Both indexes have a row for this run, and neither is this one: upsert it whichever index is kept.
    const kept = this.collect === 'ours' ? yours : mine;
    const before = kept && kept.started_at !== whole.started_at ? { run_id: runId, started_at: kept.started_at } : undefined;
    this.taken.push({ runId, dir, ...(before ? { before } : {}) });
    return dir;
  }

  async manifestOid(dir: string): Promise<string | null> {
    return (await this.store.treeEntries(dir)).find((e) => e.name === MANIFEST_FILE)?.oid ?? null;
  }

  async manifest(dir: string): Promise<Manifest | null> {
    const oid = await this.manifestOid(dir);
    if (!oid) return null;
    try {
      const parsed = Manifest.safeParse(JSON.parse((await this.store.readBlobOid(oid)).toString('utf8')));
      return parsed.success ? parsed.data : null;
    } catch {
      // A damaged manifest loses to any readable one; reindex reports it.
      return null;
    }
  }
}

/** Orders two states of one run: present, then finished, then later finished_at, then more events. */
function rank(m: Manifest | null): string {
  if (!m) return '0';
  const done = m.status === 'running' ? '0' : '1';
  return `1${done}${m.finished_at ?? ''}\u0000${String(m.events.length).padStart(8, '0')}`;
}

async function mergeTrees(
  store: Store,
  ours: string,
  theirs: string,
  prefetch?: (oids: string[]) => Promise<void>,
): Promise<{ tree: string; conflicts: string[]; runIds: string[] }> {
  // Keep the bigger index (a CI job's one new run merges into the shared history, not the reverse).
  const base: Side = (await indexSize(store, theirs)) > (await indexSize(store, ours)) ? 'theirs' : 'ours';
  const m = new TreeMerger(store, base === 'ours' ? 'theirs' : 'ours');
  const root = await m.entries(ours);
  const theirRoot = await m.entries(theirs);
  for (const e of theirRoot.values()) {
    const o = root.get(e.name);
    if (e.name === 'index' || o?.oid === e.oid) continue;
    if (e.name === 'runs' && e.mode === MODE_DIR) {
      if (o?.mode === MODE_DIR) root.set('runs', { ...o, oid: await m.shard(o.oid, e.oid, 0) });
      else {
        root.set('runs', e);
        await m.only('theirs', 'runs', e.oid, 3);
      }
    } else if (e.name === 'inputs' && e.mode === MODE_DIR && o?.mode === MODE_DIR) {
      // Content-addressed: a name on both sides is the same input, so a plain union is exact.
      root.set('inputs', { ...o, oid: await m.union(o.oid, e.oid) });
    } else if (!o) root.set(e.name, e);
  }
  const oursRuns = root.get('runs');
  if (oursRuns && !theirRoot.has('runs')) await m.only('ours', 'runs', oursRuns.oid, 3);
  // One side's run index (the other side's runs are upserted below), with both sides' call indexes merged in.
  const index = await withMergedCalls(store, (base === 'ours' ? root : theirRoot).get('index'), root.get('index'), theirRoot.get('index'));
  if (index) root.set('index', index);
  else root.delete('index');
  const tree = await m.write(root);
  // Index rows for the other side's runs, from their manifests (the index is
  // a projection of manifests, so this is what reindex would write).
  const oids = (await Promise.all(m.taken.map((t) => m.manifestOid(t.dir)))).filter((x): x is string => x !== null);
  if (prefetch && oids.length) await prefetch(oids);
  const summaries: RunSummary[] = [];
  for (const t of m.taken) {
    const manifest = await m.manifest(t.dir);
    if (manifest && manifest.run_id === t.runId) summaries.push(summaryOf(manifest));
  }
  const moved = m.taken.flatMap((t) => (t.before ? [t.before] : []));
  return {
    tree: summaries.length ? await store.applyEdits(tree, await indexEdits(store, tree, summaries, moved)) : tree,
    conflicts: m.conflicts,
    runIds: [...new Set(m.taken.map((t) => t.runId))],
  };
}
