// The results store handle: one repository, its readers (the repository's files
// read in-process, then one long-lived cat-file for anything they leave to git), and the
// compare-and-swap commit loop that every write goes through. A change is a
// function of the current tip, so a writer that loses a race re-applies it
// on the new tip and nothing another writer committed is lost.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { AgentvError } from '../errors.js';
import {
  CatFile,
  LocalObjects,
  MODE_DIR,
  ObjectBatch,
  MODE_FILE,
  commitIdentity,
  encodeCommit,
  encodeTree,
  openRepo,
  parseCommitMessage,
  parseTree,
  refTarget,
  rollUpPacks,
  sortTreeEntries,
  RefUpdater,
  writeObject,
  writePack,
  type Identity,
  type ObjectType,
  type Repo,
  type TreeEntry,
} from '../git/index.js';
import { RESULTS_REF, commitMessage } from './layout.js';

/** Path (relative to the root tree) → new blob content, or null to delete. */
export type Edits = Map<string, Buffer | string | null>;

export interface Tip {
  commit: string;
  tree: string;
}

/** A value, or a function read after change() ran, for trailers only the change can know. */
export type AfterChange<T> = T | (() => T);

/**
 * A commit attempt with at least this many objects is written as one pack (two
 * files and a marker) instead of loose objects (a file each, ~1 ms apiece on a
 * slow file system); the roll-up keeps the packs few.
 */
const PACK_MIN = 4;
/** Recently packed blobs kept for reading back: up to this many bytes, each at most RECENT_MAX_BLOB. */
const RECENT_BYTES = 16 << 20;
const RECENT_MAX_BLOB = 256 << 10;

const resolve = <T>(v: AfterChange<T>): T => (typeof v === 'function' ? (v as () => T)() : v);

export interface CommitRequest {
  subject: string;
  /** The run (or runs) the commit changes; each becomes an Agentv-Run trailer. */
  runId: AfterChange<string | string[] | null>;
  sourceCommit: AfterChange<string | null>;
  /** Computes the edits against the given tip; null means nothing to do. */
  change: (tip: Tip | null) => Promise<Edits | null>;
  maxAttempts?: number;
}

export interface StoreOptions {
  /** Any directory inside the repository that holds the results ref. */
  repoDir: string;
  ref?: string;
  now?: () => Date;
}

export class Store {
  readonly reader: CatFile;
  /** Objects and the ref read from the files: a one-shot read starts no git (local-objects.ts). */
  private readonly local: LocalObjects;
  /** Moves the ref (compare-and-swap) through one long-lived git process. */
  readonly updater: RefUpdater;
  private identity: Identity | null = null;
  private trees = new Map<string, TreeEntry[]>();
  private readonly recent = new Map<string, { type: ObjectType; body: Buffer }>();
  private recentBytes = 0;
  /** Counts for tests and benchmarks. */
  readonly stats = { commits: 0, casRetries: 0, packs: 0, rollUps: 0 };

  constructor(
    readonly repo: Repo,
    readonly ref: string,
    readonly now: () => Date,
  ) {
    this.reader = new CatFile(repo.root);
    this.local = new LocalObjects(repo.commonDir, repo.objectFormat);
    this.updater = new RefUpdater(repo.root, '0'.repeat(repo.objectFormat === 'sha256' ? 64 : 40));
  }

  get localDir(): string {
    return path.join(this.repo.commonDir, 'agentv');
  }

  close(): void {
    this.reader.close();
    this.local.close();
    this.updater.close();
  }

  /**
   * The ref's current commit and its tree; null before the first run. A ref
   * that names a missing or broken commit is damage (CORRUPT), never "no runs".
   */
  async tip(): Promise<Tip | null> {
    // The common case from the files: a plain ref naming a commit that is here.
    const named = this.local.ref(this.ref);
    const commit = named ? this.local.read(named) : null;
    if (commit?.type === 'commit') {
      const tree = parseCommitMessage(commit.data).tree;
      if (tree) return { commit: commit.oid, tree };
    }
    // Anything else is git's to say (absent, moving, damaged), as before.
    let info = await this.reader.info(this.ref);
    // No answer, yet the ref exists: another writer may have just created or
    // moved it (its objects are written before the ref moves); ask again while
    // the ref keeps naming objects that exist. Only a named object that stays
    // missing is damage.
    for (let i = 0; !info && i < 5; i++) {
      const target = await refTarget({ cwd: this.repo.root, ref: this.ref });
      if (target !== null && (await this.reader.info(target))) {
        info = await this.reader.info(this.ref);
        continue;
      }
      if (target === null) {
        // git ignores a ref file it cannot parse; agentv must not read that as "no runs".
        if (!existsSync(path.join(this.repo.commonDir, this.ref))) return null;
        // The ref may have been created between the lookup and this check: ask again first.
        if (i < 4) {
          info = await this.reader.info(this.ref);
          continue;
        }
        throw new AgentvError('CORRUPT', `the ref file of ${this.ref} is malformed (it holds no valid object id); restore it from a clone or remote`, {
          ref: this.ref,
        });
      }
      throw new AgentvError(
        'CORRUPT',
        `${this.ref} points at commit ${target}, which is missing from the repository: the run history cannot be read. ` +
          'Restore it from a clone or remote (agentv results pull), and check with: agentv results fsck',
        { ref: this.ref, object: target },
      );
    }
    if (!info) throw new AgentvError('CORRUPT', `${this.ref} keeps naming objects that cannot be read`, { ref: this.ref });
    const obj = await this.reader.read(info.oid);
    if (!obj || obj.type !== 'commit') {
      throw new AgentvError('CORRUPT', `${this.ref} points at ${info.oid}, which is ${obj ? `a ${obj.type}` : 'missing'}, not a commit`, {
        ref: this.ref,
        object: info.oid,
      });
    }
    const tree = parseCommitMessage(obj.data).tree;
    if (!tree) throw new AgentvError('CORRUPT', `commit ${info.oid} (the tip of ${this.ref}) names no tree`, { ref: this.ref, object: info.oid });
    return { commit: info.oid, tree };
  }

