// Per-test scratch folders (a cli target's prompt and output files) live under
// <git-common-dir>/agentv/tmp, never in the system temp folder, and are named
// `<pid>-...` after the process that made them. A process removes its own when the
// test settles; whatever a killed process left behind is swept by the next run.
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import os from 'node:os';
import { ownerLiveness } from '../../store/index.js';

/** `<localDir>/tmp`: localDir is the store's `<git-common-dir>/agentv`. */
export function scratchRootOf(localDir: string): string {
  return path.join(localDir, 'tmp');
}

/**
 * Makes a fresh folder for one test and returns it with its remover.
 * @example const s = await makeScratch({ root, prefix: 'cli' }); try { ... } finally { await s.remove() }
 */
export async function makeScratch({ root, prefix }: { root: string; prefix: string }): Promise<{ dir: string; remove: () => Promise<void> }> {
  mkdirSync(root, { recursive: true });
  const dir = await mkdtemp(path.join(root, `${process.pid}-${prefix}-`));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Removes the scratch folders of processes that are gone; returns how many. */
export function sweepScratch({ root }: { root: string }): number {
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of entries) {
    const pid = Number(name.split('-')[0]);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    if (pid === process.pid || ownerLiveness({ host: os.hostname(), pid, boot_id: null, proc_start: null }) !== 'dead') continue;
    rmSync(path.join(root, name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}
