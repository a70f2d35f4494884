// Liveness and recovery. A `running` run whose owner is provably dead reads as
// `interrupted`; the next command that touches it commits any rows its journal
// holds that never reached the ref, marks it interrupted, and drops the journal.
import { isAgentvError } from '../errors.js';
import type { RunStatus } from '../schemas/common.js';
import type { Manifest, SliceRef } from '../schemas/manifest.js';
import { journalPath, localName } from './layout.js';
import { keepDamagedJournal, readJournal, removeJournal } from './journal.js';
import { needsRecovery, slicesToRecover } from './recovery-check.js';
import { describeDamage } from './jsonl.js';
import { acquireRunLock } from './owner.js';
import { markInterrupted } from './lifecycle.js';
import { readManifestAt } from './runs.js';
import { updateRun } from './run-writes.js';
import type { Store } from './store.js';

export interface Recovery {
  recovered: number;
  damaged: number;
  status: RunStatus;
  /** Set when journal lines could not be read: what was lost and where the journal was kept. */
  warning: string | null;
}

/**
 * Commit journaled-but-uncommitted rows of a run whose owner is dead, and mark
 * it interrupted if it still says running. No-op (null) when the owner lives.
 * A sharded run recovers each slice of it that needs it, slice by slice.
 */
export async function recoverRun({ store, runId }: { store: Store; runId: string }): Promise<Recovery | null> {
  const tip = await store.tip();
  const manifest = tip ? await readManifestAt(store, tip.tree, runId) : null;
  if (!manifest || !needsRecovery(store, manifest)) return null;
  if (!manifest.slices) return recoverPart(store, runId, null);
  let total = null as Recovery | null;
  for (const slice of slicesToRecover(store, manifest)) {
    const r = await recoverPart(store, runId, slice);
    if (!r) continue;
    total = {
      recovered: (total?.recovered ?? 0) + r.recovered,
      damaged: (total?.damaged ?? 0) + r.damaged,
      status: r.status,
      warning: [total?.warning, r.warning].filter(Boolean).join('; ') || null,
    };
  }
  return total;
}

/** Recover one run, or one slice of a sharded run (its own lock, journal and part). */
async function recoverPart(store: Store, runId: string, slice: SliceRef | null): Promise<Recovery | null> {
  const name = localName(runId, slice);
  const file = journalPath(store.localDir, name);
  let lock;
  try {
    lock = acquireRunLock({ localDir: store.localDir, runId: name });
  } catch (e) {
    if (isAgentvError(e, 'RUN_LIVE')) return null;
    throw e;
  }
  try {
    const journal = readJournal(file);
    // Damaged lines are said out loud: in the run's events and to the caller;
    // the journal itself is kept (agentv/journal/damaged/) for fsck and for people.
    const warning = journal.bad.length
      ? `${journal.bad.length} journal line(s) of run ${name} could not be read (${describeDamage(journal.bad)}); ` +
        `the journal is kept as agentv/journal/damaged/${name}.jsonl in the git directory`
      : null;
    const { manifest: m, added } = await updateRun({
      store,
      runId,
      update: {
        rows: journal.rows,
        dedupe: true,
        slice,
        subject: `run ${runId}: ${slice ? `slice ${slice.index}/${slice.count} ` : ''}recover journaled rows`,
        manifest: (cur: Manifest, committed) => markInterrupted(cur, committed, store.now().toISOString(), warning ?? undefined),
      },
    });
    if (warning) keepDamagedJournal(file, store.localDir, name);
    else removeJournal(file);
    return { recovered: added, damaged: journal.damaged, status: m!.status, warning };
  } finally {
    lock.release();
  }
}
