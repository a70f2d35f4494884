// Sharing the results ref through git remotes (SPEC 3.6). Fetches land in
// tracking refs, refs/agentv/remotes/<remote>/runs/v1 and .../incoming/*, and
// are merged into the local ref by CAS. A push moves the remote's results ref
// by fast-forward and deletes the incoming refs it folded, atomically; when
// another machine got there first it pushes to an incoming ref of its own
// (refs/agentv/incoming/<unique>) instead, which no one else writes, so a push
// never loses a race and nothing is ever forced. The user's remote.* config is
// never written, and its refspecs are never used.
import type { PullResult, PushResult } from '../schemas/results.js';
import { existsSync, promises as fsp } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { AgentvError } from '../errors.js';
import { deleteRefCas, fetchObjects, fetchRefs, initPartialCache, isPromisor, listRefs, listRemotes, mayHaveRefs, openRepo, pushRefs, setTrackingRef, type PushRefsResult } from '../git/index.js';
import { RESULTS_REF } from './layout.js';
import type { MergeKind } from './merge.js';
import { Store } from './store.js';

export const trackingRef = (name: string): string => `refs/agentv/remotes/${name}/runs/v1`;

/** A remote as git is told it (a name, URL or path) and the name its tracking ref uses. */
export interface RemoteSpec {
  remote: string;
  name?: string;
}

/**
 * The remote to use: the one asked for, else `origin`, else the only remote.
 * @example const remote = await chooseRemote({ store, remote: opts.remote })
 */
export async function chooseRemote({ store, remote }: { store: Store; remote?: string }): Promise<string> {
  const names = await listRemotes({ cwd: store.repo.root });
  if (remote !== undefined) {
    if (names.includes(remote)) return remote;
    throw new AgentvError('USAGE', `no remote named ${JSON.stringify(remote)} in ${store.repo.root}${names.length ? ` (remotes: ${names.join(', ')})` : ''}`, { remote });
  }
  if (names.includes('origin')) return 'origin';
  if (names.length === 1) return names[0]!;
  if (names.length === 0) {
    throw new AgentvError('CONFIG', `${store.repo.root} has no git remote; add one with: git remote add origin <url>`, { repo: store.repo.root });
  }
  throw new AgentvError('USAGE', `several remotes (${names.join(', ')}) and none is origin: choose one with --remote NAME`, { remotes: names });
}

/** Where machines that lost a push race leave their runs: one ref per push, which nobody else writes. */
export const INCOMING_PREFIX = 'refs/agentv/incoming/';
export const trackingIncoming = (name: string): string => `refs/agentv/remotes/${name}/incoming/`;

/** An incoming ref: a machine's runs waiting to be folded into the results ref. */
export interface IncomingRef {
  /** Its name where it lives, e.g. refs/agentv/incoming/20261201T081500Z-ci-7-3f9a0c2d1e4b. */
  ref: string;
  oid: string;
}

/**
 * The incoming refs of the store's own repository (present when other
 * machines push to it), e.g. for `results fsck` to check.
 * @example const pending = await listIncoming({ store })
 */
export async function listIncoming({ store }: { store: Store }): Promise<IncomingRef[]> {
  // Most repositories never have any: then no `git for-each-ref` is started (`runs list` asks every time).
  if (!mayHaveRefs({ commonDir: store.repo.commonDir, prefix: INCOMING_PREFIX })) return [];
  return listRefs({ cwd: store.repo.root, prefix: INCOMING_PREFIX });
}

export interface FoldResult {
  /** The incoming refs merged into the results ref (and deleted unless they moved meanwhile). */
  folded: IncomingRef[];
  result: MergeKind | 'nothing_to_fold';
  new_runs: number;
}

/**
 * Fold the store's own incoming refs into its results ref (one union merge,
 * never forcing) and delete each by compare-and-swap, so an incoming ref
 * written meanwhile survives for the next fold. What a reader of a
 * repository that machines push to (a bare results repository) does first.
 * @example await foldIncoming({ store })
 */
export async function foldIncoming({ store }: { store: Store }): Promise<FoldResult> {
  const incoming = await listIncoming({ store });
  if (incoming.length === 0) return { folded: [], result: 'nothing_to_fold', new_runs: 0 };
  // Merging loads only when there is something to fold (`runs list` asks on every call).
  const { foldRuns } = await import('./merge.js');
  const m = await foldRuns({ store, tips: incoming.map((i) => i.oid), subject: 'fold incoming runs' });
  for (const i of incoming) await deleteRefCas({ cwd: store.repo.root, ref: i.ref, oldOid: i.oid });
  return { folded: incoming, result: m.kind, new_runs: m.newRuns };
}

export interface FetchResult {
  /** The remote's results commit, or null when it has no runs yet. */
  fetched: string | null;
  /** The remote's incoming refs (names on the remote) as fetched. */
  incoming: IncomingRef[];
  /** True when blobs were left on the remote (agentv's partial cache). */
  partial: boolean;
}

