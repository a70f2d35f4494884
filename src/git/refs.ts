// Refs move only by compare-and-swap: `git update-ref <ref> <new> <old>` uses
// git's own lock file, so agentv and plain git commands can never both win.
import { statSync } from 'node:fs';
import path from 'node:path';
import { AgentvError } from '../errors.js';
import { runGit } from './exec.js';

export const ZERO_OID = '0000000000000000000000000000000000000000';

/** The object a ref points at, or null when it does not exist. */
export async function readRef({ cwd, ref }: { cwd: string; ref: string }): Promise<string | null> {
  const r = await runGit({ cwd, args: ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], allowFail: true });
  return r.code === 0 ? r.stdout.trim() : null;
}

/**
 * Move `ref` from `oldOid` (null: the ref must not exist) to `newOid`.
 * Returns false when another writer moved it first (the caller re-applies its
 * change on the new tip); throws GIT for any other failure.
 * @example if (!(await updateRefCas({ cwd, ref, newOid, oldOid }))) retry()
 */
export async function updateRefCas({
  cwd,
  ref,
  newOid,
  oldOid,
  message = 'agentv',
}: {
  cwd: string;
  ref: string;
  newOid: string;
  oldOid: string | null;
  message?: string;
}): Promise<boolean> {
  const r = await runGit({
    cwd,
    args: ['update-ref', '-m', message, ref, newOid, oldOid ?? ZERO_OID],
    allowFail: true,
  });
  if (r.code === 0) return true;
  // Lost the race: the ref moved ("is at X but expected Y", "already exists"),
  // or another writer holds the lock right now ("Unable to create ... .lock").
  if (/but expected|already exists|unable to create .*\.lock|cannot lock ref/i.test(r.stderr)) return false;
  throw new AgentvError('GIT', `git update-ref ${ref} failed: ${r.stderr.trim()}`, { ref, stderr: r.stderr });
}

/**
 * A cheap fingerprint of where a ref can live (its loose file and packed-refs):
 * unchanged fingerprint, unchanged ref, so a cache can skip asking git at all.
 * Synchronous on purpose: two stats of hot inodes take microseconds, while the
 * async versions queue on libuv's thread pool behind every other request.
 */
export function refFingerprint({ commonDir, ref }: { commonDir: string; ref: string }): string {
  const one = (file: string) => {
    const s = statSync(file, { bigint: true, throwIfNoEntry: false });
    return s ? `${s.ino}:${s.mtimeNs}:${s.size}` : '-';
  };
  return `${one(path.join(commonDir, ref))}|${one(path.join(commonDir, 'packed-refs'))}`;
}
