// `limits:` in `.agentv/config.yaml` (SPEC 2.1a): how large a suite or tests file may be,
// how many YAML aliases a document may expand, how long one assertion may take. Each has
// a default, so a partial block is fine; an unknown key is a config error, not ignored.
import { z } from 'zod';

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
