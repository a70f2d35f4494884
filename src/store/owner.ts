// Who owns a run, and whether that owner is still alive: detected, not guessed.
// An owner is (host, boot id, pid, process start time): a pid reused after the
// owner died, or a reboot, reads as dead. A run lock is an O_EXCL file in
// <git-common-dir>/agentv/locks; a lock whose owner is dead may be taken over.
import { closeSync, linkSync, openSync, readFileSync, readdirSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureDirSync } from './fs.js';
import { AgentvError } from '../errors.js';
import type { RunStatus } from '../schemas/common.js';
import type { Owner, SliceRef } from '../schemas/manifest.js';
import { localName } from './layout.js';
import type { Store } from './store.js';

function readFirst(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

const bootId = readFirst('/proc/sys/kernel/random/boot_id')?.trim() ?? null;

/** Fields after the command name in /proc/<pid>/stat (state is [0], start time [19]). */
function procStat(pid: number): string[] | null {
  const stat = readFirst(`/proc/${pid}/stat`);
  return stat ? stat.slice(stat.lastIndexOf(')') + 2).split(' ') : null;
}

/** Start time in clock ticks since boot: tells a reused pid from the owner. */
function procStart(pid: number): string | null {
  return procStat(pid)?.[19] ?? null;
}

export function currentOwner(pid = process.pid): Owner {
  return { host: os.hostname(), pid, boot_id: bootId, proc_start: procStart(pid) };
}

export type Liveness = 'alive' | 'dead' | 'unknown';

/** 'unknown' only for an owner on another host: we cannot see its processes. */
export function ownerLiveness(owner: Owner | null): Liveness {
  if (!owner) return 'dead';
  if (owner.host !== os.hostname()) return 'unknown';
  if (owner.boot_id && bootId && owner.boot_id !== bootId) return 'dead';
  try {
    process.kill(owner.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return 'dead';
  }
  const stat = procStat(owner.pid);
  // A zombie answers kill(pid, 0) but is dead (containers whose init does not reap).
  if (stat && (stat[0] === 'Z' || stat[0] === 'X')) return 'dead';
  if (owner.proc_start && stat && stat[19] !== owner.proc_start) return 'dead';
  return 'alive';
}

export interface RunLock {
  owner: Owner;
  release(): void;
}

function lockPath(localDir: string, runId: string): string {
  return path.join(localDir, 'locks', `${runId}.lock`);
}

/** Whether a live local process holds the lock of any slice of a sharded run (locks `<run_id>@<I>-of-<N>`). */
export function liveSliceOwner(localDir: string, runId: string): Owner | null {
  let names: string[];
  try {
    names = readdirSync(path.join(localDir, 'locks'));
  } catch {
    return null;
  }
  for (const n of names) {
    if (!n.startsWith(`${runId}@`) || !n.endsWith('.lock')) continue;
    const holder = readLockOwner(localDir, n.slice(0, -'.lock'.length));
    if (holder && ownerLiveness(holder) === 'alive') return holder;
  }
  return null;
}

export function readLockOwner(localDir: string, runId: string): Owner | null {
  const text = readFirst(lockPath(localDir, runId));
  if (!text) return null;
  try {
    return JSON.parse(text) as Owner;
  } catch {
    return null;
  }
}

/**
 * Take the run's lock, or throw RUN_LIVE naming the live owner. A lock left by a
 * dead owner is moved aside (rename is atomic: of two takers only one wins it).
 */
export function acquireRunLock({ localDir, runId, owner = currentOwner() }: { localDir: string; runId: string; owner?: Owner }): RunLock {
  const file = lockPath(localDir, runId);
  ensureDirSync(path.dirname(file));
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      // Write the content first, then link it into place: link fails if the lock
      // exists, and a reader never sees a half-written lock.
      const tmp = `${file}.${process.pid}.tmp`;
      const fd = openSync(tmp, 'w');
      writeSync(fd, JSON.stringify(owner));
      closeSync(fd);
      try {
        linkSync(tmp, file);
      } finally {
        unlinkSync(tmp);
      }
      let released = false;
      return {
        owner,
        release() {
          if (released) return;
          released = true;
          if (readLockOwner(localDir, runId)?.pid === owner.pid) {
            try {
              unlinkSync(file);
            } catch {
              // already gone
            }
          }
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = readLockOwner(localDir, runId);
    if (holder && ownerLiveness(holder) === 'alive') {
      throw new AgentvError('RUN_LIVE', `run ${runId} is running in process ${holder.pid} on ${holder.host}; stop it first (Ctrl+C there, or Stop in Studio) or wait for it to finish`, {
        run_id: runId,
        owner: holder,
      });
    }
    try {
      renameSync(file, `${file}.stale.${process.pid}.${attempt}`);
      unlinkSync(`${file}.stale.${process.pid}.${attempt}`);
    } catch {
      // another process took it over first; try again
    }
  }
  throw new AgentvError('RUN_LOCKED', `could not take the lock of run ${runId}`, { run_id: runId });
}

/**
 * The status a reader should show: `running` only while its owner lives (or
 * cannot be checked). `run` is a run (its manifest or index row) or a slice's
 * part (`slice` set: its own lock); a sharded run runs while any local slice's
 * owner lives, or while a slice on another machine says it runs.
 */
export function effectiveStatus(store: Store, run: { run_id: string; status: RunStatus; host?: string; slice?: SliceRef | undefined }): RunStatus {
  if (run.status !== 'running') return run.status;
  const holder = readLockOwner(store.localDir, localName(run.run_id, run.slice));
  if (holder && ownerLiveness(holder) !== 'dead') return 'running';
  if (!run.slice && liveSliceOwner(store.localDir, run.run_id)) return 'running';
  // Owned by another machine: we cannot see its processes, so we do not guess.
  if (run.host && run.host !== os.hostname()) return 'running';
  return 'interrupted';
}