  /** Write an object in the repository's own object format, loose, at once. */
  writeObject(type: ObjectType, body: Buffer): Promise<string> {
    return writeObject({ commonDir: this.repo.commonDir, type, body, format: this.repo.objectFormat });
  }

  /**
   * Inside a commit attempt an object joins that attempt's batch (one pack, written
   * before the ref moves); without one it is written loose. The batch
   * is passed, not found through AsyncLocalStorage: an enabled AsyncLocalStorage hooks
   * every promise of the process, which cost an eval or re-grade ~5 % (measured).
   */
  private put(batch: ObjectBatch | null, type: ObjectType, body: Buffer): Promise<string> {
    if (batch) return Promise.resolve(batch.add(type, body));
    return this.writeObject(type, body);
  }

  /** Write a commit attempt's objects: one pack when there are many, else loose. */
  private async flush(batch: ObjectBatch): Promise<boolean> {
    if (batch.size >= PACK_MIN) {
      await writePack(this.repo.commonDir, batch);
      this.stats.packs++;
      this.remember(batch);
      return true;
    }
    await Promise.all([...batch.entries()].map(([, o]) => this.writeObject(o.type, o.body)));
    return false;
  }

  /** Keep this module's packs few (geometric roll-up); a failure only leaves more packs. */
  private async rollUp(): Promise<void> {
    if ((await rollUpPacks(this.repo.commonDir, this.repo.objectFormat).catch(() => 0)) > 0) this.stats.rollUps++;
  }

  /** Remember a packed batch's smaller blobs (objects never change, so a hit is always right). */
  private remember(batch: ObjectBatch): void {
    for (const [oid, o] of batch.entries()) {
      if (o.type !== 'blob' || o.body.length > RECENT_MAX_BLOB || this.recent.has(oid)) continue;
      this.recent.set(oid, o);
      this.recentBytes += o.body.length;
    }
    for (const [oid, o] of this.recent) {
      if (this.recentBytes <= RECENT_BYTES) break;
      this.recent.delete(oid);
      this.recentBytes -= o.body.length;
    }
  }

  /**
   * An object by id: among the recent blobs this store packed (the next group commit
   * reads back the call-index buckets the last one wrote), else from the files, else
   * through cat-file (null if absent).
   */
  async readObject(oid: string): Promise<{ type: string; data: Buffer } | null> {
    const o = this.recent.get(oid);
    return o ? { type: o.type, data: o.body } : (this.local.read(oid) ?? this.reader.read(oid));
  }

  /** Entries of the tree at `dir` below `treeOid` (cached: trees are immutable); null if absent. */
  async readTree(treeOid: string, dir = ''): Promise<TreeEntry[] | null> {
    let oid = treeOid;
    for (const part of dir.split('/').filter(Boolean)) {
      const entries = await this.treeEntries(oid);
      const e = entries.find((x) => x.name === part);
      if (!e || e.mode !== MODE_DIR) return null;
      oid = e.oid;
    }
    return this.treeEntries(oid);
  }

  async treeEntries(oid: string): Promise<TreeEntry[]> {
    const hit = this.trees.get(oid);
    if (hit) return hit;
    const obj = await this.readObject(oid);
    if (!obj || obj.type !== 'tree') throw new AgentvError('CORRUPT', `tree ${oid} is ${obj ? `a ${obj.type}, not a tree` : 'missing'}`, { object: oid });
    let entries: TreeEntry[];
    try {
      entries = parseTree(obj.data, this.repo.objectFormat);
    } catch {
      throw new AgentvError('CORRUPT', `tree ${oid} is malformed`, { object: oid });
    }
    if (this.trees.size > 50_000) this.trees.clear();
    this.trees.set(oid, entries);
    return entries;
  }

  /** Blob at `path` below a tree; null if absent, CORRUPT if the tree names a blob that is missing. */
  async readBlob(treeOid: string, file: string): Promise<Buffer | null> {
    const i = file.lastIndexOf('/');
    const entries = await this.readTree(treeOid, i < 0 ? '' : file.slice(0, i));
    const e = entries?.find((x) => x.name === file.slice(i + 1));
    if (!e || e.mode === MODE_DIR) return null;
    return this.readBlobOid(e.oid, file);
  }

