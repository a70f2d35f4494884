// `agentv regrade --json`: the `eval --json` summary of the run after the
// re-grade, plus how many stored outputs were graded again (SPEC 3.9).
import { z } from 'zod';
import { EvalSummary } from './api.js';

export const RegradeJson = EvalSummary.extend({ regraded_count: z.number().int().nonnegative() });
export type RegradeJson = z.infer<typeof RegradeJson>;
