// Connectivity of a ref's history, for `agentv results fsck`: every object
// reachable from a tip, which of them are missing, and whether git could read
// them at all (a corrupt loose object stops rev-list with its own message).
import { runGit } from './exec.js';

export interface Reachability {
  /** Commits reachable from the tip (0 when the walk failed). */
  commits: number;
  /** Reachable objects of every type that are present. */
  objects: number;
  /** Ids git could not find (a partial clone's blobs are left out: they live on the remote). */
  missing: string[];
  /** Why the walk stopped, in git's words, or null when it finished. */
  error: string | null;
}

/** Whether the repository is a partial clone (blobs may live on a promisor remote). */
export async function isPartialClone({ cwd }: { cwd: string }): Promise<boolean> {
  const r = await runGit({ cwd, args: ['config', '--get', 'extensions.partialClone'], allowFail: true });
  return r.code === 0 && r.stdout.trim() !== '';
}

/**
 * Walk everything reachable from `tip` without fetching anything.
 * @example const r = await reachable({ cwd, tip: 'refs/agentv/runs/v1' })
 */
export async function reachable({ cwd, tip }: { cwd: string; tip: string }): Promise<Reachability> {
  const partial = await isPartialClone({ cwd });
  const r = await runGit({
    cwd,
    args: ['rev-list', '--objects', partial ? '--missing=allow-promisor' : '--missing=print', '--end-of-options', tip],
    allowFail: true,
  });
  if (r.code !== 0) {
    const why = r.stderr.trim().split('\n').filter(Boolean);
    return { commits: 0, objects: 0, missing: [], error: why[why.length - 1]?.replace(/^fatal: /, '') ?? `git rev-list exited ${r.code}` };
  }
  const missing: string[] = [];
  let objects = 0;
  for (const line of r.stdout.split('\n')) {
    if (!line) continue;
    if (line.startsWith('?')) missing.push(line.slice(1).trim());
    else objects++;
  }
  const count = await runGit({ cwd, args: ['rev-list', '--count', '--end-of-options', tip], allowFail: true });
  return { commits: count.code === 0 ? Number(count.stdout.trim()) : 0, objects, missing, error: null };
}
