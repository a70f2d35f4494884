// Refs move only by compare-and-swap: `git update-ref <ref> <new> <old>` uses
// git's own lock file, so agentv and plain git commands can never both win.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { AgentvError } from '../errors.js';
import { gitEnv, runGit } from './exec.js';


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
  return lostRace(ref, r.stderr);
}

/**
 * What git's refusal to move `ref` means: false when another writer won (the
 * ref moved: "is at X but expected Y", "already exists"; or holds the lock right
 * now: "Unable to create ... .lock"); REF_LOCKED for a leftover lock file; GIT
 * for anything else.
 */
function lostRace(ref: string, stderr: string): false {
  const lock = /unable to create '([^']+\.lock)'/i.exec(stderr)?.[1];
  if (lock) staleLockCheck(lock, ref);
  if (/but expected|already exists|unable to create .*\.lock|cannot lock ref/i.test(stderr)) return false;
  throw new AgentvError('GIT', `git update-ref ${ref} failed: ${stderr.trim()}`, { ref, stderr });
}

const liveUpdaters = new Set<RefUpdater>();
process.once('exit', () => {
  for (const u of liveUpdaters) u.close();
});

/**
 * updateRefCas through one long-lived `git update-ref --stdin` process: each
 * move is one transaction (start, update <ref> <new> <old>, prepare, commit)
 * under git's own ref lock, exactly what `git update-ref <ref> <new> <old>`
 * does, without a process start per commit (on a busy 2-core machine a spawn
 * from a large Node process costs more than the update). Moves are serialized.
 * A transaction git refuses ends the process ("fatal: ..." on stderr): the
 * answer is read from that message as updateRefCas reads it, and the next move
 * starts a fresh process. close() ends it; nothing outlives the owner.
 */
export class RefUpdater {
  private child: ChildProcessWithoutNullStreams | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private legacy = false;
  /** Number of processes started; a test hook. */
  spawned = 0;

  /** `zeroOid`: the object format's all-zero id ("must not exist" as an old value). */
  constructor(
    private readonly cwd: string,
    private readonly zeroOid: string,
  ) {}

  /** Move `ref` from `oldOid` (null: must not exist) to `newOid`; false when another writer moved it first. */
  cas({ ref, newOid, oldOid }: { ref: string; newOid: string; oldOid: string | null }): Promise<boolean> {
    if (/\s/.test(ref + newOid + (oldOid ?? ''))) return Promise.reject(new AgentvError('USAGE', `invalid ref update of ${JSON.stringify(ref)}`));
    const next = this.chain.then(() => this.transaction(ref, newOid, oldOid ?? this.zeroOid));
    this.chain = next.catch(() => undefined);
    return next;
  }

  close(): void {
    const child = this.child;
    if (!child) return;
    this.child = null;
    liveUpdaters.delete(this);
    child.stdin.end();
    child.kill();
  }

  private transaction(ref: string, newOid: string, oldOid: string): Promise<boolean> {
    if (this.legacy) return updateRefCas({ cwd: this.cwd, ref, newOid, oldOid: oldOid === this.zeroOid ? null : oldOid });
    const child = this.ensure();
    const hold = (on: boolean) => {
      for (const h of [child, child.stdout, child.stderr] as unknown as { ref?: () => void; unref?: () => void }[]) (on ? h.ref : h.unref)?.call(h);
    };
    return new Promise<boolean>((resolve, reject) => {
      let out = '';
      let err = '';
      const done = () => {
        child.stdout.off('data', onOut);
        child.stderr.off('data', onErr);
        child.off('close', onExit);
        child.off('error', onExit);
        hold(false);
      };
      const onOut = (d: string) => {
        out += d;
        if (/(^|\n)commit: ok\n/.test(out)) {
          done();
          resolve(true);
        }
      };
      const onErr = (d: string) => (err = (err + d).slice(-4000));
      const onExit = () => {
        done();
        if (this.child === child) {
          this.child = null;
          liveUpdaters.delete(this);
        }
        // A git without transactions on --stdin (before 2.28): one process per move, as before.
        if (/unknown command/i.test(err)) {
          this.legacy = true;
          updateRefCas({ cwd: this.cwd, ref, newOid, oldOid: oldOid === this.zeroOid ? null : oldOid }).then(resolve, reject);
          return;
        }
        try {
          resolve(lostRace(ref, err || 'git update-ref --stdin exited'));
        } catch (e) {
          reject(e);
        }
      };
      child.stdout.on('data', onOut);
      child.stderr.on('data', onErr);
      // 'close', not 'exit': stderr is read to its end by then.
      child.once('close', onExit);
      child.once('error', onExit);
      // Hold the event loop open only while an answer is awaited: the process
      // too, not only its output (a refused move is answered by its exit).
      hold(true);
      child.stdin.write(`start\nupdate ${ref} ${newOid} ${oldOid}\nprepare\ncommit\n`);
    });
  }

  private ensure(): ChildProcessWithoutNullStreams {
    if (this.child) return this.child;
    const child = spawn('git', ['update-ref', '-m', 'agentv', '--stdin'], { cwd: this.cwd, env: gitEnv(), stdio: 'pipe' });
    this.spawned++;
    this.child = child;
    liveUpdaters.add(this);
    // An idle updater must never keep a finished command alive.
    child.unref();
    for (const s of [child.stdin, child.stdout, child.stderr] as unknown as { unref?: () => void }[]) s.unref?.();
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdin.on('error', () => undefined); // a process that died is seen through 'exit'
    return child;
  }
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
