// Whether a run as read has something to recover (recover.ts does it): asked
// by every reader of a run, so it loads none of the recovery's write path.
import { existsSync } from 'node:fs';
import type { Manifest, SliceRef } from '../schemas/manifest.js';
import { journalPath, localName } from './layout.js';
import { effectiveStatus } from './owner.js';
import type { Store } from './store.js';

/** The slices of a sharded run that have something to recover here (none for an ordinary run). */
export function slicesToRecover(store: Store, manifest: Manifest): SliceRef[] {
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
