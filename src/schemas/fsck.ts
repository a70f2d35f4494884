// `agentv results fsck --json`: what was checked on the results ref and every
// problem found, each named (ref, object, file, run, lines) so a person or a
// script can find it; `repaired` lists what --repair rebuilt.
import { z } from 'zod';

export const FsckProblemKind = z.enum([
  /** The ref names a commit that is missing or is not a commit. */
  'bad_tip',
  /** An object reachable from the ref is missing. */
  'missing_object',
  /** git could not read the history (a corrupt object stops the walk). */
  'unreadable_history',
  /** A tree on the ref is missing, malformed or laid out where no run can live. */
  'bad_tree',
  /** A run directory without a readable, valid manifest. */
  'bad_manifest',
  /** A row chunk with lines that do not parse, or a chunk blob that is missing. */
  'damaged_rows',
  /**
   * A run's results digest (digest.json) that does not parse, or that covers the
   * run's row chunks but disagrees with its rows (derivable: --repair rebuilds it).
   */
  'bad_digest',
  /** An index file with damaged lines. */
  'damaged_index',
  /** The index disagrees with the manifests (derivable: --repair rebuilds it). */
  'index_drift',
  /** The call index (index/calls/) disagrees with the runs' rows (derivable: --repair rebuilds it). */
  'call_index_drift',
  /** A ref under refs/agentv/incoming/ that cannot be read. */
  'bad_incoming_ref',
  /** Journal lines that do not parse. */
  'damaged_journal',
  /** Journaled rows of a run whose owner is gone, not yet committed (--repair commits them). */
  'pending_journal',
  /** A journal for a run the ref does not have. */
  'orphan_journal',
  /** A damaged journal kept after recovery, waiting to be looked at and removed. */
  'kept_damaged_journal',
]);
export type FsckProblemKind = z.infer<typeof FsckProblemKind>;

export const FsckProblem = z.object({
  kind: FsckProblemKind,
  message: z.string(),
  ref: z.string().optional(),
  object: z.string().optional(),
  /** A path on the ref (runs/.../rows/000001.jsonl) or, for journals, below the git directory. */
  file: z.string().optional(),
  run_id: z.string().optional(),
  lines: z.array(z.number().int().positive()).optional(),
  /** Whether --repair can fix it without losing anything. */
  repairable: z.boolean(),
});
export type FsckProblem = z.infer<typeof FsckProblem>;

export const FsckReport = z.object({
  ref: z.string(),
  tip: z.string().nullable(),
  object_format: z.enum(['sha1', 'sha256']),
  checked: z.object({
    commits: z.number().int().nonnegative(),
    objects: z.number().int().nonnegative(),
    runs: z.number().int().nonnegative(),
    row_chunks: z.number().int().nonnegative(),
    index_rows: z.number().int().nonnegative(),
    incoming_refs: z.number().int().nonnegative(),
    journals: z.number().int().nonnegative(),
  }),
  /** Problems found (after --repair: the ones left). */
  problems: z.array(FsckProblem),
  /** What --repair fixed (empty without --repair). */
  repaired: z.array(FsckProblem),
  ok: z.boolean(),
});
export type FsckReport = z.infer<typeof FsckReport>;
