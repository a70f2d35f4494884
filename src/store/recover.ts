// Liveness and recovery. A `running` run whose owner is provably dead reads as
// `interrupted`; the next command that touches it commits any rows its journal
// holds that never reached the ref, marks it interrupted, and drops the journal.
import { existsSync } from 'node:fs';
import os from 'node:os';
import { isAgentvError } from '../errors.js';
import type { RunStatus } from '../schemas/common.js';
import type { Manifest } from '../schemas/manifest.js';
import { journalPath, keepDamagedJournal, readJournal, removeJournal } from './journal.js';
import { describeDamage } from './jsonl.js';
import { acquireRunLock, ownerLiveness, readLockOwner } from './owner.js';
import { markInterrupted } from './lifecycle.js';
import { readManifestAt, updateRun } from './runs.js';
import type { Store } from './store.js';

/** The status a reader should show: `running` only while its owner lives (or cannot be checked). */
export function effectiveStatus(store: Store, run: { run_id: string; status: RunStatus; host?: string }): RunStatus {
  if (run.status !== 'running') return run.status;
  const holder = readLockOwner(store.localDir, run.run_id);
  if (holder && ownerLiveness(holder) !== 'dead') return 'running';
  // Owned by another machine: we cannot see its processes, so we do not guess.
  if (run.host && run.host !== os.hostname()) return 'running';
  return 'interrupted';
}

export interface Recovery {
  recovered: number;
  damaged: number;
  status: RunStatus;
  /** Set when journal lines could not be read: what was lost and where the journal was kept. */
  warning: string | null;
}

/**
 * Whether a run read with this manifest has anything to recover: a `running`
 * run whose owner is dead, or a finished run whose journal was left behind.
 */
export function needsRecovery(store: Store, manifest: Manifest): boolean {
  return manifest.status === 'running'
    ? effectiveStatus(store, manifest) === 'interrupted'
    : existsSync(journalPath(store.localDir, manifest.run_id));
}

/**
 * Commit journaled-but-uncommitted rows of a run whose owner is dead, and mark
 * it interrupted if it still says running. No-op (null) when the owner lives.
 */
export async function recoverRun({ store, runId }: { store: Store; runId: string }): Promise<Recovery | null> {
  const file = journalPath(store.localDir, runId);
  const tip = await store.tip();
  const manifest = tip ? await readManifestAt(store, tip.tree, runId) : null;
  if (!manifest || !needsRecovery(store, manifest)) return null;
  let lock;
  try {
    lock = acquireRunLock({ localDir: store.localDir, runId });
  } catch (e) {
    if (isAgentvError(e, 'RUN_LIVE')) return null;
    throw e;
  }
  try {
    const journal = readJournal(file);
    // Damaged lines are said out loud: in the run's events and to the caller;
    // the journal itself is kept (agentv/journal/damaged/) for fsck and for people.
    const warning = journal.bad.length
      ? `${journal.bad.length} journal line(s) of run ${runId} could not be read (${describeDamage(journal.bad)}); ` +
        `the journal is kept as agentv/journal/damaged/${runId}.jsonl in the git directory`
      : null;
    const { manifest: m, added } = await updateRun({
      store,
      runId,
      update: {
        rows: journal.rows,
        dedupe: true,
        subject: `run ${runId}: recover journaled rows`,
        manifest: (cur: Manifest, committed) => markInterrupted(cur, committed, store.now().toISOString(), warning ?? undefined),
      },
    });
    if (warning) keepDamagedJournal(file, store.localDir, runId);
    else removeJournal(file);
    return { recovered: added, damaged: journal.damaged, status: m!.status, warning };
  } finally {
    lock.release();
  }
}