/**
 * Fetch the remote's results ref and its incoming refs, in one round trip,
 * into tracking refs (incoming ones pruned when gone); blob-less in a partial clone.
 */
export async function fetchRuns({ store, remote, name = remote }: { store: Store } & RemoteSpec): Promise<FetchResult> {
  const cwd = store.repo.root;
  const partial = await isPromisor({ cwd, remote });
  const filter = partial ? 'blob:none' : undefined;
  const incomingSpec = `+${INCOMING_PREFIX}*:${trackingIncoming(name)}*`;
  const got = await fetchRefs({ cwd, remote, refspecs: [`+${RESULTS_REF}:${trackingRef(name)}`, incomingSpec], filter, prune: true });
  // No results ref there yet: its incoming refs may still hold runs.
  if (got === 'missing') await fetchRefs({ cwd, remote, refspecs: [incomingSpec], filter, prune: true });
  const prefix = trackingIncoming(name);
  const tracked = await listRefs({ cwd, prefix: `refs/agentv/remotes/${name}/` });
  const fetched = got === 'ok' ? (tracked.find((r) => r.ref === trackingRef(name))?.oid ?? null) : null;
  const incoming = tracked.filter((r) => r.ref.startsWith(prefix)).map((r) => ({ ref: INCOMING_PREFIX + r.ref.slice(prefix.length), oid: r.oid }));
  return { fetched, incoming, partial };
}

/** The `results pull --json` document (src/schemas/results.ts). */
export type { PullResult };

/**
 * Fetch, then merge the remote's results ref and incoming refs into the local
 * ref (fast-forward when possible).
 * @example const r = await pullRuns({ store, remote: 'origin' })
 */
export async function pullRuns({ store, remote, name = remote }: { store: Store } & RemoteSpec): Promise<PullResult> {
  return (await pullDetailed({ store, remote, name })).pull;
}

async function pullDetailed({ store, remote, name = remote }: { store: Store } & RemoteSpec): Promise<{ pull: PullResult; incoming: IncomingRef[] }> {
  const f = await fetchRuns({ store, remote, name });
  const base = { remote, fetched: f.fetched, incoming: f.incoming.length, partial: f.partial };
  const tips = [...(f.fetched ? [f.fetched] : []), ...f.incoming.map((i) => i.oid)];
  if (tips.length === 0) {
    const tip = await store.tip();
    return { pull: { ...base, result: 'no_remote_runs', commit: tip?.commit ?? null, new_runs: 0, conflicts: [] }, incoming: [] };
  }
  const cwd = store.repo.root;
  const { foldRuns } = await import('./merge.js');
  const m = await foldRuns({
    store,
    tips,
    subject: `merge runs from ${name}`,
    prefetch: f.partial ? (oids) => fetchObjects({ cwd, remote, oids }) : undefined,
  });
  return { pull: { ...base, result: m.kind, commit: m.commit, new_runs: m.newRuns, conflicts: m.conflicts }, incoming: f.incoming };
}

/** The `results push --json` document (src/schemas/results.ts). */
export type { PushResult };

/** 10 minutes: SPEC 3.6's default for --push-timeout. */
export const DEFAULT_PUSH_TIMEOUT_MS = 10 * 60_000;

