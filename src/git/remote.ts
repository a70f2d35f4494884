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
 * Fetch one ref into a local ref (forced: the destination is a tracking ref
 * that only mirrors the remote). Returns the fetched commit, or null when the
 * remote does not have `src`. With `filter`, blobs stay on the remote (only
 * meaningful in a partial clone; a server without filter support sends all).
 * @example await fetchRef({ cwd, remote: 'origin', src: 'refs/agentv/runs/v1', dst: 'refs/agentv/remotes/origin/runs/v1' })
 */
export async function fetchRef({
  cwd,
  remote,
  src,
  dst,
  filter,
}: {
  cwd: string;
  remote: string;
  src: string;
  dst: string;
  filter?: string;
}): Promise<string | null> {
  const args = ['fetch', '--quiet', '--no-tags', '--no-write-fetch-head', '--recurse-submodules=no'];
  if (filter) args.push(`--filter=${filter}`);
  const r = await runGit({ cwd, args: [...args, remote, `+${src}:${dst}`], allowFail: true });
  if (r.code !== 0) {
    if (/couldn't find remote ref/i.test(r.stderr)) return null;
    throw remoteError('fetch from', remote, r.stderr);
  }
  const tip = await runGit({ cwd, args: ['rev-parse', '--verify', '--quiet', `${dst}^{commit}`], allowFail: true });
  return tip.code === 0 ? tip.stdout.trim() : null;
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

export type PushStatus = 'pushed' | 'up_to_date' | 'rejected';

export interface PushResult {
  status: PushStatus;
  /** git's summary for the ref, e.g. "[rejected] (fetch first)". */
  summary: string;
  /** True when another push got there first: fetch, merge and try again. */
  retryable: boolean;
}

/**
 * `git push --porcelain <remote> <src>:<dst>`, never forced. A rejection is a
 * result (the caller merges and retries); a failure to talk to the remote
 * throws REMOTE.
 */
export async function pushRef({ cwd, remote, src, dst }: { cwd: string; remote: string; src: string; dst: string }): Promise<PushResult> {
  const r = await runGit({ cwd, args: ['push', '--porcelain', remote, `${src}:${dst}`], allowFail: true });
  // Porcelain lines: "<flag>\t<from>:<to>\t<summary>"; flag "!" is a rejection.
  const line = r.stdout.split('\n').find((l) => l.includes(`:${dst}\t`));
  if (!line) throw remoteError('push to', remote, r.stderr || r.stdout);
  const [flag, , summary = ''] = line.split('\t');
  if (flag === '=') return { status: 'up_to_date', summary, retryable: false };
  if (flag !== '!') return { status: 'pushed', summary, retryable: false };
  // "fetch first"/"non-fast-forward"/"stale info": the remote moved on. A
  // remote-side lock or old-value failure is a concurrent push landing at the
  // same moment. Anything else (hooks, permissions) will not go away by retrying.
  const retryable = /fetch first|non-fast-forward|stale info|failed to update ref|cannot lock|incorrect old value|failed to lock/i.test(summary);
  return { status: 'rejected', summary, retryable };
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
