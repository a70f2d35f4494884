// `.agentv/config.yaml`: repository-level settings. Only `results` is ours to
// read today; unknown top-level keys are kept (and preserved when agentv
// writes the file), so a newer agentv's settings survive an older one.
import { z } from 'zod';
import { LimitsConfig } from './limits.js';

export const ResultsConfig = z
  .object({
    /** A URL (https://, ssh://, file://, user@host:path) or a path (relative to the repository root). */
    repo: z.string().trim().min(1, 'results.repo must name a URL or a path'),
  })
  .strict();
export type ResultsConfig = z.infer<typeof ResultsConfig>;

export { DEFAULT_LIMITS, LimitsConfig } from './limits.js';

/** Defaults for `agentv eval`; a flag on the command line always wins. */
export const EvalConfig = z
  .object({
    /** Grade the newest earlier output of the same call instead of calling the target (`--reuse`; `--no-reuse` overrides). */
    reuse: z.boolean().optional(),
  })
  .strict();
export type EvalConfig = z.infer<typeof EvalConfig>;

export const AgentvConfig = z.looseObject({
  results: ResultsConfig.optional(),
  limits: LimitsConfig.optional(),
  eval: EvalConfig.optional(),
});
export type AgentvConfig = z.infer<typeof AgentvConfig>;
