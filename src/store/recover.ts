// Liveness and recovery. A `running` run whose owner is provably dead reads as
// `interrupted`; the next command that touches it commits any rows its journal
// holds that never reached the ref, marks it interrupted, and drops the journal.
import { existsSync } from 'node:fs';
import { isAgentvError } from '../errors.js';
import type { RunStatus } from '../schemas/common.js';
import type { Manifest, SliceRef } from '../schemas/manifest.js';
import { localName } from './layout.js';
import { journalPath, keepDamagedJournal, readJournal, removeJournal } from './journal.js';
import { describeDamage } from './jsonl.js';
import { acquireRunLock, effectiveStatus } from './owner.js';
import { markInterrupted } from './lifecycle.js';
import { readManifestAt, updateRun } from './runs.js';
import type { Store } from './store.js';

export interface Recovery {
  recovered: number;
  damaged: number;
  status: RunStatus;
  /** Set when journal lines could not be read: what was lost and where the journal was kept. */
  warning: string | null;
}

/** The slices of a sharded run that have something to recover here (none for an ordinary run). */
function slicesToRecover(store: Store, manifest: Manifest): SliceRef[] {
  const count = manifest.slices?.count;
  if (!count) return [];
  const out: SliceRef[] = [];
  for (const s of manifest.slices!.arrived) {
    const slice = { index: s.index, count };
    const dead = s.status === 'running' && effectiveStatus(store, { run_id: manifest.run_id, status: s.status, host: s.host, slice }) === 'interrupted';
    if (dead || existsSync(journalPath(store.localDir, localName(manifest.run_id, slice)))) out.push(slice);
  }
  return out;
}

/**
 * Whether a run read with this manifest has anything to recover: a `running`
 * run whose owner is dead, or a finished run whose journal was left behind;
 * for a sharded run, any slice of it in that state.
 */
export function needsRecovery(store: Store, manifest: Manifest): boolean {
  if (manifest.slices) return slicesToRecover(store, manifest).length > 0;
  return manifest.status === 'running'
    ? effectiveStatus(store, manifest) === 'interrupted'
    : existsSync(journalPath(store.localDir, manifest.run_id));
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
