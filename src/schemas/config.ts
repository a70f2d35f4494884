// `.agentv/config.yaml`: repository-level settings. Only `results` is ours to
// read today; unknown top-level keys are kept (and preserved when agentv
// writes the file), so a newer agentv's settings survive an older one.
import { z } from 'zod';

export const ResultsConfig = z
  .object({
    /** A URL (https://, ssh://, file://, user@host:path) or a path (relative to the repository root). */
    repo: z.string().trim().min(1, 'results.repo must name a URL or a path'),
  })
  .strict();
export type ResultsConfig = z.infer<typeof ResultsConfig>;

/** `limits:` (SPEC 2.1a); each has a default, so a partial block is fine. */
export const LimitsConfig = z.strictObject({
  /** A suite file or tests file, in bytes. */
  suite_bytes: z.number().int().positive().default(50_000_000),
  /** Each regex, javascript, python or script assertion (and code grader), in ms. */
  assertion_timeout_ms: z.number().int().positive().default(30_000),
  /** YAML alias expansions per document. */
  yaml_aliases: z.number().int().nonnegative().default(10_000),
});
export type LimitsConfig = z.infer<typeof LimitsConfig>;
export const DEFAULT_LIMITS: LimitsConfig = LimitsConfig.parse({});

export const AgentvConfig = z.looseObject({
  results: ResultsConfig.optional(),
  limits: LimitsConfig.optional(),
});
export type AgentvConfig = z.infer<typeof AgentvConfig>;
