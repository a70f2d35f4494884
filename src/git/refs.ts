// Refs move only by compare-and-swap: `git update-ref <ref> <new> <old>` uses
// git's own lock file, so agentv and plain git commands can never both win.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { AgentvError } from '../errors.js';
import { runGit } from './exec.js';


/** The object a ref points at, or null when it does not exist. */
export async function readRef({ cwd, ref }: { cwd: string; ref: string }): Promise<string | null> {
  const r = await runGit({ cwd, args: ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], allowFail: true });
  return r.code === 0 ? r.stdout.trim() : null;
}

/**
 * The id a ref names, without checking that the object exists (readRef does):
 * tells "no such ref" from "the ref points at a missing object".
 */
export async function refTarget({ cwd, ref }: { cwd: string; ref: string }): Promise<string | null> {
  const r = await runGit({ cwd, args: ['rev-parse', '--verify', '--quiet', '--end-of-options', ref], allowFail: true });
  return r.code === 0 ? r.stdout.trim() : null;
}

/**
 * False only when no ref under `prefix` (ending in "/") can exist: no loose
 * ref directory for it, no packed ref naming it, and the files ref backend
 * (a reftable repository is always asked). Lets a reader skip starting
 * `git for-each-ref` for refs that are almost always absent.
 */
export function mayHaveRefs({ commonDir, prefix }: { commonDir: string; prefix: string }): boolean {
  if (existsSync(path.join(commonDir, 'reftable')) || existsSync(path.join(commonDir, prefix))) return true;
  let packed: string;
  try {
    packed = readFileSync(path.join(commonDir, 'packed-refs'), 'utf8');
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ENOENT';
  }
  return packed.includes(` ${prefix}`);
}

/** Refs under a prefix (e.g. refs/agentv/incoming/) and the ids they name. */
export async function listRefs({ cwd, prefix }: { cwd: string; prefix: string }): Promise<{ ref: string; oid: string }[]> {
  const r = await runGit({ cwd, args: ['for-each-ref', '--format=%(objectname) %(refname)', prefix], allowFail: true });
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => ({ oid: l.slice(0, l.indexOf(' ')), ref: l.slice(l.indexOf(' ') + 1) }));
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
    // An empty old value means "must not exist" in either object format.
    args: ['update-ref', '-m', message, ref, newOid, oldOid ?? ''],
    allowFail: true,
  });
  if (r.code === 0) return true;
  const lock = /unable to create '([^']+\.lock)'/i.exec(r.stderr)?.[1];
  if (lock) staleLockCheck(lock, ref);
  // Lost the race: the ref moved ("is at X but expected Y", "already exists"),
  // or another writer holds the lock right now ("Unable to create ... .lock").
  if (/but expected|already exists|unable to create .*\.lock|cannot lock ref/i.test(r.stderr)) return false;
  throw new AgentvError('GIT', `git update-ref ${ref} failed: ${r.stderr.trim()}`, { ref, stderr: r.stderr });
}

/** Git holds a ref lock for milliseconds; one this old was left by a process that died. */
export const STALE_LOCK_MS = 5_000;

/**
 * A lock file older than STALE_LOCK_MS is not a concurrent writer: retrying
 * cannot win, so say which file it is and how to clear it.
 */
function staleLockCheck(lock: string, ref: string): void {
  const s = statSync(lock, { throwIfNoEntry: false });
  if (!s) return;
  const age = Date.now() - s.mtimeMs;
  if (age < STALE_LOCK_MS) return;
  throw new AgentvError(
    'REF_LOCKED',
    `${ref} is locked by a leftover lock file ${lock} (${Math.round(age / 1000)} s old): a git or agentv process ended while holding it. ` +
      `If no git or agentv command is running on this repository, remove it: rm '${lock}'`,
    { ref, lock },
  );
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