  /** A blob by id; `file` names it in the error when it is missing. */
  async readBlobOid(oid: string, file?: string): Promise<Buffer> {
    const obj = await this.readObject(oid);
    if (!obj || obj.type !== 'blob') {
      const what = obj ? `a ${obj.type}, not a blob` : 'missing';
      throw new AgentvError('CORRUPT', `${file ?? 'blob'} (blob ${oid}) on ${this.ref} is ${what}`, { object: oid, ...(file ? { file } : {}) });
    }
    return obj.data;
  }

  /** Apply a change on the tip and move the ref by CAS, re-applying on a lost race. */
  async commit(req: CommitRequest): Promise<string | null> {
    const maxAttempts = req.maxAttempts ?? 200;
    const identity = (this.identity ??= await commitIdentity({ cwd: this.repo.root }));
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const tip = await this.tip();
      const batch = new ObjectBatch(this.repo.objectFormat);
      const commit = await (async () => {
        const edits = await req.change(tip);
        if (!edits || edits.size === 0) return null;
        const { oid: tree } = await this.editTree(tip?.tree ?? null, edits, batch);
        if (tip && tree === tip.tree) return null;
        const body = encodeCommit({
          tree,
          parents: tip ? [tip.commit] : [],
          message: commitMessage({ subject: req.subject, runId: resolve(req.runId), sourceCommit: resolve(req.sourceCommit) }),
          author: identity,
          when: this.now(),
        });
        return this.put(batch, 'commit', body);
      })();
      if (!commit) return tip?.commit ?? null;
      const packed = await this.flush(batch);
      if (await this.updater.cas({ ref: this.ref, newOid: commit, oldOid: tip?.commit ?? null })) {
        this.stats.commits++;
        if (packed) await this.rollUp();
        return commit;
      }
      this.stats.casRetries++;
      // Spread competing writers out a little; a lost race is normal, not an error.
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 ** attempt)));
    }
    const lock = path.join(this.repo.commonDir, `${this.ref}.lock`);
    if (existsSync(lock)) {
      throw new AgentvError(
        'REF_LOCKED',
        `could not move ${this.ref} after ${maxAttempts} attempts: the lock file ${lock} is still there. ` +
          `If no git or agentv command is running on this repository, remove it: rm '${lock}'`,
        { ref: this.ref, lock },
      );
    }
    throw new AgentvError('CAS_EXHAUSTED', `could not move ${this.ref} after ${maxAttempts} attempts (too many concurrent writers?)`, {
      ref: this.ref,
    });
  }

  /** Write the blobs and trees for `edits` on top of `baseTree` (loose); returns the new root tree. */
  async applyEdits(baseTree: string | null, edits: Edits): Promise<string> {
    return (await this.editTree(baseTree, edits, null)).oid;
  }

  /** applyEdits, its objects put in `batch`; says whether the tree came out empty (an emptied directory is dropped). */
  private async editTree(baseTree: string | null, edits: Edits, batch: ObjectBatch | null): Promise<{ oid: string; empty: boolean }> {
    const nested = new Map<string, Edits>();
    const local = new Map<string, Buffer | string | null>();
    for (const [p, v] of edits) {
      const i = p.indexOf('/');
      if (i < 0) local.set(p, v);
      else {
        const head = p.slice(0, i);
        let sub = nested.get(head);
        if (!sub) nested.set(head, (sub = new Map()));
        sub.set(p.slice(i + 1), v);
      }
    }
    const entries = new Map<string, TreeEntry>();
    if (baseTree) for (const e of await this.treeEntries(baseTree)) entries.set(e.name, e);
    await Promise.all(
      [...local].map(async ([name, v]) => {
        if (v === null) entries.delete(name);
        else {
          const oid = await this.put(batch, 'blob', typeof v === 'string' ? Buffer.from(v) : v);
          entries.set(name, { mode: MODE_FILE, name, oid });
        }
      }),
    );
    await Promise.all(
      [...nested].map(async ([name, sub]) => {
        const existing = entries.get(name);
        const base = existing && existing.mode === MODE_DIR ? existing.oid : null;
        const t = await this.editTree(base, sub, batch);
        if (t.empty) entries.delete(name);
        else entries.set(name, { mode: MODE_DIR, name, oid: t.oid });
      }),
    );
    const list = sortTreeEntries([...entries.values()]);
    const oid = await this.put(batch, 'tree', encodeTree(list));
    this.trees.set(oid, list);
    return { oid, empty: list.length === 0 };
  }
}

/**
 * Open the results store of the repository containing `repoDir`.
 * @example const store = await openStore({ repoDir: process.cwd() })
 */
export async function openStore({ repoDir, ref = RESULTS_REF, now = () => new Date() }: StoreOptions): Promise<Store> {
  return new Store(await openRepo({ cwd: repoDir }), ref, now);
}
