// Talking to remotes: fetch and push with explicit refspecs only. Nothing here
// reads or writes the user's `remote.*` config (except in agentv's own cache
// repositories, through initPartialCache), and a push is never forced.
import path from 'node:path';
import { AgentvError } from '../errors.js';
import { runGit } from './exec.js';

/** Names of the configured remotes, in `git remote` order. */
export async function listRemotes({ cwd }: { cwd: string }): Promise<string[]> {
  const r = await runGit({ cwd, args: ['remote'] });
  return r.stdout.split('\n').filter(Boolean);
}

/** Whether `remote` serves missing objects on demand (a partial clone's promisor). */
export async function isPromisor({ cwd, remote }: { cwd: string; remote: string }): Promise<boolean> {
  const r = await runGit({ cwd, args: ['config', '--bool', '--get', `remote.${remote}.promisor`], allowFail: true });
  return r.stdout.trim() === 'true';
}

function remoteError(action: string, remote: string, stderr: string): AgentvError {
  const why = stderr
    .split('\n')
    .map((l) => l.replace(/^(fatal|error): /, '').trim())
    .filter((l) => l && !l.startsWith('hint:'))
    .slice(0, 3)
    .join('; ');
  return new AgentvError('REMOTE', `${action} ${remote} failed: ${why || 'unknown error'}`, { remote, stderr });
}

/**
 * Fetch specific objects from a promisor remote in one round trip (what git
 * does lazily for one object at a time), e.g. the blobs of one run.
 */
export async function fetchObjects({ cwd, remote, oids }: { cwd: string; remote: string; oids: string[] }): Promise<void> {
  if (oids.length === 0) return;
  const r = await runGit({
    cwd,
    args: ['-c', 'fetch.negotiationAlgorithm=noop', 'fetch', '--quiet', '--no-tags', '--no-write-fetch-head', '--recurse-submodules=no', '--filter=blob:none', '--stdin', remote],
    input: `${oids.join('\n')}\n`,
    allowFail: true,
  });
  if (r.code !== 0) throw remoteError('fetch objects from', remote, r.stderr);
}

/**
 * Fetch several refs in one round trip with explicit refspecs (`+src:dst`,
 * globs allowed), forced into tracking refs and, with `prune`, removing
 * tracking refs under a glob's destination whose source is gone. Returns
 * 'missing' when a non-glob source does not exist on the remote.
 * @example await fetchRefs({ cwd, remote, refspecs: ['+refs/agentv/incoming/*:refs/agentv/remotes/origin/incoming/*'], prune: true })
 */
