// Sharing the results ref through git remotes (SPEC 3.6). Fetches land in a
// tracking ref, refs/agentv/remotes/<remote>/runs/v1, and are merged into the
// local ref by CAS; pushes are plain fast-forwards, and a rejected push is
// answered by fetch, merge, push again, never by force. The user's remote.*
// config is never written, and its refspecs are never used.
import type { PullResult, PushResult } from '../schemas/results.js';
import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { AgentvError } from '../errors.js';
import { fetchObjects, fetchRef, initPartialCache, isPromisor, listRemotes, openRepo, pushRef, setTrackingRef } from '../git/index.js';
import { RESULTS_REF } from './layout.js';
import { mergeRuns } from './merge.js';
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

export interface FetchResult {
  /** The remote's results commit, or null when it has no runs yet. */
  fetched: string | null;
  /** True when blobs were left on the remote (agentv's partial cache). */
  partial: boolean;
}

/** Fetch the remote's results ref into its tracking ref; blob-less in a partial clone. */
export async function fetchRuns({ store, remote, name = remote }: { store: Store } & RemoteSpec): Promise<FetchResult> {
  const cwd = store.repo.root;
  const partial = await isPromisor({ cwd, remote });
  const fetched = await fetchRef({ cwd, remote, src: RESULTS_REF, dst: trackingRef(name), filter: partial ? 'blob:none' : undefined });
  return { fetched, partial };
}

/** The `results pull --json` document (src/schemas/results.ts). */
export type { PullResult };

/**
 * Fetch, then merge into the local ref (fast-forward when possible).
 * @example const r = await pullRuns({ store, remote: 'origin' })
 */
export async function pullRuns({ store, remote, name = remote }: { store: Store } & RemoteSpec): Promise<PullResult> {
  const f = await fetchRuns({ store, remote, name });
  if (!f.fetched) {
    const tip = await store.tip();
    return { remote, result: 'no_remote_runs', commit: tip?.commit ?? null, ...f, new_runs: 0, conflicts: [] };
  }
  const cwd = store.repo.root;
  const m = await mergeRuns({
    store,
    theirs: f.fetched,
    subject: `merge runs from ${name}`,
    prefetch: f.partial ? (oids) => fetchObjects({ cwd, remote, oids }) : undefined,
  });
  return { remote, result: m.kind, commit: m.commit, ...f, new_runs: m.newRuns, conflicts: m.conflicts };
}

/** The `results push --json` document (src/schemas/results.ts). */
export type { PushResult };

/**
 * Push the local ref as a fast-forward. When another machine pushed first:
 * fetch, merge, push again (up to `maxAttempts`, with a small random backoff).
 * @example await pushRuns({ store, remote: 'origin', onRetry: (n, why) => log(why) })
 */
export async function pushRuns({
  store,
  remote,
  name = remote,
  maxAttempts = 10,
  onRetry,
}: { store: Store; maxAttempts?: number; onRetry?: (attempt: number, why: string) => void } & RemoteSpec): Promise<PushResult> {
  const cwd = store.repo.root;
  let merges = 0;
  let last = '';
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const tip = await store.tip();
    if (!tip) return { remote, result: 'nothing_to_push', commit: null, attempts: attempt - 1, merges };
    const r = await pushRef({ cwd, remote, src: RESULTS_REF, dst: RESULTS_REF });
    if (r.status !== 'rejected') {
      await setTrackingRef({ cwd, ref: trackingRef(name), oid: tip.commit });
      return { remote, result: r.status, commit: tip.commit, attempts: attempt, merges };
    }
    last = r.summary;
    if (!r.retryable) throw new AgentvError('REMOTE', `${remote} refused the push of ${RESULTS_REF}: ${r.summary}`, { remote, summary: r.summary });
    onRetry?.(attempt, r.summary);
    const pulled = await pullRuns({ store, remote, name });
    if (pulled.result === 'merged') merges++;
    // Several machines racing: spread the next attempts out.
    await new Promise((res) => setTimeout(res, Math.random() * Math.min(1000, 50 * 2 ** attempt)));
  }
  throw new AgentvError(
    'REMOTE',
    `push to ${remote} still rejected after ${maxAttempts} attempts (${last}): other machines keep pushing; your runs are safe locally, run agentv results push again`,
    { remote, summary: last },
  );
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
