// `limits:` in `.agentv/config.yaml` (SPEC 2.1a): how large a suite or tests file may be,
// how many YAML aliases a document may expand, how long one assertion may take.
import { z } from 'zod';

export const SuiteLimits = z.looseObject({
  suite_bytes: z.number().int().positive().default(50_000_000),
  assertion_timeout_ms: z.number().int().positive().default(30_000),
  yaml_aliases: z.number().int().nonnegative().default(10_000),
});
export type SuiteLimits = z.infer<typeof SuiteLimits>;