export async function fetchRefs({
  cwd,
  remote,
  refspecs,
  filter,
  prune = false,
}: {
  cwd: string;
  remote: string;
  refspecs: string[];
  filter?: string;
  prune?: boolean;
}): Promise<'ok' | 'missing'> {
  const args = ['fetch', '--quiet', '--no-tags', '--no-write-fetch-head', '--recurse-submodules=no'];
  if (prune) args.push('--prune');
  if (filter) args.push(`--filter=${filter}`);
  const r = await runGit({ cwd, args: [...args, remote, ...refspecs], allowFail: true });
  if (r.code === 0) return 'ok';
  if (/couldn't find remote ref/i.test(r.stderr)) return 'missing';
  throw remoteError('fetch from', remote, r.stderr);
}

/**
 * Delete `ref` only if it still points at `oldOid` (compare-and-swap), so a
 * ref updated meanwhile is kept. Returns false when it moved or is gone.
 */
export async function deleteRefCas({ cwd, ref, oldOid }: { cwd: string; ref: string; oldOid: string }): Promise<boolean> {
  const r = await runGit({ cwd, args: ['update-ref', '-m', 'agentv: folded', '-d', ref, oldOid], allowFail: true });
  if (r.code === 0) return true;
  if (/but expected|unable to resolve|cannot lock ref|unable to create .*\.lock|no such ref|could not read ref/i.test(r.stderr)) return false;
  throw new AgentvError('GIT', `git update-ref -d ${ref} failed: ${r.stderr.trim()}`, { ref, stderr: r.stderr });
}

/** The commits of `oids` that no other of them reaches (`git merge-base --independent`). */
export async function independentCommits({ cwd, oids }: { cwd: string; oids: string[] }): Promise<string[]> {
  const unique = [...new Set(oids)];
  if (unique.length <= 1) return unique;
  const r = await runGit({ cwd, args: ['merge-base', '--independent', ...unique] });
  const heads = new Set(r.stdout.split('\n').filter(Boolean));
  // Keep the caller's order (git prints them in its own).
  return unique.filter((o) => heads.has(o));
}

/** One ref update of a multi-ref push: `src` null deletes `dst`; `lease` is the value `dst` must still have (null: must not exist). */
export interface RefUpdate {
  src: string | null;
  dst: string;
  lease?: string | null;
}

export interface PushRefsResult {
  /** Every update was applied (with `atomic`, all or none are). */
  ok: boolean;
  /** The summaries of the rejected updates, e.g. "[rejected] (stale info)". */
  rejected: string[];
  /** True when every rejection is a race with another writer (retry later, or elsewhere). */
  retryable: boolean;
}

const RACE = /fetch first|non-fast-forward|stale info|failed to update ref|cannot lock|incorrect old value|failed to lock|atomic push failed|atomic transaction failed/i;

/**
 * One `git push --porcelain [--atomic]` of several updates, never forced:
 * creations and fast-forwards as usual, deletions guarded by
 * `--force-with-lease=<dst>:<lease>` so a ref that moved since it was read is
 * kept. A remote that cannot do atomic pushes throws REMOTE with code data
 * `atomic_unsupported`; callers fall back to one update per push.
 */
export async function pushRefs({ cwd, remote, updates, atomic = false }: { cwd: string; remote: string; updates: RefUpdate[]; atomic?: boolean }): Promise<PushRefsResult> {
  const args = ['push', '--porcelain'];
  if (atomic) args.push('--atomic');
  for (const u of updates) if (u.lease !== undefined) args.push(`--force-with-lease=${u.dst}:${u.lease ?? ''}`);
  const specs = updates.map((u) => `${u.src ?? ''}:${u.dst}`);
  const r = await runGit({ cwd, args: [...args, remote, ...specs], allowFail: true });
  if (atomic && /does not support --atomic/i.test(r.stderr)) {
    throw new AgentvError('REMOTE', `${remote} does not support atomic pushes`, { remote, atomic_unsupported: true });
  }
  const lines = r.stdout.split('\n').filter((l) => /^[ +\-*=!]\t/.test(l));
  const byDst = new Map(lines.map((l) => [l.split('\t')[1]!.replace(/^.*:/, ''), l] as const));
  if (updates.some((u) => !byDst.has(u.dst))) throw remoteError('push to', remote, r.stderr || r.stdout);
  const rejected = lines.filter((l) => l.startsWith('!')).map((l) => l.split('\t')[2] ?? '');
  if (r.code !== 0 && rejected.length === 0) throw remoteError('push to', remote, r.stderr || r.stdout);
  return { ok: rejected.length === 0, rejected, retryable: rejected.length > 0 && rejected.every((s) => RACE.test(s)) };
}

/** True when `ancestor` is reachable from `descendant`. */
export async function isAncestor({ cwd, ancestor, descendant }: { cwd: string; ancestor: string; descendant: string }): Promise<boolean> {
  const r = await runGit({ cwd, args: ['merge-base', '--is-ancestor', ancestor, descendant], allowFail: true });
  if (r.code === 0) return true;
  if (r.code === 1) return false;
  throw new AgentvError('GIT', `git merge-base failed: ${r.stderr.trim()}`, { ancestor, descendant });
}

/** Point a ref at `oid` unconditionally: only for tracking refs agentv owns. */
export async function setTrackingRef({ cwd, ref, oid }: { cwd: string; ref: string; oid: string }): Promise<void> {
  await runGit({ cwd, args: ['update-ref', '-m', 'agentv: track remote', ref, oid] });
}

/**
 * Create agentv's own bare cache of a remote results repository as a partial
 * clone (blobs fetched on demand from `url`). This config is the cache's own,
 * never the user's repository's.
 */
export async function initPartialCache({ dir, url, filter = 'blob:none' }: { dir: string; url: string; filter?: string }): Promise<void> {
  await runGit({ cwd: path.dirname(dir), args: ['init', '--quiet', '--bare', dir] });
  const set = (k: string, v: string) => runGit({ cwd: dir, args: ['config', k, v] });
  await set('remote.origin.url', url);
  await set('core.repositoryFormatVersion', '1');
  await set('extensions.partialClone', 'origin');
  await set('remote.origin.promisor', 'true');
  await set('remote.origin.partialCloneFilter', filter);
}
