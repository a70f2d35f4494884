// The --json documents of `agentv results push|pull|sync|promote|link`.
import { z } from 'zod';
import { RunId } from './common.js';

export const PushResult = z.object({
  remote: z.string(),
  result: z.enum(['pushed', 'up_to_date', 'nothing_to_push']),
  commit: z.string().nullable(),
  /**
   * Where the runs landed: `runs` (the remote's results ref moved to this commit)
   * or `incoming` (another machine moved it first; the runs are in `incoming_ref`,
   * which every reader and the next writer fold in).
   */
  landed: z.enum(['runs', 'incoming']).nullable(),
  incoming_ref: z.string().nullable(),
  /** Incoming refs of other machines this push folded into the results ref (and deleted). */
  folded: z.number().int().nonnegative(),
  /** Push attempts made; more than one means a push failed for a passing reason (a remote lock) and was retried. */
  attempts: z.number().int().nonnegative(),
  /** Merges made locally before pushing (with the remote's ref and its incoming refs). */
  merges: z.number().int().nonnegative(),
});
export type PushResult = z.infer<typeof PushResult>;

export const PullResult = z.object({
  remote: z.string(),
  result: z.enum(['up_to_date', 'fast_forward', 'merged', 'no_remote_runs']),
  /** The remote's results commit, or null when it has no runs yet. */
  fetched: z.string().nullable(),
  /** How many incoming refs (runs pushed by machines that lost a race) were merged along. */
  incoming: z.number().int().nonnegative(),
  /** True when blobs were left on the remote (agentv's partial cache). */
  partial: z.boolean(),
  /** The local results ref afterwards. */
  commit: z.string().nullable(),
  /** How many more runs the local index lists afterwards. */
  new_runs: z.number().int(),
  /** Runs present on both sides with different content (merged as one run). */
  conflicts: z.array(z.string()),
});
export type PullResult = z.infer<typeof PullResult>;

export const SyncResult = z.object({ remote: z.string(), pull: PullResult, push: PushResult });
export type SyncResult = z.infer<typeof SyncResult>;

export const PromoteResult = z.object({
  to: z.string(),
  kind: z.enum(['path', 'url']),
  /** What was written to results.repo in .agentv/config.yaml. */
  config_value: z.string(),
  push: PushResult,
});
export type PromoteResult = z.infer<typeof PromoteResult>;

export const LinkResult = z.object({
  run_id: RunId,
  /** The commit the link is about (before any amend). */
  commit: z.string(),
  mode: z.enum(['trailer', 'note', 'already_linked']),
  /** For `trailer`: the amended commit HEAD now points at. */
  new_commit: z.string().nullable(),
});
export type LinkResult = z.infer<typeof LinkResult>;