/** A name no other push uses: time, host, randomness. */
function incomingName(now: Date): string {
  const host = os.hostname().replace(/[^A-Za-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 32) || 'host';
  const time = now.toISOString().replace(/[-:]|\.\d+/g, '');
  return `${INCOMING_PREFIX}${time}-${host}-${randomBytes(6).toString('hex')}`;
}

const safe = 'your runs are safe locally; run agentv results push again';

/**
 * Deliver the local runs to a remote without ever forcing and without
 * losing to other machines pushing at the same moment: fetch and fold the
 * remote's ref and incoming refs locally, then in one atomic push move the
 * remote's results ref forward to the union and delete the incoming refs
 * folded (each only if unchanged). If another machine moved the ref first,
 * push the union to an incoming ref of this push's own instead: nobody else
 * writes that name, so it cannot lose a race, and readers fold it. Only
 * passing remote failures (a lock held) are retried, with jittered backoff,
 * until `timeoutMs` has passed.
 * @example await pushRuns({ store, remote: 'origin', onRetry: (n, why) => log(why) })
 */
export async function pushRuns({
  store,
  remote,
  name = remote,
  timeoutMs = DEFAULT_PUSH_TIMEOUT_MS,
  onRetry,
}: { store: Store; timeoutMs?: number; onRetry?: (attempt: number, why: string) => void } & RemoteSpec): Promise<PushResult> {
  const cwd = store.repo.root;
  const deadline = Date.now() + timeoutMs;
  let merges = 0;
  let last = '';
  for (let attempt = 1; ; attempt++) {
    if (!(await store.tip())) return { remote, result: 'nothing_to_push', commit: null, landed: null, incoming_ref: null, folded: 0, attempts: attempt - 1, merges };
    const { pull, incoming } = await pullDetailed({ store, remote, name }).catch((e) => rethrowSafe(e));
    if (pull.result === 'merged') merges++;
    const tip = (await store.tip())!.commit;
    const done = (landed: 'runs' | 'incoming', incomingRef: string | null, folded: number): PushResult => ({
      remote,
      result: 'pushed',
      commit: tip,
      landed,
      incoming_ref: incomingRef,
      folded,
      attempts: attempt,
      merges,
    });
    if (pull.fetched === tip && incoming.length === 0) {
      return { remote, result: 'up_to_date', commit: tip, landed: 'runs', incoming_ref: null, folded: 0, attempts: attempt, merges };
    }
    // 1. Move the results ref forward and delete what was folded, all or nothing.
    const fold = await pushFold({ cwd, remote, tip, incoming }).catch((e) => rethrowSafe(e));
    if (fold.ok) {
      await setTrackingRef({ cwd, ref: trackingRef(name), oid: tip });
      return done('runs', null, fold.deleted);
    }
    if (!fold.retryable) throw refused(remote, fold.rejected);
    // 2. Another machine moved it first: leave the runs on a ref of our own.
    const ref = incomingName(store.now());
    const own = await pushRefs({ cwd, remote, updates: [{ src: tip, dst: ref, lease: null }] }).catch((e) => rethrowSafe(e));
    if (own.ok) return done('incoming', ref, 0);
    if (!own.retryable) throw refused(remote, own.rejected);
    last = own.rejected.join('; ');
    if (Date.now() >= deadline) break;
    onRetry?.(attempt, last);
    // A lock held on the remote: wait a jittered, growing pause (never past the deadline).
    const pause = Math.random() * Math.min(5_000, 100 * 2 ** Math.min(attempt, 10));
    await new Promise((res) => setTimeout(res, Math.max(0, Math.min(pause, deadline - Date.now()))));
  }
  throw new AgentvError('REMOTE', `push to ${remote} did not land within ${Math.round(timeoutMs / 1000)} s (${last}); ${safe}`, { remote, summary: last });
}

/**
 * The atomic "move the results ref, delete the folded incoming refs" push;
 * without --atomic support in two steps, and without deletions where the
 * remote refuses them.
 */
async function pushFold({ cwd, remote, tip, incoming }: { cwd: string; remote: string; tip: string; incoming: IncomingRef[] }): Promise<PushRefsResult & { deleted: number }> {
  const move = { src: tip, dst: RESULTS_REF };
  const deletes = incoming.map((i) => ({ src: null, dst: i.ref, lease: i.oid }));
  const moveOnly = async () => ({ ...(await pushRefs({ cwd, remote, updates: [move] })), deleted: 0 });
  if (deletes.length === 0) return moveOnly();
  try {
    const r = await pushRefs({ cwd, remote, updates: [move, ...deletes], atomic: true });
    // A remote that refuses deletions (receive.denyDeletes) still takes the runs; its incoming refs stay, harmless.
    return r.ok || r.retryable ? { ...r, deleted: r.ok ? deletes.length : 0 } : await moveOnly();
  } catch (e) {
    if (!(e instanceof AgentvError && e.data.atomic_unsupported)) throw e;
    // Delete only once the results ref holds what was folded; a failed delete leaves a ref the next fold skips.
    const moved = await moveOnly();
    if (!moved.ok) return moved;
    const gone = await pushRefs({ cwd, remote, updates: deletes }).catch(() => null);
    return { ...moved, deleted: gone?.ok ? deletes.length : 0 };
  }
}

function refused(remote: string, rejected: string[]): AgentvError {
  return new AgentvError('REMOTE', `${remote} refused the push of the results: ${rejected.join('; ')}; ${safe}`, { remote, summary: rejected.join('; ') });
}

function rethrowSafe(e: unknown): never {
  if (e instanceof AgentvError && e.code === 'REMOTE') throw new AgentvError('REMOTE', `${e.message}; ${safe}`, e.data);
  throw e;
}

/**
 * Make sure agentv's partial-clone cache of a results repository URL exists,
 * created and filled (trees and commits only) on first use. It is built under
 * a temporary name and renamed, so a half-made cache is never used. With
 * `refresh`, an existing cache pulls from the URL.
 */
export async function ensureMirror({ dir, url, now, refresh = false }: { dir: string; url: string; now: () => Date; refresh?: boolean }): Promise<void> {
  if (existsSync(dir)) {
    if (refresh) await pullInto(dir, now);
    return;
  }
  await fsp.mkdir(path.dirname(dir), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  try {
    await initPartialCache({ dir: tmp, url });
    await pullInto(tmp, now);
    await fsp.rename(tmp, dir).catch((e: NodeJS.ErrnoException) => {
      // Another agentv made the cache at the same moment: use theirs.
      if (!existsSync(dir)) throw e;
    });
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}

async function pullInto(dir: string, now: () => Date): Promise<void> {
  const store = new Store(await openRepo({ cwd: dir }), RESULTS_REF, now);
  try {
    await pullRuns({ store, remote: 'origin' });
  } finally {
    store.close();
  }
}
